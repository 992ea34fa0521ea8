/**
 * npm run bench:instructions: machine instructions per step on Espruino, counted
 * by valgrind's callgrind, for the generated int8 step, the floor, the least LSTM
 * step and the float baseline (bench/cases.ts: the code bench/run.ts times).
 * Timings on these machines move by 10% from run to run; instruction counts repeat
 * exactly, so two versions of the generated code can be compared to the percent.
 * Each count is the difference of two runs of one program, with 0 and with N steps,
 * so loading the model is not counted.
 *
 *   ESPRUINO_BIN=/path/to/espruino npm run bench:instructions [-- --units 32 --cells lstm,gru --out out/instructions.json]
 */
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { writeFileAtomic } from '../core/write-atomic.ts';
import type { CellKind } from '../core/model.ts';
import { benchCase, measured, type BenchCase, type Implementation } from './cases.ts';
import { callgrindInstructions, callgrindMissing } from './callgrind.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
if (args.includes('--help')) {
  console.log(
    'usage: ESPRUINO_BIN=/path/to/espruino npm run bench:instructions [-- --units 32 --cells lstm,gru --out out/instructions.json]',
  );
  process.exit(0);
}
const outPath = arg('out', 'out/instructions.json');
const unitSizes = arg('units', '32').split(',').map(Number);
const cells = arg('cells', 'lstm,gru').split(',') as CellKind[];
const espruino = process.env.ESPRUINO_BIN ?? '';
const missing = callgrindMissing(espruino);
if (missing) {
  process.stderr.write(`bench:instructions: ${missing}\n`);
  process.exit(2);
}

/** Implementations counted here (the es5 target is timed on the other engines by bench/run.ts). */
const COUNTED: Implementation[] = ['int8-espruino', 'floor', 'bound', 'float'];
/** Steps per count: the float baseline takes about ten times as long as the rest. */
const stepsOf = (impl: Implementation) => (impl === 'float' ? 4 : 20);

/** Instructions callgrind counts for the program `source` on Espruino. */
const countInstructions = (source: string) => callgrindInstructions(espruino, source);

/** The program: the implementation, then `steps` calls of its step. */
const program = (bench: BenchCase, impl: Implementation, steps: number) =>
  `${bench.source(impl)}\n(function () { var x = [0.5, -1.25, 2], xq = new Int8Array([40, -90, 127]), i; for (i = 0; i < ${steps}; i++) ${bench.call(impl)}; })();\n`;

/** Run the tasks, at most one per core at a time. */
async function pool<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, os.cpus().length) }, worker));
  return results;
}

interface Row {
  model: string;
  /** Instructions per step. */
  perStep: Partial<Record<Implementation, number>>;
  int8ToFloor: number;
  boundToFloor?: number;
  floatToInt8: number;
}

const rows: Row[] = [];
for (const [cell, units] of cells.flatMap((c) => unitSizes.map((u) => [c, u] as const))) {
  const bench = benchCase(cell, units);
  const impls = COUNTED.filter((impl) => measured(impl, 'espruino', cell));
  process.stderr.write(`bench:instructions: ${bench.label}, ${impls.join(', ')} under callgrind...\n`);
  const counts = await pool(
    impls.flatMap((impl) => [0, stepsOf(impl)].map((steps) => () => countInstructions(program(bench, impl, steps)))),
  );
  const perStep: Partial<Record<Implementation, number>> = {};
  impls.forEach((impl, i) => (perStep[impl] = Math.round((counts[2 * i + 1] - counts[2 * i]) / stepsOf(impl))));
  rows.push({
    model: bench.label,
    perStep,
    int8ToFloor: perStep['int8-espruino']! / perStep.floor!,
    boundToFloor: perStep.bound === undefined ? undefined : perStep.bound / perStep.floor!,
    floatToInt8: perStep.float! / perStep['int8-espruino']!,
  });
}

const millions = (v: number | undefined) => (v === undefined ? '-' : (v / 1e6).toFixed(2));
const ratio = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2));
console.log(
  [
    '| model | int8 M instr/step | floor | least LSTM step | float | int8 / floor | least / floor | float / int8 |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${millions(r.perStep['int8-espruino'])} | ${millions(r.perStep.floor)} | ${millions(r.perStep.bound)} | ${millions(r.perStep.float)} | ${ratio(r.int8ToFloor)} | ${ratio(r.boundToFloor)} | ${ratio(r.floatToInt8)}x |`,
    ),
  ].join('\n'),
);
const engineVersion =
  /\b\d+v\d+(\.\d+)?\b/.exec(execFileSync(espruino, ['-e', 'print(process.version)'], { encoding: 'utf8', input: '' }))?.[0] ?? 'unknown';
console.log(`Espruino ${engineVersion}, counted by callgrind`);
writeFileAtomic(outPath, JSON.stringify({ engine: `espruino ${engineVersion}`, date: new Date().toISOString(), rows }, null, 2) + '\n');
console.log(`wrote ${outPath}`);
