/**
 * The Clockwork RNN and the depth-gated LSTM against the LSTM and the simple RNN, on
 * the demo data at the demo's window (24) and at a long one (96), as a Markdown table
 * for docs/BENCHMARKS.md. Each run is the CLI itself (`lstm-mcu demo --cell <kind>
 * --window <w> --json`, from the sources), so the table shows exactly what a user gets;
 * the depth-gated stack's fair twin is the LSTM of two layers.
 *
 *   npm run compare-cells              print the table
 *   npm run compare-cells -- --write   also replace the table in docs/BENCHMARKS.md
 *
 * Parity is the demo's own check; the runs leave out the real interpreters
 * (ESPRUINO_BIN, JERRY_BIN, BANGLE2_DIR) to keep the script's time to its training.
 * Two runs at a time (`--jobs N` to change). `--keep DIR` keeps each run's artifacts in
 * DIR/<run> and reuses a run whose summary.json is already there (a run stopped half-way is
 * resumed, a table redrawn without training again).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceReadmeBlock } from './readme-block.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const BEGIN = '<!-- compare-cells:begin (npm run compare-cells -- --write) -->';
const END = '<!-- compare-cells:end -->';

/** The cells compared, each with the options that make it. */
const CELLS: { label: string; args: string[] }[] = [
  { label: 'clockwork (periods 1,2,4,8)', args: ['--cell', 'clockwork'] },
  { label: 'depth-gated, 2 layers', args: ['--cell', 'depth-gated', '--layers', '2'] },
  { label: 'lstm, 2 layers', args: ['--cell', 'lstm', '--layers', '2'] },
  { label: 'lstm', args: ['--cell', 'lstm'] },
  { label: 'rnn', args: ['--cell', 'rnn'] },
];
const WINDOWS = [24, 96];

/** What the table reads from a demo's --json summary. */
interface DemoSummary {
  model: { units: number; window: number };
  metrics: { float: number; int8: number; relativeChange: number };
  ram: { weightBytes: number };
  parity: { mismatches: number };
  streamed: { int8: number; best?: { name: string; value: number }; beats: boolean };
}

/** One demo run through the CLI's sources (or its summary already in `out`); its summary, or a one-line error naming the run. */
function runDemo(label: string, args: string[], out: string): Promise<DemoSummary> {
  const done = path.join(out, 'summary.json');
  if (fs.existsSync(done)) return Promise.resolve(JSON.parse(fs.readFileSync(done, 'utf8')) as DemoSummary);
  process.stderr.write(`running demo ${args.join(' ')}\n`);
  const env = { ...process.env };
  for (const name of ['ESPRUINO_BIN', 'JERRY_BIN', 'BANGLE2_DIR']) delete env[name];
  const argv = ['--import', 'tsx', path.join(root, 'cli/main.ts'), 'demo', ...args, '--out', out, '--quiet', '--json'];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${label}: the demo failed: ${(stderr || error.message).trim().split('\n').pop()}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as DemoSummary);
    });
  });
}

/** `run` over `items`, at most `jobs` at a time; the results in the items' order. */
async function pool<T, R>(items: T[], jobs: number, run: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return results;
}

/** A table row: the run's test and streamed figures against the best baseline, and its weight bytes. */
function row(label: string, s: DemoSummary): string {
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}%`;
  const st = s.streamed;
  const against = st.best ? `${st.beats ? 'beats' : 'loses to'} ${st.best.name} ${st.best.value.toFixed(5)}` : '-';
  const parity = s.parity.mismatches === 0 ? 'exact' : `${s.parity.mismatches} mismatches`;
  return `| ${label} | ${s.model.window} | ${s.model.units} | ${s.metrics.float.toFixed(5)} | ${s.metrics.int8.toFixed(5)} (${pct(s.metrics.relativeChange)}) | ${st.int8.toFixed(5)} | ${against} | ${s.ram.weightBytes} | ${parity} |`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = args.includes('--write');
  const jobsAt = args.indexOf('--jobs');
  const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : 2;
  if (!(Number.isInteger(jobs) && jobs > 0)) throw new Error('--jobs wants a positive whole number');
  const keepAt = args.indexOf('--keep');
  const keep = keepAt >= 0 ? args[keepAt + 1] : undefined;
  if (keepAt >= 0 && !keep) throw new Error('--keep wants a folder');
  const runs = WINDOWS.flatMap((window) => CELLS.map((c) => ({ label: c.label, args: [...c.args, '--window', String(window)] })));
  const out = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-compare-cells-'));
  let rows: string[];
  try {
    rows = await pool(runs, jobs, async (r, i) => row(r.label, await runDemo(r.label, r.args, path.join(out, String(i)))));
  } finally {
    if (!keep) fs.rmSync(out, { recursive: true, force: true });
  }
  const table = [
    'Test RMSE in °C of the next temperature reading on the built-in TelosB data (`npm run demo` defaults, `--window` 24 and 96), one training run each; ' +
      'int8 after post-training quantization (QAT for each cell: the table in docs/CLI.md); ' +
      "streamed: the int8 model run over each test series from its first reading through the app's rules, as the device runs it, against the best baseline at the same points; " +
      'weight bytes of the loaded model; parity of the demo on vm, vm+E and duk.',
    '',
    '| cell | window | units per layer | float RMSE | int8 RMSE (vs float) | streamed int8 RMSE | against the best baseline, streamed | weight bytes | parity |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  console.log(table);
  if (write) replaceReadmeBlock(root, 'docs/BENCHMARKS.md', BEGIN, END, table);
}

main().catch((err: Error) => {
  process.stderr.write(`compare-cells: ${err.message}\n`);
  process.exit(1);
});
