/**
 * The folders follow the pipeline (docs/ARCHITECTURE.md): a folder imports
 * only itself and the folders before it, and bench/ and scripts/ import no
 * test and no command line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
/** In pipeline order: each may import the ones before it. */
export const LAYERS = [
  'core',
  'data',
  'reference',
  'quantize',
  'trainer',
  'importers',
  'native',
  'parity',
  'codegen',
  'firmware',
  'pipeline',
  'report',
  'api',
  'cli',
];

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('wasm'))
    .map((f) => path.join(dir, f));
}

/** The repository folder of every relative import of a file. */
function importedFolders(file: string): { spec: string; folder: string }[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => {
    const target = path.relative(root, path.resolve(path.dirname(path.join(root, file)), m[1]!));
    return { spec: m[1]!, folder: target.split(path.sep)[0]! };
  });
}

describe('the folders follow the pipeline', () => {
  it.each(LAYERS)('%s/ imports only itself and the folders before it', (layer) => {
    const allowed = new Set(LAYERS.slice(0, LAYERS.indexOf(layer) + 1));
    const upward = sources(layer).flatMap((f) =>
      importedFolders(f)
        .filter((i) => !allowed.has(i.folder))
        .map((i) => `${f} imports ${i.spec}`),
    );
    expect(upward).toEqual([]);
  });

  it.each(['bench', 'scripts'])('%s/ imports no test and no command line', (dir) => {
    const bad = sources(dir).flatMap((f) =>
      importedFolders(f)
        .filter((i) => i.folder === 'test' || i.folder === 'cli')
        .map((i) => `${f} imports ${i.spec}`),
    );
    expect(bad).toEqual([]);
  });
});
