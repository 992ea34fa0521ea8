/**
 * The data of the report's charts about the int8 model on the device: the
 * int8 − float error of each output on the test windows (the outputs the
 * quantize report's `output (normalized)` error is computed from), the
 * per-layer calibration ranges, and the model's memory on the chosen board
 * (codegen/boards.ts, as `codegen --board` counts it).
 */
import { DEFAULT_NATIVE, nativeForBoard } from '../codegen/emit-native.ts';
import { deviceBudget, type BudgetReport } from '../codegen/boards.ts';
import { emitModule, type EmitOptions } from '../codegen/emit-module.ts';
import { estimateRam } from '../codegen/ram-estimate.ts';
import { encodeQuantizedModel, sha256Hex } from '../core/artifact.ts';
import { classNamesOf } from '../core/model.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { keptIndices } from './downsample.ts';
import type { ReportRun } from './run.ts';

/** Bins of the error histogram per output. */
export const HISTOGRAM_BINS = 40;

export interface ErrorData {
  outputs: string[];
  /** What one unit of the error is: target units, or logits. */
  unit: string;
  /** Values per output (test windows, or window steps of a many-to-many model). */
  count: number;
  /** The error at the kept values, long form. */
  rows: { index: number; output: string; error: number }[];
  /** Every value counted: equal-width bins over [min, max] of each output's errors. */
  histogram: { output: string; start: number; end: number; count: number }[];
  /** Largest |int8 − float| of each output, in `unit`. */
  maxAbs: number[];
}

/** The output names: the targets, a classifier's class logits, or its one logit. */
function outputNames(run: ReportRun): string[] {
  const O = run.q.head.outputSize;
  if (run.dataset.task === 'regression') return run.dataset.targetNames;
  return O === 1 ? ['logit'] : classNamesOf(run.dataset).map((c) => `logit ${c}`);
}

export function errorData(run: ReportRun): ErrorData {
  const { float, int8 } = run.details.windowOutputs;
  const O = run.q.head.outputSize;
  const count = float.length / O;
  const regression = run.dataset.task === 'regression';
  // The outputs are normalized: a difference in target units is the normalized one times the target's std.
  const scale = (k: number) => (regression ? run.dataset.outputNorm.std[k]! : 1);
  const names = outputNames(run);
  const errors = names.map((_, k) => Float64Array.from({ length: count }, (_, n) => (int8[n * O + k]! - float[n * O + k]!) * scale(k)));
  const kept = keptIndices(count);
  return {
    outputs: names,
    unit: regression ? 'target units' : 'logits',
    count,
    rows: errors.flatMap((e, k) => kept.map((n) => ({ index: n, output: names[k]!, error: e[n]! }))),
    histogram: errors.flatMap((e, k) => histogram(e).map((b) => ({ output: names[k]!, ...b }))),
    maxAbs: errors.map((e) => e.reduce((m, v) => Math.max(m, Math.abs(v)), 0)),
  };
}

/** Equal-width bins over [min, max]; the last bin holds max. */
export function histogram(values: Float64Array, bins = HISTOGRAM_BINS): { start: number; end: number; count: number }[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (!(hi >= lo)) return [];
  const width = hi > lo ? (hi - lo) / bins : 1;
  const counts = new Array<number>(hi > lo ? bins : 1).fill(0);
  for (const v of values) counts[Math.min(counts.length - 1, Math.floor((v - lo) / width))]!++;
  return counts.map((count, i) => ({ start: lo + i * width, end: lo + (i + 1) * width, count }));
}

export interface RangeData {
  /** Each calibrated tensor's float range, with its layer ("input", "layer 0", "head"). */
  rows: { name: string; group: string; min: number; max: number }[];
  /** Per recurrent layer: the int8 scheme chosen from those ranges. */
  layers: string[];
}

export function rangeData(run: ReportRun): RangeData {
  const group = (name: string) => {
    const layer = /^layer(\d+)\./.exec(name);
    if (layer) return `layer ${layer[1]}`;
    if (name.startsWith('input.')) return 'input';
    return name === 'output' ? 'output' : 'layer 0';
  };
  const s = run.report.scheme;
  return {
    rows: run.report.calibration.map((r) => ({ name: r.name, group: group(r.name), min: r.min, max: r.max })),
    layers: s.layers.map(
      (l, i) =>
        `${s.layers.length > 1 ? `layer ${i}: ` : ''}${l.cell} ${l.units} units, gate shift ${l.gateShift}, cell ${l.cellFormat}, multipliers ${l.multiplierBits.min}-${l.multiplierBits.max} bits, ${s.weightScale} weight scales`,
    ),
  };
}

export interface MemoryData {
  budget: BudgetReport;
  /** The weights, tables and state of the model in bytes (codegen/ram-estimate.ts). */
  bytes: { part: string; bytes: number }[];
}

/** The model on the board as `codegen --board` counts it: the module that runs there, weights in RAM and (Espruino) in flash. */
export function memoryData(run: ReportRun): MemoryData {
  const { q, board } = run;
  const espruino = board.kind === 'espruino';
  const emit: EmitOptions = {
    target: espruino ? 'espruino' : 'es5',
    globalName: 'lstmModel',
    modelSha256: sha256Hex(encodeQuantizedModel(q)),
    generatorVersion: TOOL_VERSION,
    // As codegen --board generates it: the kernel that board's CPU runs.
    ...(board.kind === 'espruino' ? { native: nativeForBoard(DEFAULT_NATIVE, board.envBoard) } : {}),
  };
  const placements: { weights: 'ram' | 'flash'; code: string }[] = [{ weights: 'ram', code: emitModule(q, emit) }];
  if (espruino) placements.push({ weights: 'flash', code: emitModule(q, { ...emit, flash: FLASH_FILE }) });
  const ram = estimateRam(q);
  return {
    budget: deviceBudget(q, board, placements, emit),
    bytes: [
      { part: 'weights', bytes: ram.weightBytes },
      { part: 'tables', bytes: ram.tableBytes },
      { part: 'state', bytes: ram.stateBytes },
    ],
  };
}

/** The Storage file and writer `codegen --weights flash` names by default: the names only change strings of the module. */
const FLASH_FILE = { file: 'model.bin', writer: 'model.weights.js' };
