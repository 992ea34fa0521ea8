/**
 * The cell table of docs/CLI.md: every recurrent cell (and stacks) trained by
 * `lstm-mcu demo --qat` on the built-in real data (demo defaults otherwise), with
 * the float, post-training int8 and QAT int8 test metrics, weight bytes and
 * parity, as a Markdown table.
 *
 *   npm run architectures                                   print the table
 *   npm run architectures -- --write                        also replace the table in docs/CLI.md
 *   npm run architectures -- --cells clockwork,depth-gated  only those cells' rows (each alone; a depth-gated
 *                                                           one as its stack of two); with --write, only those
 *                                                           rows of the table change, the others stay as measured
 *
 * Each run is the CLI itself (`lstm-mcu demo --cell <kind> --json`, from the
 * sources through tsx, so no build is needed), so the table shows exactly what
 * a user gets.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CELL_KINDS, readsCellBelow, type CellKind } from '../core/model.ts';
import { replaceReadmeBlock } from './readme-block.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const BEGIN = '<!-- architectures:begin (npm run architectures -- --write) -->';
const END = '<!-- architectures:end -->';
/** The command's sources through tsx's loader (by its path: it resolves from any working directory). */
const CLI_ARGS = ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, path.join(root, 'cli/main.ts')];

interface DemoSummary {
  model: { cell: string; layers: number; units: number; window: number };
  qat: {
    float: number;
    int8PostTraining: number;
    int8Qat: number;
    postTrainingChange: number;
    qatChange: number;
    postTrainingDistance: number;
    qatDistance: number;
    bestEpoch: number;
    epochs: number;
  };
  parity: { engines: string[]; steps: number; mismatches: number };
  ram: { weightBytes: number; blocks: number };
  deployment: { deployment: string };
  streamed: { int8: number; best?: { name: string; value: number }; beats: boolean };
}

interface Config {
  label: string;
  args: string[];
  /** The kind `--cells` selects this row by (the rows of one cell alone). */
  cell?: CellKind;
}

/** Every cell alone (a depth-gated layer sits on an LSTM: its kind runs as a stack of two), then stacks and bidirectional models. */
const CONFIGS: Config[] = [
  ...CELL_KINDS.map((cell) =>
    readsCellBelow(cell)
      ? { label: `${cell}, 2 layers`, args: ['--cell', cell, '--layers', '2'], cell }
      : { label: cell, args: ['--cell', cell], cell },
  ),
  { label: 'lstm, 2 layers', args: ['--cell', 'lstm', '--layers', '2'] },
  { label: 'gru, 2 layers', args: ['--cell', 'gru', '--layers', '2'] },
  { label: 'lstm, bidirectional (concat)', args: ['--cell', 'lstm', '--bidirectional', 'concat'] },
  { label: 'gru, bidirectional (sum)', args: ['--cell', 'gru', '--bidirectional', 'sum'] },
];

/** The command line: --write, --cells k1,k2 (checked against the cell kinds), and the demo's own options after them. */
function parseArguments(argv: string[]): { write: boolean; cells?: CellKind[]; extra: string[] } {
  const at = argv.indexOf('--cells');
  const list = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && !list) fail('--cells needs a list of cell kinds, e.g. --cells clockwork,depth-gated');
  const cells = list?.split(',').map((c) => c.trim());
  const unknown = cells?.find((c) => !(CELL_KINDS as readonly string[]).includes(c));
  if (unknown !== undefined) fail(`--cells: unknown cell kind '${unknown}' (one of ${CELL_KINDS.join(', ')})`);
  const extra = argv.filter((a, i) => a !== '--write' && i !== at && !(at >= 0 && i === at + 1));
  return { write: argv.includes('--write'), ...(cells ? { cells: cells as CellKind[] } : {}), extra };
}

function fail(message: string): never {
  console.error(`architectures: ${message}`);
  process.exit(1);
}

