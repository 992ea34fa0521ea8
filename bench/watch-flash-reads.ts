/**
 * What weights in flash cost a step on the Bangle.js 2: the watch keeps its
 * Storage on an external flash chip, so every weight a step reads comes over
 * that chip's bus. The firmware compiled to WebAssembly reads its flash one
 * byte per call; parity/bangle2-run.cjs --flash-reads counts the calls, so the
 * bytes a step reads from flash are exact: (reads after 3N steps − reads after
 * N steps) / 2N. Beside them: the Storage file's size, and the emulator's time
 * per step with the weights in flash and in RAM (the same run's ratio; the
 * emulator's time is not the watch's).
 *
 *   npm run bench:watch-flash            (BANGLE2_DIR, or ../shared/engines/bangle2)
 *
 * With --if-available (npm run bench) it says what is missing and exits 0.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitModule, flashWeights, type EmitOptions } from '../codegen/emit-module.ts';
import { BANGLE2_RUNNER } from '../parity/engines.ts';
import { randomQuantizedModel, type RandomModelSpec } from '../parity/random-model.ts';
import { CELLS } from '../core/cells.ts';
import type { QuantizedModel } from '../core/model.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = process.env.BANGLE2_DIR ?? path.resolve(root, '../shared/engines/bangle2');

const MODELS: RandomModelSpec[] = [
  { seed: 3, inputSize: 3, units: 32 },
  { seed: 4, inputSize: 3, units: 16, cell: 'gru' },
  { seed: 5, inputSize: 3, units: 48, cell: 'rnn' },
];
const STEPS = 10;

const options = (flash: boolean): EmitOptions => ({
  target: 'espruino',
  globalName: 'm',
  modelSha256: '',
  generatorVersion: 'bench',
  ...(flash ? { flash: { file: 'bench.bin', writer: 'the bench' } } : {}),
});

/** The program: (the writer and) the module, `steps` steps of varied input, the emulator's seconds for them. */
function program(q: QuantizedModel, flash: boolean, steps: number): string {
  const writer = flash ? flashWeights(q, options(true)).writer : '';
  const NI = q.layers[0].inputSize;
  return (
    writer +
    emitModule(q, options(flash)) +
    `\nvar xq = new Int8Array(${NI}), t0 = getTime(), i, k;\n` +
    `for (i = 0; i < ${steps}; i++) { for (k = 0; k < ${NI}; k++) xq[k] = (i * 37 + k * 11) % 255 - 127; m.stepQ(xq); }\n` +
    'print("SECONDS " + (getTime() - t0));\nprint("<<done>>");\n'
  );
}

/** One run on the emulator: the bytes read from flash in all, and the seconds the steps took. */
function run(source: string): { reads: number; seconds: number } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-watch-')), 'program.js');
  fs.writeFileSync(file, source);
  const r = spawnSync(process.execPath, [BANGLE2_RUNNER, file, '--timeout', '900', '--flash-reads'], {
    encoding: 'utf8',
    env: { ...process.env, BANGLE2_DIR: dir },
  });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  const reads = /flash reads: (\d+)/.exec(r.stderr)?.[1];
  const seconds = /SECONDS ([\d.e-]+)/.exec(r.stdout)?.[1];
  if (r.status !== 0 || reads === undefined || seconds === undefined)
    throw new Error(`the emulator run failed (exit ${r.status}): ${(r.stderr + r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  return { reads: Number(reads), seconds: Number(seconds) };
}

function main(): void {
  if (!fs.existsSync(path.join(dir, 'emulator_banglejs2.js'))) {
    const why = `watch-flash-reads: no Bangle.js 2 emulator at ${path.relative(root, dir) || dir} (set BANGLE2_DIR)`;
    if (process.argv.includes('--if-available')) {
      console.log(`${why}; skipped`);
      return;
    }
    throw new Error(why);
  }
  console.log('Weights in flash on the Bangle.js 2 firmware (emulator): bytes read from flash per step, exact');
  console.log('| model | Storage file | flash bytes per step | RAM weights: flash bytes per step | emulator time per step, flash / RAM |');
  console.log('|---|---|---|---|---|');
  for (const spec of MODELS) {
    const q = randomQuantizedModel(spec);
    const file = flashWeights(q, options(true)).bytes.length;
    const perStep = (flash: boolean) => {
      const short = run(program(q, flash, STEPS));
      const long = run(program(q, flash, 3 * STEPS));
      return { bytes: (long.reads - short.reads) / (2 * STEPS), seconds: (long.seconds - short.seconds) / (2 * STEPS) };
    };
    const flash = perStep(true);
    const ram = perStep(false);
    const name = `${CELLS[spec.cell ?? 'lstm'].codeTitle} ${spec.inputSize}x${spec.units}`;
    console.log(
      `| ${name} | ${file} B | ${flash.bytes} | ${ram.bytes} | ${(flash.seconds * 1000).toFixed(0)} ms / ${(ram.seconds * 1000).toFixed(0)} ms |`,
    );
  }
}

try {
  main();
} catch (err) {
  console.error(`watch-flash-reads: ${(err as Error).message}`);
  process.exit(1);
}
