/**
 * The native context (docs/NUMERICS.md, "The native context"): one buffer
 * holding everything the C kernel of native/lstm-step.c reads and writes for one
 * model — a header of int32 words, one descriptor per layer, the state, a
 * scratch area, the tanh table and the weights. The word indices mirror
 * native/context.h. The kernel reads nothing else, so one blob serves every model.
 */
import {
  gateCount,
  hasCellState,
  hasPeepholes,
  readsCellBelow,
  hasRecurrentBias,
  isWindowModel,
  GRU_GATE,
  type CellKind,
  type QuantRecurrentLayer,
  type QuantizedModel,
} from '../core/model.ts';

/** "LMK2" little-endian: the layout version (LMK_MAGIC in context.h). */
export const NATIVE_MAGIC = 0x324b4d4c;
/** Gate rows are stored in groups of this many, their words interleaved (the kernel computes a group per pass over v). */
export const ROWS_PER_GROUP = 4;
export const HEADER_WORDS = 16;
export const LAYER_WORDS = 16;

/** Header word indices (context.h, H_*). */
export const H = {
  magic: 0,
  layerCount: 1,
  tableOff: 2,
  scratchOff: 3,
  resetHOff: 4,
  headOutputs: 5,
  headInputs: 6,
  headInOff: 7,
  headWeightsOff: 8,
  headBiasOff: 9,
  outputOff: 10,
  stateOff: 11,
  stateBytes: 12,
  inputOff: 13,
  inputSize: 14,
} as const;

/** Layer descriptor word indices (context.h, L_*). */
export const L = {
  cell: 0,
  inputs: 1,
  units: 2,
  inOff: 3,
  hOff: 4,
  weightsOff: 5,
  rowScaleOff: 6,
  shift: 8,
  cellBits: 9,
  cellOff: 10,
  gatesOff: 11,
  peepOff: 12,
  peepShift: 13,
  recBiasOff: 14,
} as const;

/** The kernel's number for each cell kind (context.h, CELL_*); undefined: the kernel has no step for it. */
export const NATIVE_CELL: { readonly [K in CellKind]: number | undefined } = {
  lstm: 0,
  peephole: 1,
  cifg: 2,
  gru: 3,
  'gru-reset-after': 4,
  rnn: 5,
  // the kernel has no step counter: a clockwork layer runs the JavaScript step
  clockwork: undefined,
  // the kernel steps each layer on its own: a depth-gated layer, which reads the c of the one below, runs the JavaScript step
  'depth-gated': undefined,
};

/** Bytes rounded up to a whole number of int32 words: every region and every weight row is 4-byte aligned. */
export const pad4 = (n: number): number => (n + 3) & ~3;

/** G·U4: every gate's rows padded with zero rows to a multiple of 4, so that groups of 4 rows never span two gates. */
export const paddedRows = (layer: QuantRecurrentLayer): number => gateCount(layer.cell) * pad4(layer.units);

/**
 * Byte offset, from the layer's weights, of byte i of padded row r (row width `stride` = I4 + U4 bytes):
 * rows come in groups of 4 whose words are interleaved (word k of rows 0, 1, 2, 3, then word k + 1).
 */
export function weightByteOffset(r: number, i: number, stride: number): number {
  const group = Math.floor(r / ROWS_PER_GROUP);
  const word = Math.floor(i / 4);
  return group * ROWS_PER_GROUP * stride + (word * ROWS_PER_GROUP + (r % ROWS_PER_GROUP)) * 4 + (i % 4);
}

/** Where one layer's arrays live (byte offsets from the start of the buffer). */
export interface NativeLayerPlan {
  layer: QuantRecurrentLayer;
  inOff: number;
  hOff: number;
  cellOff: number;
  gatesOff: number;
  weightsOff: number;
  rowScaleOff: number;
  peepOff: number;
  recBiasOff: number;
}

export interface NativeContextPlan {
  layers: NativeLayerPlan[];
  inputOff: number;
  inputSize: number;
  outputOff: number;
  headOutputs: number;
  stateOff: number;
  stateBytes: number;
  scratchOff: number;
  resetHOff: number;
  tableOff: number;
  headWeightsOff: number;
  headBiasOff: number;
  totalBytes: number;
}

export interface NativeContext {
  plan: NativeContextPlan;
  /** The buffer the kernel reads, 4-byte aligned wherever it is placed (a flat string on Espruino). */
  bytes: Uint8Array;
}

