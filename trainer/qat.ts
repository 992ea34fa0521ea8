/**
 * Quantization-aware fine-tuning: a trained float model trains on, with the
 * integer contract of docs/NUMERICS.md simulated in its forward pass, so that
 * the int8 model quantized from it loses less than post-training
 * quantization of the original does.
 *
 * The forward pass (fake quantization, float arithmetic on the grid the device uses):
 *   x       -> int8 on the model's input scales (§3), embedding rows on their column scales (§3a)
 *   W, U    -> int8 per row (or gate, or tensor) of the folded coefficients W · columnScale (§6)
 *   σ(z)    -> σ at the middle of z's 2^-7 bucket, z saturated to Q3.12's [−8, 8) (§4)
 *   tanh(z) -> tanh at the middle of z's 2^-8 bucket, z clamped to [−4, 4) (§4)
 *   c       -> Q(K).(15−K), K the layer's cell format (§5 step 4); a depth-gated
 *              layer reads the lower layer's fake-quantized c at the same step (§5j)
 *   h, r ⊙ h -> Q0.7; a 'sum' merge h_f + h_b -> Q1.6 (§5, §5b, §5h)
 *   D       -> int8 with one scale for the head (§6)
 * Every rounding passes its gradient straight through (the straight-through
 * estimator); a saturation passes none outside its range.
 *
 * The loss is the distance from the float model itself (self-distillation):
 * mean |fake-quantized output − float output| over the training windows, so
 * the int8 model learns to compute what the float one does rather than to fit
 * the targets again (which moves a model trained to its best validation loss
 * away from it). The absolute value, not the square: a few windows whose
 * inputs pass the int8 input range would otherwise carry most of the loss.
 *
 * After every epoch the weights are quantized for real (quantize/quantize.ts)
 * and run by the simulator on the validation windows; the epoch whose int8
 * outputs are closest to the float model's there is kept, and epoch 0 (the
 * model as given) competes too, so fine-tuning never returns a model whose
 * int8 outputs are further from the float model's than post-training
 * quantization's on the validation windows.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs';
import type { Tf } from './backend.ts';
import { currentBackend } from './backend.ts';
import { permutation, mulberry32, batchTensors } from './train.ts';
import { floatWindowOutputs } from '../reference/float-outputs.ts';
import {
  hasCellState,
  hasRecurrentBias,
  CIFG_GATE,
  DEPTH_GATED_GATE,
  DEPTH_TERM,
  GATE,
  GRU_GATE,
  PEEPHOLE,
  PADDING_TOKEN,
  gateCount,
  type CellKind,
  type FloatModel,
  type FloatRecurrentLayer,
  type MergeMode,
  type QuantizedModel,
} from '../core/model.ts';
import { GATE_IN_FRAC_BITS, HIDDEN_FRAC_BITS, INT8_MAX, INT8_MIN, RECURRENT_PART_MAX, TANH_STEP_BITS } from '../core/fixed-point.ts';
import { layerOutputScale, type WeightScaleGranularity } from '../quantize/quantize.ts';
import type { Dataset, Split } from '../data/windows.ts';
import { UserError } from '../core/errors.ts';
import { clockMask, clockOfUnits, maskedRecurrentKernel } from '../core/clock.ts';
import { modelStartClocks } from './clock-column.ts';

export interface QatEpoch {
  /** 1-based; epoch 0 is the model as given. */
  epoch: number;
  epochs: number;
  /** Mean |fake-quantized output − float model's output| over the training windows (NaN for epoch 0). */
  loss: number;
  /** Mean |int8 output − float model's output| over the validation windows: what picks the epoch. */
  validationDistance: number;
  /** The real int8 model's task metric on the validation windows. */
  validationMetric: number;
}

export interface QatOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  weightScale: WeightScaleGranularity;
  /** The real int8 model of a float model (its scales drive the fake quantization of the next epoch). */
  quantize: (m: FloatModel) => QuantizedModel;
  /** The real int8 model's outputs on a split, [n][outputs] as floatWindowOutputs (the simulator). */
  int8Outputs: (float: FloatModel, q: QuantizedModel, split: Split) => Float64Array;
  /** The task metric of outputs on a split. */
  metric: (split: Split, outputs: ArrayLike<number>) => number;
  onEpoch?: (e: QatEpoch) => void;
  tf?: Tf;
}

export interface QatResult {
  /** The model with the kept weights (the original when no epoch came closer). */
  model: FloatModel;
  /** Its int8 model. */
  quantized: QuantizedModel;
  /** The int8 model of the model as given (post-training quantization; epoch 0). */
  postTraining: QuantizedModel;
  /** Epoch whose weights were kept; 0: the model as given. */
  bestEpoch: number;
  history: QatEpoch[];
}

