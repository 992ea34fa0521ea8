/**
 * The command starts fast (`npm run bench:startup` measures it) because no
 * heavy package loads with it: TensorFlow.js, the charting libraries,
 * espruino-tools, protobufjs and pngjs are imported where they are used, on
 * first use. This follows the static value imports from cli/main.ts through
 * the sources (type-only imports are erased by the build) and names any
 * heavy package reached, with the chain of files that reaches it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
/** Packages that cost tens to hundreds of milliseconds to load. */
const HEAVY = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  'vega',
  'vega-lite',
  'espruino',
  'protobufjs',
  'pngjs',
];

/** The static imports of a file that load at run time: `import type` and all-`type` braces are erased. */
function valueImports(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/^import\s+(type\s+)?([^'"]*?)\s*from\s*'([^']+)'|^import\s+'([^']+)'/gm)].flatMap((m) => {
    if (m[4]) return [m[4]];
    if (m[1]) return [];
    const braces = /^\{([^}]*)\}$/.exec(m[2]!.trim());
    const allTypes = braces && braces[1]!.split(',').every((s) => s.trim() === '' || s.trim().startsWith('type '));
    return allTypes ? [] : [m[3]!];
  });
}

/** Every package reached from `entry` by value imports, with the chain of files to it. */
function packagesReached(entry: string): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  const seen = new Set<string>();
  const visit = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of valueImports(file)) {
      if (spec.startsWith('.')) visit(path.relative(root, path.resolve(root, path.dirname(file), spec)), [...chain, file]);
      else if (!spec.startsWith('node:') && !reached.has(spec)) reached.set(spec, [...chain, file]);
    }
  };
  visit(entry, []);
  return reached;
}

describe("the command's start", () => {
  it('loads no heavy package: each is imported on first use', () => {
    const reached = packagesReached('cli/main.ts');
    // The walk sees the light ones the command does load.
    expect([...reached.keys()]).toContain('commander');
    const heavy = [...reached].filter(([spec]) => HEAVY.some((h) => spec === h || spec.startsWith(`${h}/`)));
    expect(heavy.map(([spec, chain]) => `${spec} through ${chain.join(' -> ')}`)).toEqual([]);
  });
});
