/**
 * npm run bench:native-speed: one table of what a step costs on a Cortex-M4, for LSTM
 * and GRU at 3x16, 3x32 and 3x64 (3 inputs, one output), in instructions counted exactly
 * by ../shared/engines/qemu-count: the float baseline a user would write
 * (bench/float-baseline.ts), the generated `espruino` module's int8 JavaScript step and
 * its native step with the call around it, all on Espruino's STM32F405 firmware, and the
 * native kernel alone on bare-metal mps2-an386 (bench/native-speed-row.ts). Then a
 * modelled time per step at 64 MHz: instructions / 64e6 s, one instruction per cycle,
 * a lower bound and a model (QEMU has no cycle timing).
 *
 *   npm run bench:native-speed                 (engines in ../shared/engines, or ENGINES_DIR)
 *
 * Needs Debian's qemu-system-arm and gcc-arm-none-eabi; with --if-available (npm run bench)
 * it says what is missing and exits 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CellKind } from '../core/model.ts';
import { ROOT, nativeToolsMissing } from '../native/toolchain.ts';
import { firmwareElf } from '../parity/stm32f405.ts';
import { REPEATS, speedRow, type Count, type ModulePath, type SpeedRow } from './native-speed-row.ts';

const engines = path.resolve(ROOT, process.env.ENGINES_DIR ?? '../shared/engines');
const elf = firmwareElf(path.join(engines, 'stm32f405'));
const plugin = path.join(engines, 'qemu-count', 'libregioncount.so');
const missing =
  !elf || !fs.existsSync(plugin)
    ? `no stm32f405/ or qemu-count/ in ${engines} (set ENGINES_DIR to the folder of the engines)`
    : nativeToolsMissing(['arm-none-eabi-gcc', 'qemu-system-arm']);
if (missing) {
  process.stderr.write(`bench:native-speed: skipped: ${missing}\n`);
  process.exit(process.argv.includes('--if-available') ? 0 : 1);
}

const MODEL_MHZ = 64;
const NO_LOAD = 'does not load in 7,500 variables';
const formatCount = (c: Count) => (typeof c === 'number' ? c.toLocaleString('en-US') : NO_LOAD);
/** t = instructions / (64e6 per s), in µs or ms: one instruction per cycle at best. */
const modelled = (c: Count) => {
  if (typeof c !== 'number') return '–';
  const us = c / MODEL_MHZ;
  return us >= 1000 ? `≥ ${(us / 1000).toFixed(1)} ms` : `≥ ${us.toFixed(0)} µs`;
};
/** A module's count, marked with its codegen --native when not auto; where none loads, the blocks each needs. */
function mark(path: ModulePath, c: Count): string {
  const variant = path.native === 'flash' ? ' (--weights flash)' : ` (--native ${path.native})`;
  if (typeof c === 'number') return formatCount(c) + (path.native === 'auto' ? '' : variant);
  const needs = (path.decodeBlocks ?? []).map(
    ([option, blocks]) => `--native ${option}: ${blocks ? `≥ ${formatCount(blocks)} blocks` : 'not measured'}`,
  );
  return needs.length ? `${NO_LOAD} (${needs.join(', ')})` : NO_LOAD;
}

/** The row's cells in the table's order. */
function tableRow(row: SpeedRow): string {
  const { float, js, nativeStep, kernel } = row;
  const ratio = typeof js.step === 'number' && typeof nativeStep.step === 'number' ? `${(js.step / nativeStep.step).toFixed(0)}x` : '–';
  const cells = [
    `${row.cell.toUpperCase()} 3x${row.units}`,
    formatCount(float.step) + (float.weights === 'literal' ? '' : ` (${float.weights})`),
    mark(js, js.step),
    mark(nativeStep, nativeStep.stepQ),
    typeof nativeStep.step === 'number' ? mark(nativeStep, nativeStep.step) : '–',
    kernel[0] === kernel[1] ? formatCount(kernel[0]) : `${formatCount(kernel[0])}–${formatCount(kernel[1])}`,
    ratio,
    `${modelled(js.step)} → ${modelled(nativeStep.step)}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

const CELLS: CellKind[] = ['lstm', 'gru'];
const UNITS = [16, 32, 64];
const rows: string[] = [];
/** The empty regions' counts over the firmware's runs: one value where the marker calls cost the same in every program. */
const empties = new Set<number>();
for (const cell of CELLS)
  for (const units of UNITS) {
    process.stderr.write(`bench:native-speed: ${cell} 3x${units}\n`);
    const row = await speedRow(elf!, plugin, cell, units);
    for (const path of [row.float, row.js, row.nativeStep]) if (path.empty !== undefined) empties.add(path.empty);
    rows.push(tableRow(row));
  }
console.log(
  [
    `Instructions per step, exact (qemu-count), the marker calls' own instructions subtracted, the least of ${REPEATS} calls in a row: ` +
      `float and int8 JavaScript steps and the native step with its call on Espruino's STM32F405 firmware (Cortex-M4, 7,500 variables), ` +
      `the kernel alone on mps2-an386 (min–max over 8 steps). ` +
      `The empty region (the marker calls alone), subtracted: ${[...empties].map(formatCount).join(', ')} instructions. The module is generated with codegen --native auto (weights in RAM), or (marked) ` +
      `as the first that loads when it does not: --native m4, then --weights flash (the weights' Storage file in the firmware's flash). Time at ${MODEL_MHZ} MHz is a model: instructions / ${MODEL_MHZ}e6 s, one instruction per cycle (a lower bound).`,
    '',
    `| model | float JS step(x) | int8 JS step(x) | native stepQ(Int8Array) | native step(x) | kernel alone | int8 JS / native step(x) | at ${MODEL_MHZ} MHz, modelled: int8 JS → native step(x) |`,
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n'),
);
