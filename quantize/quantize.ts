/**
 * Post-training quantization of a float recurrent layer + dense head into the integer
 * contract of docs/NUMERICS.md. All float work (scales, multipliers, tables)
 * happens here, once; the device only ever sees integers.
 */
import {
  hasRecurrentBias,
  hasPeepholes,
  hasDepthGate,
  readsCellBelow,
  GRU_GATE,
  gateCount,
  gateNames,
  hasCellState,
  layerOutputSize,
  type FloatEmbedding,
  type FloatModel,
  type MergeMode,
  type QuantEmbedding,
  type FloatRecurrentLayer,
  type QuantRecurrentLayer,
  type QuantizedModel,
  type TensorRange,
  type Deployment,
} from '../core/model.ts';
import { BITWISE_LIMIT, GATE_IN_FRAC_BITS, HIDDEN_FRAC_BITS, INT8_MAX, buildTanhTable, roundHalfUp } from '../core/fixed-point.ts';
import { floatPredictWindow } from '../reference/float-reference.ts';
import { embedWindows, windowSteps } from '../core/embedding.ts';
import { UserError } from '../core/errors.ts';
import { denseWindows, evenlySpaced, type Windows } from '../data/window-set.ts';
import { dotBound, gateAccBounds, peepholeOperandBound, rescaleOperandBound } from './bounds.ts';
import { phaseTick } from '../core/progress-line.ts';

/** How many rows share one weight scale. */
export type WeightScaleGranularity = 'per-row' | 'per-gate' | 'per-tensor';

export interface QuantizeOptions {
  weightScale: WeightScaleGranularity;
  /** Calibration windows, normalized, [window][inputSize] each. */
  calibrationX: Windows;
  floatModelSha256: string;
  /**
   * Input scale: the int8 range covers this percentile of |z| per feature over
   * the calibration windows (100 = the largest value). Readings beyond saturate.
   */
  inputPercentile?: number;
  /**
   * Streams as the device will run them (deployment 'stream'): whole series,
   * normalized, [steps][inputSize] each, run from a zero state. Their ranges
   * join the windows' (the cell format covers the state a long stream reaches).
   */
  streams?: Float32Array[];
  /** Recorded in the model (absent: 'stream'). */
  deployment?: Deployment;
  /** calibrate() of these very windows, when the caller has it already (it is the costly part). */
  windowRanges?: TensorRange[];
}

export const DEFAULT_INPUT_PERCENTILE = 99.9;

/**
 * Calibration sees at most this many training windows, evenly spaced over the
 * training rows: ranges and percentiles settle long before, and a big CSV's
 * millions of windows would cost minutes and gigabytes for nothing.
 */
export const MAX_CALIBRATION_WINDOWS = 100_000;

/** The training windows calibration runs on: all of them, or MAX_CALIBRATION_WINDOWS evenly spaced. */
export const calibrationWindows = (train: Windows): Windows => evenlySpaced(train, MAX_CALIBRATION_WINDOWS);

/** "1234 training windows", or "100000 of 7000000 training windows (evenly spaced)". */
export const calibrationText = (used: Windows, all: Windows): string =>
  used.count === all.count ? `${all.count} training windows` : `${used.count} of ${all.count} training windows (evenly spaced)`;

/** The p-th percentile (0..100) of |x_i| for feature i over every step of the windows. */
export function absPercentile(x: Windows, inputSize: number, feature: number, p: number): number {
  const perWindow = x.size / inputSize;
  const count = x.count * perWindow;
  const values = new Float64Array(count);
  for (let w = 0; w < x.count; w++) {
    const steps = x.at(w);
    for (let t = 0; t < perWindow; t++) values[w * perWindow + t] = Math.abs(steps[t * inputSize + feature]);
  }
  values.sort();
  const idx = Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1));
  return values[idx];
}

export const DEFAULT_WEIGHT_SCALE: WeightScaleGranularity = 'per-row';

/** Real value of one int8 step of what a layer passes up: 2^-7 (Q0.7), or 2^-6 (Q1.6) for a summed bidirectional output. */
export const layerOutputScale = (l: { backward?: unknown; merge?: MergeMode }): number =>
  l.backward !== undefined && l.merge === 'sum' ? 2 ** -(HIDDEN_FRAC_BITS - 1) : 2 ** -HIDDEN_FRAC_BITS;