/** One direction's trainable weights. */
interface DirectionVars {
  cell: CellKind;
  inputSize: number;
  units: number;
  kernel: Variable;
  recurrentKernel: Variable;
  bias: Variable;
  peephole?: Variable;
  recurrentBias?: Variable;
  depthGate?: Variable;
  /** Clockwork: the module periods (core/clock.ts). */
  clockPeriods?: number[];
}

interface LayerVars {
  forward: DirectionVars;
  backward?: DirectionVars;
  merge?: MergeMode;
  reverse: boolean;
}

/** The scales the fake quantization reads, from the real int8 model of the current weights. */
interface Grid {
  inputScales: number[];
  /** Per layer: the cell format K of the forward (or only) and backward directions. */
  cellIntBits: { forward: number; backward: number }[];
}

const HIDDEN_STEP = 2 ** -HIDDEN_FRAC_BITS;
/** σ reads a 2^-7 bucket of its argument, tanh a 2^-8 one (NUMERICS.md §4). */
const SIGMOID_BUCKET = 2 ** -(TANH_STEP_BITS - 1);
const TANH_BUCKET = 2 ** -TANH_STEP_BITS;
/** Q3.12 saturates at ±8; the tanh table's end buckets start at ±4. */
const GATE_IN_LIMIT = 2 ** (15 - GATE_IN_FRAC_BITS);
const GATE_IN_STEP = 2 ** -GATE_IN_FRAC_BITS;
const TANH_LIMIT = 4;
/** GRU reset-after: the recurrent part saturates at ±16 (§5d). */
const RECURRENT_PART_LIMIT = (RECURRENT_PART_MAX + 1) / 2 ** GATE_IN_FRAC_BITS;

/** The fake-quantization operators of one tfjs instance (straight-through gradients). */
function quantizers(tf: Tf) {
  const withGradient = (value: (x: Tensor) => Tensor, gradient: (dy: Tensor) => Tensor) =>
    tf.customGrad(((x: Tensor) => ({ value: value(x), gradFunc: gradient })) as never) as (x: Tensor) => Tensor;
  // round half up and floor, with the gradient of the identity
  const roundSte = withGradient(
    (x) => tf.floor(tf.add(x, 0.5)),
    (dy) => dy,
  );
  const floorSte = withGradient(
    (x) => tf.floor(x),
    (dy) => dy,
  );
  /** x, with no gradient (a scale computed from the weights is a constant of the step). */
  const stopGradient = withGradient(
    (x) => tf.mul(x, 1),
    (dy) => tf.zerosLike(dy),
  );
  /** sat(round(x / step), lo / step, hi / step) · step; no gradient outside [lo, hi]. */
  const grid = (x: Tensor, step: number, lo: number, hi: number) => tf.mul(roundSte(tf.div(tf.clipByValue(x, lo, hi), step)), step);
  /** The middle of x's bucket of this width, x clamped to [−limit, limit − width]. */
  const bucket = (x: Tensor, width: number, limit: number) =>
    tf.mul(tf.add(floorSte(tf.div(tf.clipByValue(x, -limit, limit - width), width)), 0.5), width);
  /** A gate row's input: Q3.12, saturated to int16 (§5 step 2). */
  const gateIn = (z: Tensor) => grid(z, GATE_IN_STEP, -GATE_IN_LIMIT, GATE_IN_LIMIT - GATE_IN_STEP);
  return {
    roundSte,
    stopGradient,
    /** A value already in Q3.12 units, rounded there (a peephole term, a reset-after recurrent part). */
    q12: (x: Tensor, limit: number) => grid(x, GATE_IN_STEP, -limit, limit),
    hidden: (x: Tensor) => grid(x, HIDDEN_STEP, -1, 1 - HIDDEN_STEP),
    /** Q1.6: a 'sum' merge. */
    merged: (x: Tensor) => grid(x, 2 * HIDDEN_STEP, -2, 2 - 2 * HIDDEN_STEP),
    /** One term of the cell update, rounded to Q(K).(15−K) (§5 step 4 rounds each product). */
    cellTerm: (x: Tensor, K: number) => grid(x, 2 ** -(15 - K), -(2 ** (K + 1)), 2 ** (K + 1)),
    cell: (x: Tensor, K: number) => tf.clipByValue(x, -(2 ** K), 2 ** K - 2 ** -(15 - K)),
    sigmoid: (z: Tensor) => tf.sigmoid(bucket(gateIn(z), SIGMOID_BUCKET, GATE_IN_LIMIT)),
    // tanh of a gate row: its Q3.12 input saturates at ±8, then the table clamps at ±4
    tanh: (z: Tensor) => tf.tanh(bucket(gateIn(z), TANH_BUCKET, TANH_LIMIT)),
    // tanh(c): c in Q3.12 (rounded when it has more fraction bits), read from the same table (§5 step 5)
    tanhCell: (c: Tensor) => tf.tanh(bucket(roundSte(tf.div(c, GATE_IN_STEP)).mul(GATE_IN_STEP), TANH_BUCKET, TANH_LIMIT)),
  };
}

