/**
 * The Clockwork RNN's step cost on Espruino against a simple RNN and an LSTM
 * of the same width (issue 24): machine instructions per stepQ of the
 * generated espruino module, counted by callgrind (bench/callgrind.ts),
 * averaged over whole clock cycles so every phase counts as often as it
 * runs on the device. Each count is the difference of two runs of one
 * program, with 0 and with N steps, so loading the model is not counted.
 * Module i runs at one step in T_i: with the paper's periods 1, 2, 4, 8 the
 * rows run per step are (1 + 1/2 + 1/4 + 1/8) / 4 = 47% of a simple RNN's.
 *
 *   ESPRUINO_BIN=/path/to/espruino npm run bench:clockwork [-- --units 32 --periods 1,2,4,8 --out out/clockwork-cost.json]
 *
 * With --if-available (npm run bench) it says what is missing and exits 0.
 */
import os from 'node:os';
import { writeFileAtomic } from '../core/write-atomic.ts';
import { clockCycle, clockModules } from '../core/clock.ts';
import { benchCase, type BenchCase } from './cases.ts';
import { callgrindInstructions, callgrindMissing } from './callgrind.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const espruino = process.env.ESPRUINO_BIN ?? '';
const missing = callgrindMissing(espruino);
if (missing) {
  process.stderr.write(`bench:clockwork: skipped: ${missing}\n`);
  process.exit(args.includes('--if-available') ? 0 : 1);
}
const units = Number(arg('units', '32'));
const periods = arg('periods', '1,2,4,8').split(',').map(Number);
const outPath = arg('out', 'out/clockwork-cost.json');
/** Steps counted: two whole clock cycles (at least 16), the same number for every model. */
const steps = clockCycle(periods) * Math.max(2, Math.ceil(16 / clockCycle(periods)));

/** The module and `n` calls of its stepQ on fixed int8 inputs. */
const program = (bench: BenchCase, n: number) =>
  `${bench.source('int8-espruino')}\n(function () { var xq = new Int8Array([40, -90, 127]), i; for (i = 0; i < ${n}; i++) BENCH.stepQ(xq); })();\n`;

/** Share of the units updated per step, averaged over a cycle: Σ size_i / T_i / units. */
const rowShare = clockModules(units, periods).reduce((s, m) => s + (m.end - m.start) / m.period, 0) / units;

const cases = [benchCase('clockwork', units, periods), benchCase('rnn', units), benchCase('lstm', units)];
process.stderr.write(`bench:clockwork: ${cases.map((c) => c.label).join(', ')}; ${steps} steps each under callgrind...\n`);
const tasks = cases.flatMap((c) => [0, steps].map((n) => () => callgrindInstructions(espruino, program(c, n))));
const counts: number[] = new Array(tasks.length);
let next = 0;
await Promise.all(
  Array.from({ length: Math.max(1, Math.min(2, os.cpus().length)) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      counts[i] = await tasks[i]!();
    }
  }),
);
const perStep = cases.map((_, i) => Math.round((counts[2 * i + 1]! - counts[2 * i]!) / steps));
const [clockwork, rnn, lstm] = perStep as [number, number, number];
const rows = cases.map((c, i) => ({ model: c.label, instructionsPerStep: perStep[i]!, toRnn: perStep[i]! / rnn }));
console.log(
  [
    `| model (${units} units, Espruino) | M instructions per step | / simple RNN |`,
    '|---|---|---|',
    ...rows.map((r) => `| ${r.model} | ${(r.instructionsPerStep / 1e6).toFixed(3)} | ${r.toRnn.toFixed(2)} |`),
  ].join('\n'),
);
console.log(
  `clockwork: ${(rowShare * 100).toFixed(1)}% of the rows per step on average; ${((clockwork / rnn) * 100).toFixed(1)}% of the simple RNN's instructions, ${((clockwork / lstm) * 100).toFixed(1)}% of the LSTM's`,
);
writeFileAtomic(
  outPath,
  JSON.stringify({ engine: 'espruino (callgrind)', date: new Date().toISOString(), units, periods, steps, rowShare, rows }, null, 2) + '\n',
);
console.log(`wrote ${outPath}`);