/** Largest cell-state integer-bit count (Q15.0 would leave no fraction). */
const MAX_CELL_INT_BITS = 12;

/** Name prefix of layer l's calibration ranges: none for a single layer, "layer<l>." when stacked. */
export const layerPrefix = (layerCount: number, l: number): string => (layerCount > 1 ? `layer${l}.` : '');

/** Ranges of the float model on the calibration windows. */
export function calibrate(model: FloatModel, x: Windows): TensorRange[] {
  const { layers, head, window } = model;
  const inputSize = layers[0]!.inputSize;
  const ranges = new Map<string, TensorRange>();
  const see = (name: string, v: number) => {
    const r = ranges.get(name);
    if (!r) ranges.set(name, { name, min: v, max: v });
    else {
      if (v < r.min) r.min = v;
      if (v > r.max) r.max = v;
    }
  };
  // An embedding model's token windows: the table rows of their tokens, padding left out (§3a).
  if (!model.embedding) for (let i = 0; i < model.featureNames.length; i++) see(`input.${model.featureNames[i]}`, 0);
  const totalSteps = x.count * window;
  let stepsDone = 0;
  for (let n = 0; n < x.count; n++) {
    const values = x.at(n);
    const embedded = model.embedding ? embedWindows(model.embedding, values) : undefined;
    if (!embedded) {
      for (let t = 0; t < window; t++) {
        for (let i = 0; i < inputSize; i++) see(`input.${model.featureNames[i]}`, values[t * inputSize + i]);
      }
    }
    const run = embedded ? windowSteps(embedded.x, embedded.padding, 0, window, inputSize) : { x: values, steps: window };
    if (run.steps === 0) continue;
    const y = floatPredictWindow(layers, head, run.x, 0, run.steps, (l, direction, s) => {
      const { units, cell } = layers[l]!;
      if (l === 0 && direction === 'forward') phaseTick(++stepsDone, totalSteps, 'steps');
      const p = layerPrefix(layers.length, l) + (direction === 'backward' ? 'backward.' : '');
      gateNames(cell).forEach((gate, g) => {
        for (let u = 0; u < units; u++) see(`${p}gate.${gate}.preactivation`, s.preActivations[g * units + u]);
      });
      for (let u = 0; u < s.c.length; u++) see(`${p}cell`, s.c[u]);
      for (let u = 0; u < s.recurrentPart.length; u++) see(`${p}gate.candidate.recurrent`, s.recurrentPart[u]);
      for (let u = 0; u < units; u++) see(`${p}hidden`, s.h[u]);
    });
    for (let k = 0; k < y.length; k++) see('output', y[k]);
  }
  return [...ranges.values()];
}

/** The union of each named range over several calibrations, in the order names first appear. */
function joinRanges(lists: TensorRange[][]): TensorRange[] {
  const joined = new Map<string, TensorRange>();
  for (const r of lists.flat()) {
    const j = joined.get(r.name);
    joined.set(r.name, j ? { name: r.name, min: Math.min(j.min, r.min), max: Math.max(j.max, r.max) } : { ...r });
  }
  return [...joined.values()];
}

function maxAbs(r: TensorRange | undefined): number {
  return r ? Math.max(Math.abs(r.min), Math.abs(r.max)) : 0;
}

/** Smallest K with |c| < 2^K for the calibrated range (plus 25% headroom). */
export function chooseCellIntBits(maxAbsCell: number): number {
  let k = 0;
  while (k < MAX_CELL_INT_BITS && 2 ** k <= maxAbsCell * 1.25) k++;
  return k;
}

/** Symmetric int8 scale for values of magnitude `m` (never zero). */
function int8Scale(m: number): number {
  return m > 0 ? m / INT8_MAX : 1 / INT8_MAX;
}

function quantizeInt8(v: number, scale: number): number {
  const q = roundHalfUp(v / scale);
  return q > INT8_MAX ? INT8_MAX : q < -INT8_MAX ? -INT8_MAX : q;
}

/**
 * Choose the largest literal shift S (1..31) for which every row's rescale
 * operand |acc·m| + 2^(S-1) is proven below 2^31, m = roundHalfUp(s_r·2^(12+S)).
 */