/** One configuration through `lstm-mcu demo --qat --json`: its table row. */
function measureRow({ label, args }: Config, out: string, extra: string[]): string {
  process.stderr.write(`training ${label}...\n`);
  const stdout = execFileSync(process.execPath, [...CLI_ARGS, 'demo', ...args, '--qat', '--out', out, '--quiet', '--json', ...extra], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const s = JSON.parse(stdout.trim().split('\n').pop()!) as DemoSummary;
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}%`;
  const q = s.qat;
  const baseline = s.streamed.best;
  return (
    `| ${label} | ${s.model.units} | ${q.float.toFixed(5)} | ${q.int8PostTraining.toFixed(5)} | ${pct(q.postTrainingChange)} | ` +
    `${q.int8Qat.toFixed(5)} | ${pct(q.qatChange)} | ${q.bestEpoch} | ${q.postTrainingDistance.toFixed(5)} → ${q.qatDistance.toFixed(5)} | ` +
    `${s.streamed.int8.toFixed(5)} (${s.deployment.deployment}) | ${baseline ? `${s.streamed.beats ? 'beats' : 'loses to'} ${baseline.name} ${baseline.value.toFixed(5)}` : '-'} | ` +
    `${s.ram.weightBytes} | ${s.ram.blocks} | ${s.parity.mismatches === 0 ? 'exact' : `${s.parity.mismatches} mismatches`} (${s.parity.engines.join(', ')}; ${s.parity.steps} steps) |`
  );
}

/** The rows of the table now in docs/CLI.md, by their architecture label. */
function tableRows(): Map<string, string> {
  const text = fs.readFileSync(path.join(root, 'docs/CLI.md'), 'utf8');
  const block = text.slice(text.indexOf(BEGIN), text.indexOf(END));
  const rows = block.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| architecture |'));
  return new Map(rows.map((line) => [line.slice(2, line.indexOf(' |')), line]));
}

function tableOf(rows: string[], extra: string[]): string {
  return [
    `Test RMSE in °C of the next temperature reading (built-in TelosB data, \`npm run demo\` defaults${extra.length ? `, ${extra.join(' ')}` : ''}); ` +
      'int8 after post-training quantization and after quantization-aware fine-tuning (`--qat`, 3 epochs; the epoch kept is the one whose int8 outputs come closest to the float model on the validation windows, 0 = none did); ' +
      "mean |int8 − float| is the mean distance of the int8 outputs from the float model's on the test windows (normalized units), post-training → QAT; " +
      "streamed: the deployed (QAT) int8 model run over each test series from its first reading through the app's rules, as the device runs it (deployment chosen by `--deploy auto`), against the best baseline at the same points; " +
      'weight bytes and Espruino memory blocks of the loaded model (estimate); parity of the deployed (QAT) model.',
    '',
    '| architecture | units per layer | float RMSE | int8 RMSE, post-training | vs float | int8 RMSE, QAT | vs float | QAT epoch kept | mean \\|int8 − float\\| | streamed int8 RMSE (deployment) | against the best baseline, streamed | weight bytes | blocks | parity |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

const { write, cells, extra } = parseArguments(process.argv.slice(2));
if (cells && write && extra.length) fail('--cells with --write keeps the other rows as measured: give no other demo options');
const chosen = cells ? CONFIGS.filter((c) => c.cell && cells.includes(c.cell)) : CONFIGS;
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-architectures-'));
const measured = new Map<string, string>();
try {
  for (const [i, config] of chosen.entries()) measured.set(config.label, measureRow(config, path.join(out, String(i)), extra));
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
// --cells: the rows measured now in place of theirs, every other row as the table had it, in the order of CONFIGS
const kept = cells ? tableRows() : new Map<string, string>();
const rows = CONFIGS.map((c) => measured.get(c.label) ?? kept.get(c.label)).filter((r): r is string => r !== undefined);
const table = tableOf(rows, extra);
console.log(table);

if (write) replaceReadmeBlock(root, 'docs/CLI.md', BEGIN, END, table);
