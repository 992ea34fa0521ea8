/**
 * What one reading costs on a Cortex-M4 board, streamed (one step) or as a
 * window (`--deploy window`: the last `window` readings from a zero state):
 * the generated espruino module's step() on Espruino's STM32F405 firmware
 * under qemu-system-arm, its instructions counted exactly by the
 * region-counting qemu plugin, and the least time that takes at each
 * board's clock (one instruction per cycle at best).
 *
 *   npm run bench:deploy                 (engines in ../shared/engines, or ENGINES_DIR)
 *
 * Needs Debian's qemu-system-arm; with --if-available (npm run
 * bench) it says what is missing and exits 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitModule } from '../codegen/emit-module.ts';
import { quantizeModel } from '../quantize/quantize.ts';
import type { CellKind, QuantizedModel } from '../core/model.ts';
import { randomFloatModel, randomWindows } from '../parity/random-model.ts';
import { denseWindows } from '../data/window-set.ts';
import { firmwareElf, runStm32f405 } from '../parity/stm32f405.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const engines = path.resolve(root, process.env.ENGINES_DIR ?? '../shared/engines');
const elf = firmwareElf(path.join(engines, 'stm32f405'));
const plugin = path.join(engines, 'qemu-count', 'libregioncount.so');

/** Cortex-M4 boards and their CPU clocks (MHz). */
const BOARDS = [
  { name: 'Puck.js, Pixl.js, Bangle.js 2 (nRF52, 64 MHz)', mhz: 64 },
  { name: 'Pico (STM32F401, 84 MHz)', mhz: 84 },
  { name: 'WiFi (STM32F411, 100 MHz)', mhz: 100 },
];

/** Thumb `mov r8,r8; bx lr` and `mov r9,r9; bx lr`: the plugin's region markers. */
const MARKERS =
  'var start = E.nativeCall(1, "void()", E.toFlatString(atob("wEZwRw=="))); var stop = E.nativeCall(1, "void()", E.toFlatString(atob("yUZwRw==")));';
const REPEATS = 3;

function model(cell: CellKind, inputs: number, units: number, window: number): QuantizedModel {
  const float = randomFloatModel({ seed: units, inputSize: inputs, units, weightRange: 0.5, cell, window });
  return quantizeModel(float, {
    weightScale: 'per-row',
    calibrationX: denseWindows(randomWindows(units, 32, window, inputs), window * inputs),
    floatModelSha256: '',
  });
}

/** The module, a full window of readings, then an empty region and REPEATS regions of one step(x) each. */
function program(q: QuantizedModel): string {
  const code = emitModule(q, { target: 'espruino', globalName: 'M', modelSha256: '', generatorVersion: 'bench' });
  const x = q.featureNames.map((_, i) => q.inputNorm.mean[i]);
  return [
    // the firmware's own board name (reading process.env hangs it under QEMU): the module takes the
    // native step where the kernel runs the model (streamed), the JavaScript step for a window
    'var process = { env: { BOARD: "STM32F405RG" } };',
    MARKERS,
    code,
    `var x = [${x.join(', ')}], i;`,
    `M.reset(); for (i = 0; i < ${q.window}; i++) M.step(x);`,
    'start(); stop();',
    ...Array.from({ length: REPEATS }, () => 'start(); M.step(x); stop();'),
    'print("<<done>>");',
  ].join('\n');
}

async function count(source: string): Promise<number[]> {
  const run = await runStm32f405(elf!, source, { doneLine: '<<done>>', countPlugin: plugin, timeoutS: 600 });
  const regions = [...run.log.matchAll(/REGION \d+ insns=(\d+)/g)].map((m) => Number(m[1]));
  if (regions.length !== REPEATS + 1)
    throw new Error(`the firmware run counted ${regions.length} regions: ${run.lines.slice(-5).join(' | ')}`);
  return regions;
}

const missing =
  !elf || !fs.existsSync(plugin)
    ? `no stm32f405/ or qemu-count/ in ${engines} (set ENGINES_DIR to the folder of the engines)`
    : !onPath('qemu-system-arm')
      ? 'qemu-system-arm is not installed (apt-get install qemu-system-arm)'
      : undefined;
if (missing) {
  process.stderr.write(`bench:deploy: skipped: ${missing}\n`);
  process.exit(process.argv.includes('--if-available') ? 0 : 1);
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, command)));
}

const CASES: { label: string; cell: CellKind; inputs: number; units: number; window: number }[] = [
  { label: 'LSTM(16), 2 inputs, window 24 (the demo)', cell: 'lstm', inputs: 2, units: 16, window: 24 },
  { label: 'GRU(16), 2 inputs, window 24', cell: 'gru', inputs: 2, units: 16, window: 24 },
  { label: 'LSTM(32), 3 inputs, window 24', cell: 'lstm', inputs: 3, units: 32, window: 24 },
];

const rows: string[] = [];
for (const c of CASES) {
  const stream = model(c.cell, c.inputs, c.units, c.window);
  const cost: Record<string, number> = {};
  for (const [deployment, q] of [
    ['stream', stream],
    ['window', { ...stream, deployment: 'window' as const }],
  ] as const) {
    process.stderr.write(`bench:deploy: ${c.label}, ${deployment}\n`);
    const [empty, ...steps] = await count(program(q));
    cost[deployment] = Math.min(...steps) - empty!;
  }
  const ms = (insns: number, mhz: number) => (insns / (mhz * 1000)).toFixed(insns / (mhz * 1000) < 10 ? 2 : 0);
  rows.push(
    `| ${c.label} | ${cost.stream!.toLocaleString('en-US')} | ${cost.window!.toLocaleString('en-US')} | ${(cost.window! / cost.stream!).toFixed(1)}x | ` +
      BOARDS.map((b) => `${ms(cost.stream!, b.mhz)} / ${ms(cost.window!, b.mhz)}`).join(' | ') +
      ' |',
  );
}
console.log(
  [
    `Instructions per reading of the generated espruino module's step() on Espruino's STM32F405 firmware (Cortex-M4, qemu, exact counts; the call's own ~2,100 subtracted), and the least time it takes (ms, one instruction per cycle), streamed / as a window:`,
    '',
    `| model | streamed | as a window | ratio | ${BOARDS.map((b) => b.name).join(' | ')} |`,
    `|---|---|---|---|${BOARDS.map(() => '---').join('|')}|`,
    ...rows,
  ].join('\n'),
);