export function chooseGateShift(rowScales: number[], accBounds: number[]): { shift: number; multipliers: Int32Array } {
  for (let shift = 31; shift >= 1; shift--) {
    const multipliers = new Int32Array(rowScales.length);
    let ok = true;
    for (let r = 0; r < rowScales.length && ok; r++) {
      const m = roundHalfUp(rowScales[r] * 2 ** (GATE_IN_FRAC_BITS + shift));
      if (m >= BITWISE_LIMIT || rescaleOperandBound(accBounds[r], m, shift) >= BITWISE_LIMIT) ok = false;
      multipliers[r] = m;
    }
    if (ok) return { shift, multipliers };
  }
  throw new UserError(
    'quantize: no gate rescale shift keeps |acc·m| below 2^31: gate pre-activations of this model reach ' +
      `${Math.max(...rowScales.map((s, r) => s * accBounds[r])).toExponential(2)}; ` +
      'retrain with smaller weights (e.g. weight decay)',
  );
}

/**
 * Peephole multipliers (NUMERICS.md §5e): the Q3.12 term p·c is
 * roundShift(cQ · pm, P) with pm = roundHalfUp(p · 2^(K-3+P)); P is the
 * largest literal shift (1..31) for which |cQ · pm| + 2^(P-1) < 2^31 for
 * every int16 cQ.
 */
export function choosePeepholeShift(peephole: ArrayLike<number>, cellIntBits: number): { shift: number; multipliers: Int32Array } {
  for (let shift = 31; shift >= 1; shift--) {
    const multipliers = new Int32Array(peephole.length);
    let ok = true;
    for (let k = 0; k < peephole.length && ok; k++) {
      const m = roundHalfUp(peephole[k] * 2 ** (cellIntBits - 3 + shift));
      if (peepholeOperandBound(m, shift) >= BITWISE_LIMIT) ok = false;
      multipliers[k] = m;
    }
    if (ok) return { shift, multipliers };
  }
  throw new UserError(
    `quantize: peephole weights up to ${Math.max(...Array.from(peephole, Math.abs)).toExponential(2)} are too large for the ` +
      'cell-state format; retrain with smaller peephole weights',
  );
}

/** How one recurrent layer is quantized: its column scales, its calibrated |c|, the weight scale sharing, and its name in errors. */
interface LayerQuantization {
  /** One int8 step of each column of v = [input, h]. */
  columnScales: number[];
  /** The calibrated |c| (LSTM family). */
  maxAbsCell: number;
  weightScale: WeightScaleGranularity;
  /** "layer 1: ", "backward: " or "", for errors. */
  where: string;
}

/**
 * One recurrent layer with the given column scales (v = [input, h]): folded
 * coefficients, row scales, int8 weights, biases, multipliers, cell format
 * and peepholes.
 */
function quantizeLayer(layer: FloatRecurrentLayer, o: LayerQuantization): QuantRecurrentLayer {
  const { inputSize, units, cell } = layer;
  const { columnScales, where } = o;
  checkLayerTensors(layer, where);
  const width = inputSize + units;
  const coeff = foldedCoefficients(layer, columnScales);
  const rowScales = sharedRowScales(rowMaxima(coeff, gateCount(cell) * units, width), units, o.weightScale);
  const { weightsQ, biasQ, recurrentBiasQ } = quantizeRows(layer, coeff, rowScales, where);
  const accBounds = gateAccBounds(weightsQ, biasQ, width, recurrentBiasQ);
  const { shift: gateShift, multipliers: gateMultiplier } = chooseGateShift(rowScales, accBounds);

  // Cell state format (LSTM family only; the other cells keep no cell state).
  const cellIntBits = hasCellState(cell) ? chooseCellIntBits(o.maxAbsCell) : 0;
  // diagonal cell-state weights onto gates: a peephole LSTM's, or a depth gate's (§5e, §5j)
  const diagonal = hasPeepholes(cell) ? layer.peephole : hasDepthGate(cell) ? layer.depthGate : undefined;
  const peephole = diagonal ? choosePeepholeShift(diagonal, cellIntBits) : { shift: 0, multipliers: new Int32Array(0) };
  return {
    cell,
    inputSize,
    units,
    columnScales,
    weightsQ,
    rowScales,
    biasQ,
    gateMultiplier,
    gateShift,
    cellIntBits,
    peepholeMultiplier: peephole.multipliers,
    peepholeShift: peephole.shift,
    recurrentBiasQ,
    // clockwork: the periods as trained; the zero links from faster modules quantize to exact zeros
    ...(layer.clockPeriods ? { clockPeriods: [...layer.clockPeriods] } : {}),
  };
}