type Quantizers = ReturnType<typeof quantizers>;

/** A direction's weights and biases on the grid of its int8 rows, in real units. */
interface GridWeights {
  wIn: Tensor;
  wH: Tensor;
  bias: Tensor;
  /** GRU reset-after: the candidate rows' recurrent bias (zero on the update and reset rows, whose bias holds both). */
  recurrentBias?: Tensor;
}

/**
 * The folded coefficients W · columnScale of a direction on the int8 grid its
 * quantizer uses, back in real weight units: per row r (a column of kernel and
 * recurrentKernel), s_r = max_i |W[i][r] · cs_i| / 127 (shared per gate or
 * tensor when asked), W' = round(W · cs / s) · s / cs; biases in accumulator
 * units, b' = round(b / s) · s (quantize/quantize.ts, NUMERICS.md §6).
 */
function fakeQuantWeights(
  tf: Tf,
  q: Quantizers,
  d: DirectionVars,
  inputColumnScale: Tensor,
  weightScale: WeightScaleGranularity,
): GridWeights {
  const U = d.units;
  const coeffIn = tf.mul(d.kernel, inputColumnScale);
  // clockwork: the links from a faster module are exact zeros on the device (§5i), so they get no gradient here
  const recurrent = d.clockPeriods ? tf.mul(d.recurrentKernel, tf.tensor2d(clockMask(U, d.clockPeriods), [U, U])) : d.recurrentKernel;
  const coeffH = tf.mul(recurrent, HIDDEN_STEP);
  let rowMax = tf.maximum(tf.max(tf.abs(coeffIn), 0), tf.max(tf.abs(coeffH), 0));
  if (weightScale === 'per-gate') rowMax = tf.tile(tf.max(tf.reshape(rowMax, [gateCount(d.cell), U]), 1, true), [1, U]).reshape([-1]);
  else if (weightScale === 'per-tensor') rowMax = tf.mul(tf.onesLike(rowMax), tf.max(rowMax));
  // an all-zero row takes any scale (codegen uses 1/127); a tiny one keeps the division defined
  const s = q.stopGradient(tf.div(tf.maximum(rowMax, 1e-30), INT8_MAX));
  const onGrid = (v: Tensor) => tf.mul(q.roundSte(tf.div(v, s)), s);
  const wIn = tf.div(onGrid(coeffIn), inputColumnScale);
  const wH = tf.div(onGrid(coeffH), HIDDEN_STEP);
  if (!hasRecurrentBias(d.cell)) return { wIn, wH, bias: onGrid(d.bias) };
  // reset-after: the update and reset rows fold both biases into one; the candidate rows keep them apart (§5d)
  const rb = d.recurrentBias!;
  const zrRows = (v: Tensor) => tf.slice(v, [0], [2 * U]);
  const candidateRows = (v: Tensor) => tf.slice(v, [2 * U], [U]);
  const sc = candidateRows(s);
  const onRows = (v: Tensor, scale: Tensor) => tf.mul(q.roundSte(tf.div(v, scale)), scale);
  return {
    wIn,
    wH,
    bias: tf.concat([onRows(tf.add(zrRows(d.bias), zrRows(rb)), zrRows(s)), onRows(candidateRows(d.bias), sc)]),
    recurrentBias: tf.concat([tf.zeros([2 * U]), onRows(candidateRows(rb), sc)]),
  };
}

/** Gate block g (of `units` columns) of a [batch][G*units] tensor. */
const gateBlock = (tf: Tf, z: Tensor, g: number, units: number) => tf.slice(z, [0, g * units], [-1, units]);

