/**
 * The results table of one `lstm-mcu example <name>` run, as Markdown, from
 * the command's own `--json` summary (never typed by hand).
 *
 *   npm run example-results -- spam [options of the example]            print the table
 *   npm run example-results -- spam --write [options of the example]    also replace it in docs/EXAMPLES.md
 *
 * docs/EXAMPLES.md holds it between <!-- example-<name>:begin ... --> and <!-- example-<name>:end -->.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceReadmeBlock } from './readme-block.ts';

interface ExampleSummary {
  data: { messages?: Record<string, number>; digits?: Record<string, number>; vocabulary?: number };
  model: Record<string, unknown> & { epochsRun: number; backend: string };
  metrics: { name: string; float: number; int8: number; difference: number; windows: number };
  parity: { engines: string[]; steps: number; mismatches: number };
  ram: { weightBytes: number; blocks: number };
  seconds: number;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const [name, ...rest] = process.argv.slice(2);
if (!name || name.startsWith('-')) {
  process.stderr.write('usage: npm run example-results -- <mnist|spam> [--write] [options of the example]\n');
  process.exit(2);
}
const write = rest.includes('--write');
const extra = rest.filter((a) => a !== '--write');
const BEGIN = `<!-- example-${name}:begin (npm run example-results -- ${name} --write) -->`;
const END = `<!-- example-${name}:end -->`;

const out = fs.mkdtempSync(path.join(os.tmpdir(), `lstm-mcu-example-${name}-`));
let s: ExampleSummary;
try {
  const stdout = execFileSync(process.execPath, [path.join(root, 'bin/lstm-mcu.js'), 'example', name, '--out', out, '--json', ...extra], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  s = JSON.parse(stdout.trim().split('\n').pop()!) as ExampleSummary;
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const points = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(2)} points`;
const model = Object.entries(s.model)
  .filter(([k]) => k !== 'backend' && k !== 'epochsRun')
  .map(([k, v]) => `${k} ${v}`)
  .join(', ');
const table = [
  `\`lstm-mcu example ${name}${extra.length ? ` ${extra.join(' ')}` : ''}\` (${model}; ${s.model.epochsRun} epochs run, ${s.model.backend} backend, ${Math.round(s.seconds)} s):`,
  '',
  '| | float | int8 |',
  '|---|---|---|',
  `| test ${s.metrics.name} (${s.metrics.windows} held-out samples) | ${pct(s.metrics.float)} | ${pct(s.metrics.int8)} (${points(s.metrics.difference)}) |`,
  `| weights | | ${s.ram.weightBytes.toLocaleString('en-US')} bytes int8 |`,
  `| device RAM (estimate) | | ~${s.ram.blocks.toLocaleString('en-US')} Espruino blocks |`,
  `| parity | | ${s.parity.mismatches === 0 ? 'exact' : `${s.parity.mismatches} MISMATCHES`} on ${s.parity.engines.join(', ')} (${s.parity.steps} steps) |`,
].join('\n');
console.log(table);

if (write) replaceReadmeBlock(root, 'docs/EXAMPLES.md', BEGIN, END, table);
