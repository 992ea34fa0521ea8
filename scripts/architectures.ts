/**
 * The cell table of docs/CLI.md: every recurrent cell (and stacks) trained by
 * `lstm-mcu demo --qat` on the built-in real data (demo defaults otherwise), with
 * the float, post-training int8 and QAT int8 test metrics, weight bytes and
 * parity, as a Markdown table.
 *
 *   npm run architectures              print the table
 *   npm run architectures -- --write   also replace the table in docs/CLI.md
 *
 * Each run is the CLI itself (`lstm-mcu demo --cell <kind> --json`), so the
 * table shows exactly what a user gets.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CELL_KINDS, hasClock, readsCellBelow } from '../core/model.ts';
import { replaceReadmeBlock } from './readme-block.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const write = process.argv.includes('--write');
const extra = process.argv.slice(2).filter((a) => a !== '--write');
const BEGIN = '<!-- architectures:begin (npm run architectures -- --write) -->';
const END = '<!-- architectures:end -->';

interface DemoSummary {
  model: { cell: string; layers: number; units: number; window: number };
  metrics: { name: string; float: number; int8: number; relativeChange: number; persistence?: number };
  /** Absent for a cell QAT refuses (the clockwork RNN): its row has the post-training figures only. */
  qat?: {
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

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-architectures-'));
const rows: string[] = [];
try {
  // Every cell alone, then stacks of two layers.
  const configs = [
    // a depth-gated layer sits on an LSTM: its kind runs as a stack of two; a clockwork one trains without QAT
    ...CELL_KINDS.map((cell) => ({
      ...(readsCellBelow(cell)
        ? { label: `${cell}, 2 layers`, args: ['--cell', cell, '--layers', '2'] }
        : { label: cell, args: ['--cell', cell] }),
      qat: !hasClock(cell),
    })),
    { label: 'lstm, 2 layers', args: ['--cell', 'lstm', '--layers', '2'] },
    { label: 'gru, 2 layers', args: ['--cell', 'gru', '--layers', '2'] },
    { label: 'lstm, bidirectional (concat)', args: ['--cell', 'lstm', '--bidirectional', 'concat'] },
    { label: 'gru, bidirectional (sum)', args: ['--cell', 'gru', '--bidirectional', 'sum'] },
  ];
  for (const [i, { label, args }] of configs.entries()) {
    process.stderr.write(`training ${label}...\n`);
    const stdout = execFileSync(
      process.execPath,
      [
        path.join(root, 'bin/lstm-mcu.js'),
        'demo',
        ...args,
        ...('qat' in configs[i]! && !configs[i]!.qat ? [] : ['--qat']),
        '--out',
        path.join(out, String(i)),
        '--quiet',
        '--json',
        ...extra,
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const s = JSON.parse(stdout.trim().split('\n').pop()!) as DemoSummary;
    const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}%`;
    // a cell QAT refuses: the post-training figures, '-' for QAT's
    const q = s.qat;
    const m = s.metrics;
    const qatColumns = q
      ? `${q.int8Qat.toFixed(5)} | ${pct(q.qatChange)} | ${q.bestEpoch} | ${q.postTrainingDistance.toFixed(5)} → ${q.qatDistance.toFixed(5)} | `
      : '- | - | - | - | ';
    rows.push(
      `| ${label} | ${s.model.units} | ${(q?.float ?? m.float).toFixed(5)} | ${(q?.int8PostTraining ?? m.int8).toFixed(5)} | ${pct(q?.postTrainingChange ?? m.relativeChange)} | ` +
        qatColumns +
        `${s.streamed.int8.toFixed(5)} (${s.deployment.deployment}) | ${s.streamed.best ? `${s.streamed.beats ? 'beats' : 'loses to'} ${s.streamed.best.name} ${s.streamed.best.value.toFixed(5)}` : '-'} | ` +
        `${s.ram.weightBytes} | ${s.ram.blocks} | ${s.parity.mismatches === 0 ? 'exact' : `${s.parity.mismatches} mismatches`} (${s.parity.engines.join(', ')}; ${s.parity.steps} steps) |`,
    );
  }
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}

const table = [
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
console.log(table);

if (write) replaceReadmeBlock(root, 'docs/CLI.md', BEGIN, END, table);