/** One step of one direction under fake quantization: the new (h, c); `cBelow` is the lower layer's c of this step (depth-gated). */
function cellStep(
  tf: Tf,
  q: Quantizers,
  d: DirectionVars,
  K: number,
  w: GridWeights,
  x: Tensor,
  h: Tensor,
  c: Tensor | undefined,
  cBelow?: Tensor,
): { h: Tensor; c?: Tensor } {
  const U = d.units;
  const xPart = tf.add(tf.matMul(x, w.wIn), w.bias);
  // c = sat16(roundShift(f · c, 15) + roundShift(i · g, 15 + K)): each product rounded, the sum saturated
  const cellUpdate = (f: Tensor, i: Tensor, g: Tensor) => q.cell(tf.add(q.cellTerm(tf.mul(f, c!), K), q.cellTerm(tf.mul(i, g), K)), K);
  switch (d.cell) {
    case 'lstm':
    case 'peephole': {
      const z = tf.add(xPart, tf.matMul(h, w.wH));
      // peep = roundShift(cQ · pm_k, P), a Q3.12 term added before the saturation (§5e)
      const peep = d.peephole ? (k: number, cell: Tensor) => q.q12(tf.mul(tf.slice(d.peephole!, [k * U], [U]), cell), 2 ** 20) : undefined;
      const row = (g: number, k: number, cell: Tensor | undefined) =>
        peep ? tf.add(gateBlock(tf, z, g, U), peep(k, cell!)) : gateBlock(tf, z, g, U);
      const i = q.sigmoid(row(GATE.input, PEEPHOLE.input, c));
      const f = q.sigmoid(row(GATE.forget, PEEPHOLE.forget, c));
      const g = q.tanh(gateBlock(tf, z, GATE.cell, U));
      const cNew = cellUpdate(f, i, g);
      const o = q.sigmoid(row(GATE.output, PEEPHOLE.output, cNew));
      return { h: q.hidden(tf.mul(o, q.tanhCell(cNew))), c: cNew };
    }
    case 'cifg': {
      const z = tf.add(xPart, tf.matMul(h, w.wH));
      const f = q.sigmoid(gateBlock(tf, z, CIFG_GATE.forget, U));
      const g = q.tanh(gateBlock(tf, z, CIFG_GATE.cell, U));
      const cNew = cellUpdate(f, tf.sub(1, f), g);
      const o = q.sigmoid(gateBlock(tf, z, CIFG_GATE.output, U));
      return { h: q.hidden(tf.mul(o, q.tanhCell(cNew))), c: cNew };
    }
    case 'gru': {
      const zr = tf.add(tf.slice(xPart, [0, 0], [-1, 2 * U]), tf.matMul(h, tf.slice(w.wH, [0, 0], [-1, 2 * U])));
      const update = q.sigmoid(gateBlock(tf, zr, GRU_GATE.update, U));
      const reset = q.sigmoid(gateBlock(tf, zr, GRU_GATE.reset, U));
      const rh = q.hidden(tf.mul(reset, h));
      const cand = q.tanh(
        tf.add(gateBlock(tf, xPart, GRU_GATE.candidate, U), tf.matMul(rh, tf.slice(w.wH, [0, GRU_GATE.candidate * U], [-1, U]))),
      );
      return { h: q.hidden(tf.add(tf.mul(update, h), tf.mul(tf.sub(1, update), cand))) };
    }
    case 'gru-reset-after': {
      const hPart = tf.add(tf.matMul(h, w.wH), w.recurrentBias!);
      const zr = tf.add(tf.slice(xPart, [0, 0], [-1, 2 * U]), tf.slice(hPart, [0, 0], [-1, 2 * U]));
      const update = q.sigmoid(gateBlock(tf, zr, GRU_GATE.update, U));
      const reset = q.sigmoid(gateBlock(tf, zr, GRU_GATE.reset, U));
      // nH = sat(roundShift(accH · m, S), ±2^16) in Q3.12, then roundShift(r · nH, 15) (§5d)
      const recurrent = q.q12(gateBlock(tf, hPart, GRU_GATE.candidate, U), RECURRENT_PART_LIMIT);
      const cand = q.tanh(tf.add(gateBlock(tf, xPart, GRU_GATE.candidate, U), q.q12(tf.mul(reset, recurrent), RECURRENT_PART_LIMIT)));
      return { h: q.hidden(tf.add(tf.mul(update, h), tf.mul(tf.sub(1, update), cand))) };
    }
    // clockwork: an active module's rows are the RNN's over the old h (§5i); runDirection keeps the others' h
    case 'rnn':
    case 'clockwork':
      return { h: q.hidden(q.tanh(tf.add(xPart, tf.matMul(h, w.wH)))) };
    case 'depth-gated':
      return depthGatedStep(tf, q, d, K, tf.add(xPart, tf.matMul(h, w.wH)), c!, cBelow!);
  }
}

/**
 * The depth-gated LSTM (§5j) on its gate sums z: d sees c(t-1) and the lower layer's c(t) through
 * two Q3.12 terms rounded each; c = sat16(roundShift(f·c, 15) + roundShift(i·g, 15+K) + roundShift(d·c_below, 15)).
 */
