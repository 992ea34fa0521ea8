/**
 * The host side of trainer/wasm/recurrent.wasm: whole-sequence forward and
 * backward passes of one recurrent layer of any cell kind on Float32Arrays.
 *
 * Tensors arrive batch-major as tfjs holds them (x [B][T][F], outputs
 * [B][T][H]) and are laid out time-major in the module's memory, where each
 * step's rows are contiguous. Weights use the layouts of core/model.ts
 * (kernel [F][G·H], recurrentKernel [H][G·H], bias [G·H]; peephole [3][H],
 * recurrentBias [G·H]), which are those of tfjs-layers and trainer/cells.ts. Everything the backward pass needs is copied out of the
 * module after the forward pass, so any number of layers and batches can be
 * in flight; the module's memory is scratch for one call at a time.
 */
import fs from 'node:fs';
import { UserError } from '../core/errors.ts';

import {
  hasCellState,
  readsCellBelow,
  CELLS,
  resetsBeforeProduct,
  hasRecurrentBias,
  hasPeepholes,
  gateCount,
  type CellKind,
} from '../core/model.ts';

/** The kinds the kernel runs: every kind but the depth-gated LSTM, whose layers read the cell state of the layer below (a kernel runs one layer). */
export type FusedCell = Exclude<CellKind, 'depth-gated'>;
export const isFusedCell = (cell: CellKind): cell is FusedCell => !readsCellBelow(cell);
/** The kernel's number for each cell kind (trainer/wasm/recurrent.ts). */
// clockwork: the kernel has no clock, so a clockwork layer trains as its TensorFlow.js cell (fusedRefusal)
const KIND: Record<Exclude<FusedCell, 'clockwork'>, number> = { lstm: 0, gru: 1, rnn: 2, peephole: 3, cifg: 4, 'gru-reset-after': 5 };
/** The kernel's number of a cell it runs. */
function kindOf(cell: FusedCell): number {
  if (cell === 'clockwork') throw new Error('the fused kernel has no clock: a clockwork layer trains as its TensorFlow.js cell');
  return KIND[cell];
}
const GATES = (cell: FusedCell) => gateCount(cell);
/** Length of a cell's fourth weight tensor: the peephole weights [3][H] or the recurrent bias [G·H]; 0 when it has none. */
export function extraLength(cell: FusedCell, H: number): number {
  return hasPeepholes(cell) ? 3 * H : hasRecurrentBias(cell) ? GATES(cell) * H : 0;
}
/** Cells whose state carries c: the cells buffer holds it (GRU reset-after: its hz_h). */
const KEEPS_CELLS = (cell: FusedCell) => hasCellState(cell) || hasRecurrentBias(cell);

export interface SequenceShape {
  cell: FusedCell;
  /** Steps, batch rows, input features, units. */
  T: number;
  B: number;
  F: number;
  H: number;
}

export interface LayerWeights {
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  bias: Float32Array;
  /** The peephole weights or the recurrent bias (extraLength). */
  extra?: Float32Array;
}

/**
 * Dropout masks of one batch (0 or 1/(1 − rate), as tfjs draws them) and
 * padding. tfjs-layers' LSTM and RNN cells apply one input mask and one
 * recurrent mask to every step and every gate: z = (x ⊙ input) W + (h ⊙ recurrent) U + b.
 */
export interface SequenceMasks {
  /** [B][F] */
  input?: Float32Array;
  /** [B][H]; the LSTM and the RNN only. */
  recurrent?: Float32Array;
  /** [B][T]: 0 where a step is padding (it keeps the state before it), else 1. */
  steps?: Float32Array;
}

/** What the forward pass leaves for the backward pass (time-major). */
export interface ForwardRecord {
  shape: SequenceShape;
  masks: SequenceMasks;
  /** masks.steps, time-major [T][B]. */
  stepsTB?: Float32Array;
  x: Float32Array;
  gates: Float32Array;
  hs: Float32Array;
  cells: Float32Array;
}