/** A GRU reset-after layer's recurrent bias and a peephole LSTM's peephole weights: there, and of their length. */
function checkLayerTensors(layer: FloatRecurrentLayer, where: string): void {
  const { units, cell } = layer;
  const cols = gateCount(cell) * units;
  if (hasRecurrentBias(cell) && layer.recurrentBias?.length !== cols) {
    throw new UserError(`quantize: ${where}GRU reset-after layer needs a recurrent bias of ${cols} values`);
  }
  if (hasPeepholes(cell) && layer.peephole?.length !== 3 * units) {
    throw new UserError(`quantize: ${where}peephole LSTM layer needs ${3 * units} peephole weights`);
  }
  if (hasDepthGate(cell) && layer.depthGate?.length !== 2 * units) {
    throw new UserError(`quantize: ${where}depth-gated layer needs ${2 * units} depth-gate weights`);
  }
}

/** Effective coefficient of the int8 column value: k[r][i] = W[r][i] * columnScale[i], rows of [input, h]. */
function foldedCoefficients(layer: FloatRecurrentLayer, columnScales: number[]): Float64Array {
  const { inputSize, units } = layer;
  const cols = gateCount(layer.cell) * units;
  const width = inputSize + units;
  const coeff = new Float64Array(cols * width);
  for (let r = 0; r < cols; r++) {
    for (let i = 0; i < inputSize; i++) coeff[r * width + i] = layer.kernel[i * cols + r] * columnScales[i];
    for (let j = 0; j < units; j++) coeff[r * width + inputSize + j] = layer.recurrentKernel[j * cols + r] * columnScales[inputSize + j];
  }
  return coeff;
}

/** The largest |coefficient| of each of `rows` rows of `width` coefficients. */
function rowMaxima(coeff: Float64Array, rows: number, width: number): Float64Array {
  const rowMax = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) rowMax[r] = Math.max(rowMax[r], Math.abs(coeff[r * width + i]));
  }
  return rowMax;
}

/** Row scales: the int8 step of each row's coefficients, shared per row, gate (`units` rows) or tensor. */
function sharedRowScales(rowMax: Float64Array, units: number, weightScale: WeightScaleGranularity): number[] {
  const rowScales: number[] = [];
  for (let r = 0; r < rowMax.length; r++) {
    let m = rowMax[r];
    if (weightScale === 'per-gate') {
      const g = Math.floor(r / units);
      m = Math.max(...rowMax.subarray(g * units, (g + 1) * units));
    } else if (weightScale === 'per-tensor') {
      m = Math.max(...rowMax);
    }
    rowScales.push(int8Scale(m));
  }
  return rowScales;
}

/** The int8 weights of each row on its scale, and its biases in accumulator units. */
function quantizeRows(
  layer: FloatRecurrentLayer,
  coeff: Float64Array,
  rowScales: number[],
  where: string,
): { weightsQ: Int8Array; biasQ: Int32Array; recurrentBiasQ: Int32Array } {
  const { inputSize, units, cell } = layer;
  const cols = gateCount(cell) * units;
  const width = inputSize + units;
  const resetAfter = hasRecurrentBias(cell);
  const weightsQ = new Int8Array(cols * width);
  const biasQ = new Int32Array(cols);
  // GRU reset-after: the candidate rows keep their recurrent bias apart (it is scaled by r).
  const recurrentBiasQ = new Int32Array(resetAfter ? units : 0);
  const toAccUnits = (value: number, r: number, what: string): number => {
    // Bias in accumulator units: b / s_r (real pre-activation = acc · s_r).
    const q = roundHalfUp(value / rowScales[r]);
    if (Math.abs(q) >= BITWISE_LIMIT) {
      throw new UserError(`quantize: ${where}${what} ${r} (${value}) is too large for its row scale; retrain with smaller biases`);
    }
    return q;
  };
  for (let r = 0; r < cols; r++) {
    for (let i = 0; i < width; i++) weightsQ[r * width + i] = quantizeInt8(coeff[r * width + i], rowScales[r]);
    const candidateRow = r >= GRU_GATE.candidate * units;
    if (resetAfter && candidateRow) {
      biasQ[r] = toAccUnits(layer.bias[r], r, 'gate bias');
      recurrentBiasQ[r - GRU_GATE.candidate * units] = toAccUnits(layer.recurrentBias![r], r, 'recurrent gate bias');
    } else {
      // Reset-after update and reset rows: both biases add up before σ.
      biasQ[r] = toAccUnits(layer.bias[r] + (resetAfter ? layer.recurrentBias![r] : 0), r, 'gate bias');
    }
  }
  return { weightsQ, biasQ, recurrentBiasQ };
}

