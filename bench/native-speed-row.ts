/**
 * The measurements of one row of bench/native-speed.ts, one model (3 inputs, one
 * output): its float baseline's step, the generated `espruino` module's JavaScript and
 * native steps on Espruino's STM32F405 firmware, and the native kernel alone on
 * bare-metal mps2-an386. Instructions, exact (qemu-count), the marker calls' own
 * subtracted; each figure is the least of REPEATS calls in a row.
 */
import fs from 'node:fs';
import type { CellKind } from '../core/model.ts';
import { emitModule, flashWeights, type EmitOptions } from '../codegen/emit-module.ts';
import type { NativeOption } from '../codegen/emit-native.ts';
import { buildNativeContext } from '../native/context.ts';
import { blobPath } from '../native/toolchain.ts';
import { runNative } from '../parity/native-qemu.ts';
import { randomFloatModel, randomQuantizedModel, randomSegments } from '../parity/random-model.ts';
import { floatBaselineSource, type FloatWeights } from './float-baseline.ts';
import { contextDecodeBlocks } from './load-blocks.ts';
import { EMPTY_REGION, MARKERS, countRegions, type RegionCounts } from './stm32-regions.ts';

export const REPEATS = 2;
/** The same random models as bench/native-kernel.ts (seed 1). */
const SEED = 1;
const INPUTS = 3;
const KERNEL_STEPS = 8;
const READINGS = '[1.5, -2, 0.25]';
const XQ = 'new Int8Array([12, -40, 90])';

/** A step's instructions, or why it has none. */
export type Count = number | 'out of memory';

/** How the module is generated: a codegen --native option (weights in RAM), or 'flash': --native auto, --weights flash. */
export type ModuleVariant = NativeOption | 'flash';

/** The module's path: how it was generated, and its counts. */
export interface ModulePath {
  native: ModuleVariant;
  stepQ: Count;
  step: Count;
  /** The empty region's instructions (the marker calls alone, subtracted), where the module loaded. */
  empty?: number;
  /** Where none loads: each option tried, and the blocks alive at once while its module decodes its context (bench/load-blocks.ts). */
  decodeBlocks?: [ModuleVariant, number | undefined][];
}

export interface SpeedRow {
  cell: CellKind;
  units: number;
  float: FloatPath;
  js: ModulePath;
  nativeStep: ModulePath;
  /** The kernel alone: least and most instructions over KERNEL_STEPS steps. */
  kernel: [number, number];
}

const least = (counts: RegionCounts, from: number): number => Math.min(...counts.regions.slice(from, from + REPEATS));
const repeat = (region: string) => Array.from({ length: REPEATS }, () => `START(); ${region}; STOP();`).join('\n');

/** The module's program: the empty region, REPEATS of stepQ(Int8Array), REPEATS of step(readings), then the path taken. */
function moduleProgram(code: string, board: string): string {
  // the firmware's board name: reading process.env hangs this firmware under QEMU
  const program = [`var process = { env: { BOARD: "${board}" } };`, MARKERS, code, `var xq = ${XQ}, x = ${READINGS};`, EMPTY_REGION];
  return [...program, repeat('m.stepQ(xq)'), repeat('m.step(x)'), 'print("path " + m.info.native);', 'print("<<done>>");'].join('\n');
}

/** The module for `variant`, and the Storage files it reads (its weights, with --weights flash). */
function variantModule(q: ReturnType<typeof randomQuantizedModel>, variant: ModuleVariant) {
  const emit: EmitOptions = {
    target: 'espruino',
    globalName: 'm',
    modelSha256: '',
    generatorVersion: 'bench',
    native: variant === 'flash' ? 'auto' : variant,
  };
  if (variant !== 'flash') return { code: emitModule(q, emit), files: [] };
  const flash = { ...emit, flash: { file: 'm.bin', writer: 'm.weights.js' } };
  return { code: emitModule(q, flash), files: [{ name: 'm.bin', bytes: flashWeights(q, flash).bytes }] };
}

/**
 * The module's step on the firmware as `board`, generated as the first of `variants` that
 * loads in the firmware's variables; `takes` checks the path it took (info.native).
 */