function depthGatedStep(
  tf: Tf,
  q: Quantizers,
  d: DirectionVars,
  K: number,
  z: Tensor,
  c: Tensor,
  cBelow: Tensor,
): { h: Tensor; c: Tensor } {
  const U = d.units;
  const diagonal = (k: number, cell: Tensor) => q.q12(tf.mul(tf.slice(d.depthGate!, [k * U], [U]), cell), 2 ** 20);
  const i = q.sigmoid(gateBlock(tf, z, GATE.input, U));
  const f = q.sigmoid(gateBlock(tf, z, GATE.forget, U));
  const g = q.tanh(gateBlock(tf, z, GATE.cell, U));
  const o = q.sigmoid(gateBlock(tf, z, GATE.output, U));
  const depthIn = tf.add(
    tf.add(gateBlock(tf, z, DEPTH_GATED_GATE.depth, U), diagonal(DEPTH_TERM.cellPrevious, c)),
    diagonal(DEPTH_TERM.cellBelow, cBelow),
  );
  const depth = q.sigmoid(depthIn);
  const terms = [tf.mul(f, c), tf.mul(i, g), tf.mul(depth, cBelow)].map((t) => q.cellTerm(t, K));
  const cNew = q.cell(tf.addN(terms), K);
  return { h: q.hidden(tf.mul(o, q.tanhCell(cNew))), c: cNew };
}

/**
 * One direction over the sequence from a zero state, in time order or last
 * step first; its h after each input, indexed by time. Padding steps (mask 0)
 * keep the state, as on the device (§3a). `cells.below`: the lower layer's c
 * per step (a depth-gated layer reads it); `cells.out` receives this layer's.
 */
function runDirection(
  tf: Tf,
  q: Quantizers,
  d: DirectionVars,
  K: number,
  w: GridWeights,
  seq: Tensor[],
  mask: Tensor[] | undefined,
  reverse: boolean,
  cells: { below?: Tensor[]; out?: Tensor[] } = {},
): Tensor[] {
  const B = seq[0]!.shape[0]!;
  let h: Tensor = tf.zeros([B, d.units]);
  let c: Tensor | undefined = hasCellState(d.cell) ? tf.zeros([B, d.units]) : undefined;
  const out: Tensor[] = new Array(seq.length);
  for (let k = 0; k < seq.length; k++) {
    const t = reverse ? seq.length - 1 - k : k;
    const next = cellStep(tf, q, d, K, w, seq[t]!, h, c, cells.below?.[t]);
    if (mask) {
      const keep = mask[t]!;
      h = tf.where(keep, next.h, h);
      if (c) c = tf.where(keep, next.c!, c);
    } else {
      h = next.h;
      c = next.c;
    }
    out[t] = h;
    if (cells.out && c) cells.out[t] = c;
  }
  return out;
}

/**
 * A clockwork model's windows carry each step's clock as their last column
 * (trainer/clock-column.ts, as in training): the features [batch][steps][F]
 * and the clock of each step, [batch][1] per step. Other models' x is all features.
 */
function splitClockColumn(tf: Tf, model: FloatModel, x: Tensor): { features: Tensor; clocks?: Tensor[] } {
  if (!model.layers[0]!.clockPeriods) return { features: x };
  const F = x.shape[2]! - 1;
  return { features: tf.slice(x, [0, 0, 0], [-1, -1, F]), clocks: tf.unstack(tf.slice(x, [0, 0, F], [-1, -1, 1]), 1) };
}

/** Per step, whether each unit's module runs at the step's clock t: t mod T(u) = 0 (§5i), [batch][units]. */
function activeUnits(tf: Tf, clocks: Tensor[], units: number, periods: readonly number[]): Tensor[] {
  const unitPeriods = tf.tensor1d(clockOfUnits(units, periods));
  return clocks.map((t) => tf.equal(tf.mod(t, unitPeriods), 0));
}