/** Scale of each embedding column: its largest |value| over the rows of every token but padding (row 0). */
function embeddingColumnScales(e: FloatEmbedding): number[] {
  return Array.from({ length: e.dim }, (_, d) => {
    let m = 0;
    for (let t = 1; t < e.vocabularySize; t++) m = Math.max(m, Math.abs(e.table[t * e.dim + d]));
    return int8Scale(m);
  });
}

/** tableQ[t][d] = sat(round(E[t][d] / scale[d])), ±127; the padding row is never read and is stored as zeros. */
function quantizeEmbedding(e: FloatEmbedding, scales: number[]): QuantEmbedding {
  const tableQ = new Int8Array(e.vocabularySize * e.dim);
  for (let t = 1; t < e.vocabularySize; t++) {
    for (let d = 0; d < e.dim; d++) tableQ[t * e.dim + d] = quantizeInt8(e.table[t * e.dim + d], scales[d]);
  }
  return { vocabularySize: e.vocabularySize, dim: e.dim, tableQ, unknownToken: e.unknownToken, tokens: [...e.tokens] };
}

export function quantizeModel(model: FloatModel, options: QuantizeOptions): QuantizedModel {
  const { layers } = model;
  const inputSize = layers[0]!.inputSize;
  if (options.calibrationX.count < 1) throw new UserError('quantize: no calibration windows');
  const calibration = calibrationRanges(model, inputSize, options);

  // Input x_i (normalized) -> int8 with a per-feature scale covering a percentile of its calibrated values.
  const percentile = options.inputPercentile ?? DEFAULT_INPUT_PERCENTILE;
  const inputScales = modelInputScales(model, options, percentile);
  const quantLayers = quantizeLayers(model, inputScales, calibration, options.weightScale);
  const units = layerOutputSize(quantLayers[quantLayers.length - 1]!);
  const head = quantizeHead(model.head, units, layerOutputScale(layers[layers.length - 1]!));
  const embedding = model.embedding ? quantizeEmbedding(model.embedding, inputScales) : undefined;

  return {
    ...(embedding ? { embedding } : {}),
    ...headerOf(model),
    inputScales,
    layers: quantLayers,
    head,
    tables: { tanhQ15: buildTanhTable() },
    calibration,
    scheme: JSON.stringify({ weightScale: options.weightScale, inputPercentile: percentile }),
    floatModelSha256: options.floatModelSha256,
    provenance: { ...model.provenance },
    ...(options.deployment === 'window' ? { deployment: 'window' as const } : {}),
  };
}

/** The ranges of the calibration windows (or of the ranges given) joined with those of the streams. */
function calibrationRanges(model: FloatModel, inputSize: number, options: QuantizeOptions): TensorRange[] {
  return joinRanges([
    options.windowRanges ?? calibrate(model, options.calibrationX),
    ...(options.streams ?? []).map((x) => calibrate({ ...model, window: x.length / inputSize }, denseWindows(x, x.length, 1))),
  ]);
}

/** One int8 step of each input: of feature i, covering the percentile of its calibrated |values|; of an embedding column, its table's. */
function modelInputScales(model: FloatModel, options: QuantizeOptions, percentile: number): number[] {
  const inputSize = model.layers[0]!.inputSize;
  // Embedding (§3a): column d of the table covers its largest |value| over every token but padding.
  return model.embedding
    ? embeddingColumnScales(model.embedding)
    : model.featureNames.map((_, i) => int8Scale(absPercentile(options.calibrationX, inputSize, i, percentile)));
}