async function modulePath(
  elf: string,
  plugin: string,
  row: Omit<SpeedRow, 'float' | 'js' | 'nativeStep' | 'kernel'>,
  board: string,
  variants: ModuleVariant[],
  takes: RegExp,
): Promise<ModulePath> {
  const q = randomQuantizedModel({ seed: SEED, inputSize: INPUTS, units: row.units, outputSize: 1, cell: row.cell });
  for (const variant of variants) {
    const { code, files } = variantModule(q, variant);
    const counts = await countRegions(elf, plugin, moduleProgram(code, board), 2 * REPEATS, files);
    if (counts === 'out of memory') continue;
    const path = counts.printed.find((l) => l.startsWith('path '))?.slice(5) ?? '(not printed)';
    if (!takes.test(path)) throw new Error(`${row.cell} 3x${row.units}, ${variant} as ${board}: path ${path}`);
    return { native: variant, stepQ: least(counts, 0), step: least(counts, REPEATS), empty: counts.empty };
  }
  // none loads: how many variables each needs at once while decoding its context (weights in RAM)
  const decodeBlocks: [ModuleVariant, number | undefined][] = [];
  for (const variant of variants.filter((v) => v !== 'flash')) {
    decodeBlocks.push([variant, await contextDecodeBlocks(elf, variantModule(q, variant).code, board)]);
  }
  return { native: variants[variants.length - 1]!, stepQ: 'out of memory', step: 'out of memory', decodeBlocks };
}

/** The float baseline's step, and how it held its weights (bench/float-baseline.ts). */
export interface FloatPath {
  weights: FloatWeights;
  step: Count;
  /** The empty region's instructions (subtracted), where it loaded. */
  empty?: number;
}

/**
 * The float baseline's step(readings) on the firmware, its weights in array literals, or where
 * those do not fit the firmware's variables, decoded chunk by chunk (the same step).
 */
async function floatStep(elf: string, plugin: string, cell: CellKind, units: number): Promise<FloatPath> {
  const float = randomFloatModel({ seed: SEED, inputSize: INPUTS, units, outputSize: 1, cell });
  const weightsTried: FloatWeights[] = ['literal', 'espruino-chunks'];
  for (const weights of weightsTried) {
    const source = floatBaselineSource(float, 'F', weights);
    const program = [MARKERS, source, `var x = ${READINGS};`, EMPTY_REGION, repeat('F.step(x)'), 'print("<<done>>");'];
    const counts = await countRegions(elf, plugin, program.join('\n'), REPEATS);
    if (counts !== 'out of memory') return { weights, step: least(counts, 0), empty: counts.empty };
  }
  return { weights: weightsTried[weightsTried.length - 1]!, step: 'out of memory' };
}

/** The M4 kernel alone on mps2-an386 (parity/native-qemu.ts), over KERNEL_STEPS steps. */
function kernelAlone(plugin: string, cell: CellKind, units: number): [number, number] {
  const q = randomQuantizedModel({ seed: SEED, inputSize: INPUTS, units, outputSize: 1, cell });
  const xs = Int8Array.from(randomSegments(1, INPUTS, [KERNEL_STEPS], 0.1)[0]!.flatMap((x) => Array.from(x)));
  const { log } = runNative(fs.readFileSync(blobPath('m4')), buildNativeContext(q), xs, 'm4', plugin);
  const n = [...log.matchAll(/^REGION \d+ insns=(\d+)/gm)].map((m) => Number(m[1]));
  if (n.length !== KERNEL_STEPS) throw new Error(`mps2-an386: ${n.length} counted regions, ${KERNEL_STEPS} expected`);
  return [Math.min(...n), Math.max(...n)];
}

/** One row: the JavaScript path as an unknown board, the native one as STM32F405RG (m4). */
export async function speedRow(elf: string, plugin: string, cell: CellKind, units: number): Promise<SpeedRow> {
  const id = { cell, units };
  const float = await floatStep(elf, plugin, cell, units);
  const js = await modulePath(elf, plugin, id, 'NOT_A_CORTEX_M_BOARD', ['auto', 'off'], /^js: /);
  const nativeStep = await modulePath(elf, plugin, id, 'STM32F405RG', ['auto', 'm4', 'flash'], /^m4$/);
  return { ...id, float, js, nativeStep, kernel: kernelAlone(plugin, cell, units) };
}