export interface Gradients {
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  bias: Float32Array;
  extra?: Float32Array;
  /** [B][T][F], when asked for. */
  x?: Float32Array;
}

interface Exports {
  forward(
    kind: number,
    x: number,
    W: number,
    U: number,
    bias: number,
    extra: number,
    gates: number,
    hs: number,
    cells: number,
    scratch: number,
    T: number,
    B: number,
    F: number,
    H: number,
    recMask: number,
    stepMask: number,
  ): void;
  heapBase(): number;
  backward(
    kind: number,
    x: number,
    W: number,
    U: number,
    extra: number,
    gates: number,
    hs: number,
    cells: number,
    dHs: number,
    dz: number,
    dzh: number,
    dW: number,
    dU: number,
    db: number,
    dExtra: number,
    dX: number,
    scratch: number,
    T: number,
    B: number,
    F: number,
    H: number,
    recMask: number,
    stepMask: number,
  ): void;
}

const PAGE = 65536;
/** What a 32-bit WebAssembly memory can hold. */
const MAX_BYTES = 65536 * PAGE;
let module: { exports: Exports; memory: WebAssembly.Memory } | undefined;

function kernels(): { exports: Exports; memory: WebAssembly.Memory } {
  if (!module) {
    const bytes = fs.readFileSync(new URL('./wasm/recurrent.wasm', import.meta.url));
    const memory = new WebAssembly.Memory({ initial: 16 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    module = { exports: instance.exports as unknown as Exports, memory };
  }
  return module;
}

/** Byte offsets of consecutive f32 arrays of the given lengths, 16-byte aligned, after the module's static data; grows memory to fit. */
function layout(s: SequenceShape, lengths: number[]): { at: number[]; f32: Float32Array } {
  const k = kernels();
  const at: number[] = [];
  let p = Math.ceil(k.exports.heapBase() / 16) * 16;
  for (const n of lengths) {
    at.push(p);
    p += Math.ceil((n * 4) / 16) * 16;
  }
  const need = Math.ceil(p / PAGE) - k.memory.buffer.byteLength / PAGE;
  if (need > 0) {
    const tooBig = (why: string) =>
      new UserError(
        `the fused ${s.cell} kernel needs ${Math.ceil(p / 2 ** 20)} MiB for a batch of ${s.B} windows x ${s.T} steps x ${s.H} units, ${why}: use a smaller --batch-size, or --recurrent-kernel tfjs`,
      );
    if (p > MAX_BYTES) throw tooBig('more than WebAssembly can address (4 GiB)');
    try {
      k.memory.grow(need);
    } catch {
      throw tooBig('and this process could not get that memory');
    }
  }
  return { at, f32: new Float32Array(k.memory.buffer) };
}

/** layout() of named arrays, in the order given: the byte offset of each under its name. */
function namedLayout<K extends string>(s: SequenceShape, lengths: Record<K, number>): { p: Record<K, number>; f32: Float32Array } {
  const names = Object.keys(lengths) as K[];
  const { at, f32 } = layout(s, Object.values<number>(lengths));
  return { p: Object.fromEntries(names.map((k, i) => [k, at[i]!])) as Record<K, number>, f32 };
}

/** [B][T][n] (batch-major) into [T][B][n] (time-major), or back with `toBatch`. */
export function reorder(src: Float32Array, B: number, T: number, n: number, toBatch = false): Float32Array {
  const out = new Float32Array(src.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const bt = (b * T + t) * n;
      const tb = (t * B + b) * n;
      if (toBatch) out.set(src.subarray(tb, tb + n), bt);
      else out.set(src.subarray(bt, bt + n), tb);
    }
  }
  return out;
}

/** x [B][T][F] ⊙ mask [B][F], every step. */
function maskInputs(x: Float32Array, mask: Float32Array, B: number, T: number, F: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let f = 0; f < F; f++) out[(b * T + t) * F + f] = x[(b * T + t) * F + f]! * mask[b * F + f]!;
    }
  }
  return out;
}