/** The head's outputs (logits / normalized values): [batch][outputs], or [batch][steps][outputs] for many-to-many. */
function forward(
  tf: Tf,
  q: Quantizers,
  vars: ModelVars,
  grid: Grid,
  model: FloatModel,
  x: Tensor,
  weightScale: WeightScaleGranularity,
  everyStep: boolean,
): Tensor {
  let seq: Tensor[];
  let mask: Tensor[] | undefined;
  let clocks: Tensor[] | undefined;
  const inputScale = tf.tensor2d(grid.inputScales, [grid.inputScales.length, 1]);
  if (vars.embedding) {
    // token ids -> table rows on their int8 column grid; padding (id 0) is not a step
    const ids = x as Tensor;
    const table = vars.embedding;
    const colScale = q.stopGradient(tf.div(tf.max(tf.abs(tf.slice(table, [1, 0], [-1, -1])), 0), INT8_MAX));
    const tableQ = tf.mul(tf.clipByValue(q.roundSte(tf.div(table, colScale)), -INT8_MAX, INT8_MAX), colScale);
    const rows = tf.gather(tableQ, tf.cast(ids, 'int32'));
    seq = tf.unstack(rows, 1);
    mask = tf.unstack(tf.expandDims(tf.notEqual(ids, PADDING_TOKEN), 2), 1);
  } else {
    const { features, clocks: stepClocks } = splitClockColumn(tf, model, x);
    clocks = stepClocks;
    const scales = tf.tensor1d(grid.inputScales);
    const xq = tf.mul(tf.clipByValue(q.roundSte(tf.div(features, scales)), INT8_MIN, INT8_MAX), scales);
    seq = tf.unstack(xq, 1);
  }
  let top: Tensor = seq[0]!;
  // the c of the layer below at each step (what a depth-gated layer reads)
  let cellsBelow: Tensor[] = [];
  vars.layers.forEach((layer, l) => {
    // column scale of the layer's input: the model's input scales, or what the layer below passes up (Q0.7, Q1.6 after a sum)
    const below = l === 0 ? inputScale : tf.scalar(layerOutputScale(model.layers[l - 1]!));
    const K = grid.cellIntBits[l]!;
    const cells = { below: cellsBelow, out: [] as Tensor[] };
    const run = (d: DirectionVars, k: number, reverse: boolean) => {
      // the units a step updates: every one but padding steps', or a clockwork layer's active modules
      const m = d.clockPeriods ? activeUnits(tf, clocks!, d.units, d.clockPeriods) : mask?.map((mt) => tf.tile(mt, [1, d.units]));
      return runDirection(tf, q, d, k, fakeQuantWeights(tf, q, d, below, weightScale), seq, m, reverse, cells);
    };
    const f = run(layer.forward, K.forward, layer.reverse);
    cellsBelow = cells.out;
    if (!layer.backward) {
      seq = f;
      top = layer.reverse ? f[0]! : f[f.length - 1]!;
      return;
    }
    const b = run(layer.backward, K.backward, true);
    const mergeOf = (hf: Tensor, hb: Tensor) => (layer.merge === 'sum' ? q.merged(tf.add(hf, hb)) : tf.concat([hf, hb], 1));
    seq = f.map((hf, t) => mergeOf(hf, b[t]!));
    top = mergeOf(f[f.length - 1]!, b[0]!);
  });
  // D on one int8 grid for the whole head (its input scale divides out)
  const D = vars.headKernel;
  const dScale = q.stopGradient(tf.div(tf.maximum(tf.max(tf.abs(D)), 1e-30), INT8_MAX));
  const Dq = tf.mul(q.roundSte(tf.div(D, dScale)), dScale);
  // the bias in accumulator units: one unit is dScale times the head input's step
  const biasStep = tf.mul(dScale, layerOutputScale(model.layers[model.layers.length - 1]!));
  const dq = tf.mul(q.roundSte(tf.div(vars.headBias, biasStep)), biasStep);
  if (everyStep)
    return tf.stack(
      seq.map((h) => tf.add(tf.matMul(h, Dq), dq)),
      1,
    );
  return tf.add(tf.matMul(top, Dq), dq);
}

function directionVars(tf: Tf, l: FloatRecurrentLayer): DirectionVars {
  const G = gateCount(l.cell);
  return {
    cell: l.cell,
    inputSize: l.inputSize,
    units: l.units,
    kernel: tf.variable(tf.tensor2d(l.kernel, [l.inputSize, G * l.units])),
    recurrentKernel: tf.variable(tf.tensor2d(l.recurrentKernel, [l.units, G * l.units])),
    bias: tf.variable(tf.tensor1d(l.bias)),
    ...(l.peephole ? { peephole: tf.variable(tf.tensor1d(l.peephole)) } : {}),
    ...(l.recurrentBias ? { recurrentBias: tf.variable(tf.tensor1d(l.recurrentBias)) } : {}),
    ...(l.depthGate ? { depthGate: tf.variable(tf.tensor1d(l.depthGate)) } : {}),
    ...(l.clockPeriods ? { clockPeriods: l.clockPeriods } : {}),
  };
}

function directionOf(d: DirectionVars): FloatRecurrentLayer {
  const read = (v: Variable) => Float32Array.from(v.dataSync() as Float32Array);
  return {
    cell: d.cell,
    inputSize: d.inputSize,
    units: d.units,
    kernel: read(d.kernel),
    // clockwork: the masked links stay exact zeros (they get no gradient; core/artifact-validation.ts checks them)
    recurrentKernel: d.clockPeriods ? maskedRecurrentKernel(read(d.recurrentKernel), d.units, d.clockPeriods) : read(d.recurrentKernel),
    bias: read(d.bias),
    ...(d.peephole ? { peephole: read(d.peephole) } : {}),
    ...(d.recurrentBias ? { recurrentBias: read(d.recurrentBias) } : {}),
    ...(d.depthGate ? { depthGate: read(d.depthGate) } : {}),
    ...(d.clockPeriods ? { clockPeriods: d.clockPeriods } : {}),
  };
}