/** Every recurrent layer (both directions of a bidirectional one) on the columns of what it reads. */
function quantizeLayers(
  model: FloatModel,
  inputScales: number[],
  calibration: TensorRange[],
  weightScale: WeightScaleGranularity,
): QuantRecurrentLayer[] {
  const { layers } = model;
  const byName = new Map(calibration.map((r) => [r.name, r]));
  // Columns of v = [input, h]: one int8 step of x_i is inputScales[i]; of any h is 2^-7 (Q0.7);
  // of a bidirectional layer's summed output h_f + h_b (the input of the layer above) 2^-6 (Q1.6).
  const hiddenScale = 2 ** -HIDDEN_FRAC_BITS;
  const maxAbsCells = sharedCellRanges(layers, byName);
  return layers.map((layer, l) => {
    const inputColumns = l === 0 ? inputScales : new Array<number>(layer.inputSize).fill(layerOutputScale(layers[l - 1]!));
    const columnScales = [...inputColumns, ...new Array<number>(layer.units).fill(hiddenScale)];
    const p = layerPrefix(layers.length, l);
    const where = layers.length > 1 ? `layer ${l}: ` : '';
    const forward = quantizeLayer(layer, { columnScales, maxAbsCell: maxAbsCells[l]!, weightScale, where });
    if (layer.reverse) return { ...forward, reverse: true };
    if (!layer.backward) return forward;
    const backward = quantizeLayer(layer.backward, {
      columnScales,
      maxAbsCell: maxAbs(byName.get(`${p}backward.cell`)),
      weightScale,
      where: `${where}backward: `,
    });
    return { ...forward, backward, merge: layer.merge ?? 'concat', ...(layer.readout ? { readout: layer.readout } : {}) };
  });
}

/**
 * The calibrated |c| each layer's cell format covers: its own, except that a
 * depth-gated layer adds the lower layer's c to its own (§5j), so the layers
 * it joins share one format, of the largest |c| among them.
 */
function sharedCellRanges(layers: readonly FloatRecurrentLayer[], byName: Map<string, TensorRange>): number[] {
  const shared = layers.map((_, l) => maxAbs(byName.get(`${layerPrefix(layers.length, l)}cell`)));
  for (let l = 1; l < layers.length; l++) if (readsCellBelow(layers[l]!.cell)) shared[l] = Math.max(shared[l]!, shared[l - 1]!);
  for (let l = layers.length - 1; l > 0; l--) if (readsCellBelow(layers[l]!.cell)) shared[l - 1] = shared[l]!;
  return shared;
}

/** Head: y = D h + d with h in Q0.7 (Q1.6 after a 'sum' merge); one scale for all outputs so raw scores compare. */
function quantizeHead(head: FloatModel['head'], units: number, headInputScale: number): QuantizedModel['head'] {
  const out = head.outputSize;
  let headMax = 0;
  for (let j = 0; j < units; j++) {
    for (let k = 0; k < out; k++) headMax = Math.max(headMax, Math.abs(head.kernel[j * out + k] * headInputScale));
  }
  let accScale = int8Scale(headMax);
  const headWeightsQ = new Int8Array(out * units);
  const headBiasQ = new Int32Array(out);
  // Rescale: if a bias would push the head accumulator past 2^31, coarsen the scale until it fits.
  for (;;) {
    let fits = true;
    for (let k = 0; k < out; k++) {
      for (let j = 0; j < units; j++) headWeightsQ[k * units + j] = quantizeInt8(head.kernel[j * out + k] * headInputScale, accScale);
      const b = roundHalfUp(head.bias[k] / accScale);
      if (dotBound(headWeightsQ, k * units, units, b) >= BITWISE_LIMIT) fits = false;
      else headBiasQ[k] = b;
    }
    if (fits) break;
    accScale *= 2;
  }
  return { inputSize: units, outputSize: out, weightsQ: headWeightsQ, accScale, biasQ: headBiasQ };
}

/** What the int8 model carries over from the float model: the task, the names, the window, the normalization. */
function headerOf(model: FloatModel) {
  return {
    task: model.task,
    featureNames: [...model.featureNames],
    targetNames: [...model.targetNames],
    classLabels: [...model.classLabels],
    ...(model.classNames ? { classNames: [...model.classNames] } : {}),
    window: model.window,
    horizon: model.horizon,
    targetMode: model.targetMode,
    headActivation: model.headActivation,
    sequence: model.sequence,
    baseFeatures: [...model.baseFeatures],
    inputNorm: { mean: [...model.inputNorm.mean], std: [...model.inputNorm.std] },
    outputNorm: { mean: [...model.outputNorm.mean], std: [...model.outputNorm.std] },
  };
}