function checkMasks(s: SequenceShape, m: SequenceMasks): void {
  const bad = (what: string, n: number, want: string) => new Error(`fused ${s.cell}: ${what} mask has ${n} values, expected ${want}`);
  if (m.input && m.input.length !== s.B * s.F) throw bad('the input', m.input.length, `${s.B} x ${s.F}`);
  if (m.recurrent && m.recurrent.length !== s.B * s.H) throw bad('the recurrent', m.recurrent.length, `${s.B} x ${s.H}`);
  if (m.recurrent && !CELLS[s.cell].fusedDropout) throw new Error(`fused ${s.cell}: recurrent dropout is for the lstm and rnn cells`);
  if (m.steps && m.steps.length !== s.B * s.T) throw bad('the step', m.steps.length, `${s.B} x ${s.T}`);
}

function checkSizes(s: SequenceShape, w: LayerWeights): void {
  const GH = GATES(s.cell) * s.H;
  if (
    w.kernel.length !== s.F * GH ||
    w.recurrentKernel.length !== s.H * GH ||
    w.bias.length !== GH ||
    (w.extra?.length ?? 0) !== extraLength(s.cell, s.H)
  ) {
    throw new Error(`fused ${s.cell}: weights do not match ${s.F} inputs and ${s.H} units`);
  }
}

/** Runs the layer over x [B][T][F]; returns every step's h, [B][T][H], and the record for backward(). */
export function forward(
  s: SequenceShape,
  x: Float32Array,
  w: LayerWeights,
  masks: SequenceMasks = {},
): { h: Float32Array; record: ForwardRecord } {
  checkSizes(s, w);
  checkMasks(s, masks);
  const { T, B, F, H } = s;
  const GH = GATES(s.cell) * H;
  if (x.length !== T * B * F) throw new Error(`fused ${s.cell}: x has ${x.length} values, expected ${B} x ${T} x ${F}`);
  // Input dropout: the kernel reads x ⊙ mask.
  const xt = reorder(masks.input ? maskInputs(x, masks.input, B, T, F) : x, B, T, F);
  const stepsTB = masks.steps ? reorder(masks.steps, B, T, 1) : undefined;
  const { p, f32 } = namedLayout(s, {
    x: T * B * F,
    W: F * GH,
    U: H * GH,
    bias: GH,
    extra: extraLength(s.cell, H),
    gates: T * B * GH,
    hs: T * B * H,
    cells: T * B * H,
    scratch: 4 * B * H,
    rec: B * H,
    steps: T * B,
  });
  if (masks.recurrent) f32.set(masks.recurrent, p.rec / 4);
  if (stepsTB) f32.set(stepsTB, p.steps / 4);
  f32.set(xt, p.x / 4);
  f32.set(w.kernel, p.W / 4);
  f32.set(w.recurrentKernel, p.U / 4);
  f32.set(w.bias, p.bias / 4);
  if (w.extra) f32.set(w.extra, p.extra / 4);
  kernels().exports.forward(
    kindOf(s.cell),
    p.x,
    p.W,
    p.U,
    p.bias,
    p.extra,
    p.gates,
    p.hs,
    p.cells,
    p.scratch,
    T,
    B,
    F,
    H,
    masks.recurrent ? p.rec : 0,
    stepsTB ? p.steps : 0,
  );
  const copy = (at: number, n: number) => f32.slice(at / 4, at / 4 + n);
  const hs = copy(p.hs, T * B * H);
  const record: ForwardRecord = {
    shape: s,
    masks,
    ...(stepsTB ? { stepsTB } : {}),
    x: xt,
    gates: copy(p.gates, T * B * GH),
    hs,
    cells: KEEPS_CELLS(s.cell) ? copy(p.cells, T * B * H) : new Float32Array(0),
  };
  return { h: reorder(hs, B, T, H, true), record };
}