function gridOf(q: QuantizedModel): Grid {
  return {
    inputScales: q.inputScales,
    cellIntBits: q.layers.map((l) => ({ forward: l.cellIntBits, backward: l.backward?.cellIntBits ?? 0 })),
  };
}

/**
 * The fake-quantized forward pass of a float model on windows x ([n][window][features],
 * or token ids), with the grid of its int8 model q: what fine-tuning trains. For tests.
 */
export function fakeQuantPredict(
  tf: Tf,
  model: FloatModel,
  q: QuantizedModel,
  x: Tensor,
  weightScale: WeightScaleGranularity,
): Float32Array {
  const vars = modelVars(tf, model);
  try {
    return tf.tidy(
      () =>
        forward(tf, quantizers(tf), vars, gridOf(q), model, x, weightScale, model.sequence === 'many-to-many').dataSync() as Float32Array,
    );
  } finally {
    tf.dispose(variablesOf(vars));
  }
}

type ModelVars = { embedding?: Variable; layers: LayerVars[]; headKernel: Variable; headBias: Variable };

function modelVars(tf: Tf, model: FloatModel): ModelVars {
  return {
    ...(model.embedding
      ? { embedding: tf.variable(tf.tensor2d(model.embedding.table, [model.embedding.vocabularySize, model.embedding.dim])) }
      : {}),
    layers: model.layers.map((l): LayerVars => ({
      forward: directionVars(tf, l),
      ...(l.backward ? { backward: directionVars(tf, l.backward), merge: l.merge ?? 'concat' } : {}),
      reverse: l.reverse === true,
    })),
    headKernel: tf.variable(tf.tensor2d(model.head.kernel, [model.head.inputSize, model.head.outputSize])),
    headBias: tf.variable(tf.tensor1d(model.head.bias)),
  };
}

function variablesOf(vars: ModelVars): Variable[] {
  return [
    ...(vars.embedding ? [vars.embedding] : []),
    ...vars.layers
      .flatMap((l) => [l.forward, ...(l.backward ? [l.backward] : [])])
      .flatMap((d) => [
        d.kernel,
        d.recurrentKernel,
        d.bias,
        ...(d.peephole ? [d.peephole] : []),
        ...(d.recurrentBias ? [d.recurrentBias] : []),
        ...(d.depthGate ? [d.depthGate] : []),
      ]),
    vars.headKernel,
    vars.headBias,
  ];
}

/** Mean |a − b| over two output arrays of the same shape. */
export function meanAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

function checkQatOptions(o: QatOptions, ds: Dataset, model: FloatModel): void {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new UserError(`QAT epochs must be an integer >= 1, got ${o.epochs}`);
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate))
    throw new UserError(`QAT learning rate must be > 0, got ${o.learningRate}`);
  if (ds.train.n === 0 || ds.validation.n === 0) throw new UserError('QAT needs at least one training and one validation window');
}

/** The float model with the variables' current weights. */
function modelOfVars(model: FloatModel, vars: ModelVars): FloatModel {
  return {
    ...model,
    ...(model.embedding && vars.embedding
      ? { embedding: { ...model.embedding, table: Float32Array.from(vars.embedding.dataSync() as Float32Array) } }
      : {}),
    layers: vars.layers.map((l) => ({
      ...directionOf(l.forward),
      ...(l.backward ? { backward: directionOf(l.backward), merge: l.merge } : {}),
      ...(l.reverse ? { reverse: true } : {}),
    })),
    head: {
      ...model.head,
      kernel: Float32Array.from(vars.headKernel.dataSync() as Float32Array),
      bias: Float32Array.from(vars.headBias.dataSync() as Float32Array),
    },
  };
}