/** Why the kernel cannot run this model yet (one line), or undefined when it can. */
export function nativeUnsupported(model: QuantizedModel): string | undefined {
  if (isWindowModel(model))
    return 'window models (bidirectional, reverse or deployed as a window) run in JavaScript: the kernel has the streaming step only';
  if (model.layers.some((l) => readsCellBelow(l.cell)))
    return 'depth-gated layers run in JavaScript: the kernel steps each layer on its own and has no depth gate';
  const other = model.layers.find((l) => NATIVE_CELL[l.cell] === undefined);
  if (other) return `${other.cell} layers run in JavaScript: the kernel has no step for them`;
  return undefined;
}

/**
 * Byte offsets of every region. Order: header and descriptors; the state block
 * (x, every h, y, every c, every gate: what changes at a step; each kind packed
 * across layers); the scratch; the
 * tanh table; each layer's weights and multipliers; the head.
 */
export function planNativeContext(model: QuantizedModel): NativeContextPlan {
  const why = nativeUnsupported(model);
  if (why) throw new Error(`native context: ${why}`);
  let cursor = 0;
  const take = (bytes: number): number => {
    const at = cursor;
    cursor += pad4(bytes);
    return at;
  };
  const { layers, head } = model;
  take(4 * (HEADER_WORDS + LAYER_WORDS * layers.length));
  const inputSize = layers[0].inputSize;
  const stateOff = cursor;
  const inputOff = take(inputSize);
  // Every layer's h, c and gates follow the layer below's with no padding between (one view each, as the
  // simulator's state): an h may start at any byte and a c or gates at any even byte.
  const packed = (bytes: number[]): number[] => {
    const at = take(bytes.reduce((sum, b) => sum + b, 0));
    return bytes.map((_, l) => at + bytes.slice(0, l).reduce((sum, b) => sum + b, 0));
  };
  const hOffs = packed(layers.map((l) => l.units));
  const outputOff = take(4 * head.outputSize);
  const cellOffs = packed(layers.map((l) => (hasCellState(l.cell) ? 2 * l.units : 0))).map((off, l) =>
    hasCellState(layers[l].cell) ? off : 0,
  );
  const gatesOffs = packed(layers.map((l) => 2 * gateCount(l.cell) * l.units));
  const stateBytes = cursor - stateOff;
  // The expanded v is 2 bytes per padded int8 value, for the widest layer (or the head's input).
  const widest = Math.max(pad4(head.inputSize), ...layers.map((l) => pad4(l.inputSize) + pad4(l.units)));
  const scratchOff = take(2 * widest);
  const resetHOff = take(Math.max(...layers.map((l) => l.units)));
  const tableOff = take(2 * model.tables.tanhQ15.length);
  const plans = layers.map((layer, l): NativeLayerPlan => {
    const rows = paddedRows(layer);
    return {
      layer,
      inOff: l === 0 ? inputOff : hOffs[l - 1],
      hOff: hOffs[l],
      cellOff: cellOffs[l],
      gatesOff: gatesOffs[l],
      weightsOff: take(rows * (pad4(layer.inputSize) + pad4(layer.units))),
      rowScaleOff: take(8 * rows),
      peepOff: hasPeepholes(layer.cell) ? take(4 * 3 * layer.units) : 0,
      recBiasOff: hasRecurrentBias(layer.cell) ? take(4 * layer.units) : 0,
    };
  });
  const headWeightsOff = take(head.outputSize * pad4(head.inputSize));
  const headBiasOff = take(4 * head.outputSize);
  return {
    layers: plans,
    inputOff,
    inputSize,
    outputOff,
    headOutputs: head.outputSize,
    stateOff,
    stateBytes,
    scratchOff,
    resetHOff,
    tableOff,
    headWeightsOff,
    headBiasOff,
    totalBytes: cursor,
  };
}

/** BM = b · m + 2^(S−1): the bias folded into the rounding offset (NUMERICS.md §5 notes); an int32 by §7. */
export function foldedBias(biasQ: number, multiplier: number, shift: number, where: string): number {
  const folded = biasQ * multiplier + 2 ** (shift - 1);
  if (!Number.isSafeInteger(folded) || folded < -(2 ** 31) || folded >= 2 ** 31)
    throw new Error(`native context: ${where}: folded bias ${folded} is not an int32 (the bounds of NUMERICS.md §7 do not hold)`);
  return folded;
}