/** [B][T][n] with each window's steps in reverse order. */
export function reverseTime(src: Float32Array, B: number, T: number, n: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) out.set(src.subarray((b * T + t) * n, (b * T + t + 1) * n), (b * T + T - 1 - t) * n);
  }
  return out;
}

/** The last step's h of forward()'s [B][T][H] output: [B][H]. */
export function lastStep(h: Float32Array, B: number, T: number, H: number): Float32Array {
  const out = new Float32Array(B * H);
  for (let b = 0; b < B; b++) out.set(h.subarray((b * T + T - 1) * H, (b * T + T) * H), b * H);
  return out;
}

/** The module's memory for backward(): the forward record, dh, the gradients, the kernel's scratch, the masks. */
function backwardLayout(s: SequenceShape) {
  const { T, B, F, H } = s;
  const GH = GATES(s.cell) * H;
  const E = extraLength(s.cell, H);
  const scratch = GH * H + GH * F + 4 * B * H + (resetsBeforeProduct(s.cell) ? T * B * H : 0) + 2 * B * H + T * B * H;
  const dzh = hasRecurrentBias(s.cell) ? T * B * GH : 0;
  return namedLayout(s, {
    x: T * B * F,
    W: F * GH,
    U: H * GH,
    extra: E,
    gates: T * B * GH,
    hs: T * B * H,
    cells: T * B * H,
    dHs: T * B * H,
    dz: T * B * GH,
    dzh,
    dW: F * GH,
    dU: H * GH,
    db: GH,
    dExtra: E,
    dX: T * B * F,
    scratch,
    rec: B * H,
    steps: T * B,
  });
}

/**
 * Gradients of the loss with respect to the weights (and x when `inputGradient`),
 * given dh [B][T][H]: the loss gradient of every step's h.
 */
export function backward(r: ForwardRecord, dh: Float32Array, w: LayerWeights, inputGradient: boolean): Gradients {
  const s = r.shape;
  const { T, B, F, H } = s;
  const GH = GATES(s.cell) * H;
  const E = extraLength(s.cell, H);
  if (dh.length !== T * B * H) throw new Error(`fused ${s.cell}: dh has ${dh.length} values, expected ${B} x ${T} x ${H}`);
  const { p, f32 } = backwardLayout(s);
  if (r.masks.recurrent) f32.set(r.masks.recurrent, p.rec / 4);
  if (r.stepsTB) f32.set(r.stepsTB, p.steps / 4);
  f32.set(r.x, p.x / 4);
  f32.set(w.kernel, p.W / 4);
  f32.set(w.recurrentKernel, p.U / 4);
  if (w.extra) f32.set(w.extra, p.extra / 4);
  f32.set(r.gates, p.gates / 4);
  f32.set(r.hs, p.hs / 4);
  f32.set(r.cells, p.cells / 4);
  f32.set(reorder(dh, B, T, H), p.dHs / 4);
  kernels().exports.backward(
    kindOf(s.cell),
    p.x,
    p.W,
    p.U,
    p.extra,
    p.gates,
    p.hs,
    p.cells,
    p.dHs,
    p.dz,
    p.dzh,
    p.dW,
    p.dU,
    p.db,
    p.dExtra,
    inputGradient ? p.dX : 0,
    p.scratch,
    T,
    B,
    F,
    H,
    r.masks.recurrent ? p.rec : 0,
    r.stepsTB ? p.steps : 0,
  );
  const copy = (at: number, n: number) => f32.slice(at / 4, at / 4 + n);
  // Input dropout: ∂L/∂x = (dz Wᵀ) ⊙ mask
  const dx = () => {
    const g = reorder(copy(p.dX, T * B * F), B, T, F, true);
    return r.masks.input ? maskInputs(g, r.masks.input, B, T, F) : g;
  };
  return {
    kernel: copy(p.dW, F * GH),
    recurrentKernel: copy(p.dU, H * GH),
    bias: copy(p.db, GH),
    ...(E ? { extra: copy(p.dExtra, E) } : {}),
    ...(inputGradient ? { x: dx() } : {}),
  };
}