/** The teacher: the float model's own outputs (logits for a classifier), on the training windows (by batch) and the validation windows. */
function teacherOf(tf: Tf, model: FloatModel, ds: Dataset): { batch: (idx: ArrayLike<number>) => Tensor; validation: Float64Array } {
  // clockwork: each window from the clock the device has at its first row, as the trainer ran it
  const teacher = Float32Array.from(floatWindowOutputs(model, ds.train.x, ds.window, modelStartClocks(model, ds, ds.train)));
  const validation = floatWindowOutputs(model, ds.validation.x, ds.window, modelStartClocks(model, ds, ds.validation));
  const O = model.head.outputSize;
  const S = ds.sequence === 'many-to-many' ? ds.window : 1;
  const batch = (idx: ArrayLike<number>): Tensor => {
    const y = new Float32Array(idx.length * S * O);
    for (let k = 0; k < idx.length; k++) y.set(teacher.subarray(idx[k]! * S * O, (idx[k]! + 1) * S * O), k * S * O);
    return S > 1 ? tf.tensor3d(y, [idx.length, S, O]) : tf.tensor2d(y, [idx.length, O]);
  };
  return { batch, validation };
}

/** What every epoch of one fine-tuning run trains with. */
interface QatRun {
  tf: Tf;
  q: Quantizers;
  vars: ModelVars;
  allVars: Variable[];
  model: FloatModel;
  ds: Dataset;
  o: QatOptions;
  teacherBatch: (idx: ArrayLike<number>) => Tensor;
  optimizer: ReturnType<Tf['train']['adam']>;
  /** The batch order's generator. */
  rand: () => number;
}

/** One epoch over the training windows in a fresh order, on the grid of the previous epoch's int8 model: its mean loss. */
async function trainEpoch(run: QatRun, grid: Grid): Promise<number> {
  const { tf, q, vars, allVars, model, ds, o, optimizer } = run;
  const everyStep = ds.sequence === 'many-to-many';
  const order = permutation(ds.train.n, run.rand);
  let sum = 0;
  for (let start = 0; start < ds.train.n; start += o.batchSize) {
    const idx = order.subarray(start, Math.min(ds.train.n, start + o.batchSize));
    // clockwork: the windows carry each step's clock as one more column (forward splits it off)
    const [x, labels] = batchTensors(tf, ds, ds.train, idx, model.headActivation, undefined, model.layers[0]!.clockPeriods);
    const y = run.teacherBatch(idx);
    // loss: mean |fake-quantized output − float output| (self-distillation; the absolute value keeps
    // the few windows whose inputs pass the int8 input range from outweighing all the others)
    const cost = optimizer.minimize(
      () => tf.losses.absoluteDifference(y, forward(tf, q, vars, grid, model, x, o.weightScale, everyStep)) as never,
      true,
      allVars,
    );
    sum += (await cost!.data())[0]! * idx.length;
    tf.dispose([x, labels, y, cost!]);
  }
  return sum / ds.train.n;
}

export async function fineTuneQat(model: FloatModel, ds: Dataset, o: QatOptions): Promise<QatResult> {
  checkQatOptions(o, ds, model);
  const tf = o.tf ?? (await currentBackend()).tf;
  const q = quantizers(tf);
  const vars = modelVars(tf, model);
  const allVars = variablesOf(vars);
  const teacher = teacherOf(tf, model, ds);
  /** The real int8 model of `candidate` on the validation windows: its distance from the teacher and its metric. */
  const validate = (candidate: FloatModel, qc: QuantizedModel) => {
    const out = o.int8Outputs(candidate, qc, ds.validation);
    return { validationDistance: meanAbsDifference(out, teacher.validation), validationMetric: o.metric(ds.validation, out) };
  };
  const optimizer = tf.train.adam(o.learningRate);
  const run: QatRun = { tf, q, vars, allVars, model, ds, o, teacherBatch: teacher.batch, optimizer, rand: mulberry32(o.seed ^ 0x0a7a0a7a) };

  let best = model;
  const postTraining = o.quantize(model);
  let bestQ = postTraining;
  let bestEpoch = 0;
  const history: QatEpoch[] = [{ epoch: 0, epochs: o.epochs, loss: NaN, ...validate(model, bestQ) }];
  o.onEpoch?.(history[0]!);
  let grid = gridOf(bestQ);
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const trainLoss = await trainEpoch(run, grid);
      if (!Number.isFinite(trainLoss))
        throw new UserError(`QAT diverged at epoch ${epoch} (loss ${trainLoss}); try a lower --qat-learning-rate`);
      const candidate = modelOfVars(model, vars);
      const qc = o.quantize(candidate);
      const e: QatEpoch = { epoch, epochs: o.epochs, loss: trainLoss, ...validate(candidate, qc) };
      history.push(e);
      o.onEpoch?.(e);
      if (e.validationDistance < history[bestEpoch]!.validationDistance) {
        best = candidate;
        bestQ = qc;
        bestEpoch = epoch;
      }
      // the next epoch's grid: the scales of the int8 model of these weights
      grid = gridOf(qc);
    }
  } finally {
    tf.dispose(allVars);
    optimizer.dispose();
  }
  return { model: best, quantized: bestQ, postTraining, bestEpoch, history };
}