/** The buffer of a model: every region of the plan filled in. */
export function buildNativeContext(model: QuantizedModel): NativeContext {
  const plan = planNativeContext(model);
  const bytes = new Uint8Array(plan.totalBytes);
  const view = new DataView(bytes.buffer);
  const header = [NATIVE_MAGIC, model.layers.length, plan.tableOff, plan.scratchOff, plan.resetHOff, plan.headOutputs];
  header.push(model.head.inputSize, plan.layers[plan.layers.length - 1].hOff, plan.headWeightsOff, plan.headBiasOff);
  header.push(plan.outputOff, plan.stateOff, plan.stateBytes, plan.inputOff, plan.inputSize);
  header.forEach((w, i) => view.setInt32(4 * i, w, true));
  plan.layers.forEach((p, l) => writeLayer(view, bytes, p, 4 * (HEADER_WORDS + LAYER_WORDS * l)));
  model.tables.tanhQ15.forEach((t, j) => view.setInt16(plan.tableOff + 2 * j, t, true));
  const { head } = model;
  const headStride = pad4(head.inputSize);
  for (let k = 0; k < head.outputSize; k++) {
    bytes.set(
      new Uint8Array(head.weightsQ.buffer, head.weightsQ.byteOffset + k * head.inputSize, head.inputSize),
      plan.headWeightsOff + k * headStride,
    );
    view.setInt32(plan.headBiasOff + 4 * k, head.biasQ[k], true);
  }
  return { plan, bytes };
}

/** One layer's descriptor at `at`, its weight rows (padded as [x | h]) and its int32 arrays. */
function writeLayer(view: DataView, bytes: Uint8Array, p: NativeLayerPlan, at: number): void {
  const { layer } = p;
  const I = layer.inputSize;
  const U = layer.units;
  const width = I + U;
  const stride = pad4(I) + pad4(U);
  const S = layer.gateShift;
  const words: Record<keyof typeof L, number> = {
    cell: NATIVE_CELL[layer.cell]!,
    inputs: I,
    units: U,
    inOff: p.inOff,
    hOff: p.hOff,
    weightsOff: p.weightsOff,
    rowScaleOff: p.rowScaleOff,
    shift: S,
    cellBits: layer.cellIntBits,
    cellOff: p.cellOff,
    gatesOff: p.gatesOff,
    peepOff: p.peepOff,
    peepShift: layer.peepholeShift,
    recBiasOff: p.recBiasOff,
  };
  for (const [name, index] of Object.entries(L)) view.setInt32(at + 4 * index, words[name as keyof typeof L], true);
  const U4 = pad4(U);
  for (let r = 0; r < gateCount(layer.cell) * U; r++) {
    // row r = gate ⌊r / U⌋, unit r mod U, stored as padded row gate · U4 + unit: [x | 0.. | h | 0..]
    const padded = Math.floor(r / U) * U4 + (r % U);
    for (let i = 0; i < width; i++) {
      const column = i < I ? i : pad4(I) + i - I;
      view.setInt8(p.weightsOff + weightByteOffset(padded, column, stride), layer.weightsQ[r * width + i]);
    }
    const m = layer.gateMultiplier[r];
    view.setInt32(p.rowScaleOff + 8 * padded, m, true);
    view.setInt32(p.rowScaleOff + 8 * padded + 4, foldedBias(layer.biasQ[r], m, S, `row ${r}`), true);
  }
  if (p.peepOff) layer.peepholeMultiplier.forEach((pm, k) => view.setInt32(p.peepOff + 4 * k, pm, true));
  if (p.recBiasOff)
    for (let u = 0; u < U; u++) {
      const m = layer.gateMultiplier[GRU_GATE.candidate * U + u];
      view.setInt32(p.recBiasOff + 4 * u, foldedBias(layer.recurrentBiasQ[u], m, S, `recurrent bias ${u}`), true);
    }
}

/** The state after a step, in the simulator's order (SimState, and the head accumulator). */
export interface NativeState {
  hQ7: Int8Array;
  cellQ: Int16Array;
  gatesQ15: Int16Array;
  outputAcc: Int32Array;
}

/** Reads the state block (plan.stateBytes bytes, as the harness writes it) into the simulator's arrays. */
export function readNativeState(plan: NativeContextPlan, block: Uint8Array): NativeState {
  const at = (off: number) => off - plan.stateOff;
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const int16s = (off: number, n: number) => Int16Array.from({ length: n }, (_, i) => view.getInt16(at(off) + 2 * i, true));
  const layers = plan.layers;
  return {
    hQ7: Int8Array.from(layers.flatMap((p) => Array.from({ length: p.layer.units }, (_, u) => view.getInt8(at(p.hOff) + u)))),
    cellQ: Int16Array.from(layers.flatMap((p) => (p.cellOff ? Array.from(int16s(p.cellOff, p.layer.units)) : []))),
    gatesQ15: Int16Array.from(layers.flatMap((p) => Array.from(int16s(p.gatesOff, gateCount(p.layer.cell) * p.layer.units)))),
    outputAcc: Int32Array.from({ length: plan.headOutputs }, (_, k) => view.getInt32(at(plan.outputOff) + 4 * k, true)),
  };
}
