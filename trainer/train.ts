/**
 * Trains LSTM(units) -> Dense(outputs, linear) with TensorFlow.js and returns
 * the float weights in the layouts of core/model.ts.
 *
 * Gate order: tfjs-layers' LSTMCell (node_modules/@tensorflow/tfjs-layers/
 * dist/layers/recurrent.js, LSTMCell.call, v4.22) computes
 *   z = x·kernel + h·recurrentKernel + bias;  [z0, z1, z2, z3] = split(z, 4, lastAxis)
 *   i = σ(z0); f = σ(z1); c = f*c + i*tanh(z2); o = σ(z3); h = o*tanh(c)
 * with kernel [inputDim][4*units], recurrentKernel [units][4*units], bias [4*units]:
 * exactly GATE_ORDER = input, forget, cell, output and the row-major layouts of
 * FloatRecurrentLayer, so the weights are copied as they are (no reordering).
 * test/trainer/train.test.ts checks this against a plain-JS LSTM.
 *
 * tfjs's LSTM defaults recurrentActivation to hardSigmoid; it is pinned to
 * 'sigmoid' here because the int8 runtime implements the true sigmoid.
 *
 * Determinism: the kernels use tfjs's seeded glorotUniform; the recurrent
 * kernel is orthogonal, generated here from the seed (tfjs's orthogonal({seed})
 * works too but prints a "slowness" warning above 2000 elements, i.e. units >= 23);
 * batches are shuffled with a seeded PRNG (mulberry32), never Math.random.
 */
import {
  CELLS,
  assertNever,
  hasRecurrentBias,
  hasPeepholes,
  hasClock,
  hasDepthGate,
  readsCellBelow,
  depthGatedRefusal,
  PADDING_TOKEN,
  type FloatEmbedding,
  defaultHead,
  feedbackFeatures,
  gateCount,
  layerOutputSize,
  type CellKind,
  type HeadActivation,
  type SequencePattern,
  type FloatDenseLayer,
  type FloatRecurrentLayer,
  type MergeMode,
} from '../core/model.ts';
import { customRnnLayer, isCustomCell } from './cells.ts';
import { depthGatedLayer } from './depth-gated-layer.ts';
import { isFusedCell } from './fused-recurrent.ts';
import { fusedRecurrentLayer } from './fused-layer.ts';
import { UserError } from '../core/errors.ts';
import { currentBackend, type Tf } from './backend.ts';
import { targetSteps, type Dataset, type Split } from '../data/windows.ts';
import { windowRange, type Windows } from '../data/window-set.ts';
import {
  DEFAULT_CLOCK_BASE,
  DEFAULT_CLOCK_MODULES,
  clockPeriodsProblem,
  exponentialPeriods,
  maskedRecurrentKernel,
} from '../core/clock.ts';
import { windowStartClocks, withClockColumn } from './clock-column.ts';
import { mulberry32, permutation } from '../core/prng.ts';
import { phaseTick } from '../core/progress-line.ts';

type Tensor = import('@tensorflow/tfjs').Tensor;
type LayersModel = import('@tensorflow/tfjs').LayersModel;

export interface EpochInfo {
  epoch: number;
  epochs: number;
  loss: number;
  valLoss: number;
}

export interface BatchInfo {
  /** The training windows of the epoch, or the validation windows scored after it. */
  part: 'training' | 'validation';
  epoch: number;
  epochs: number;
  windows: number;
  of: number;
  loss: number;
}

export interface TrainOptions {
  /** Recurrent cell; default 'lstm'. */
  cell?: CellKind;
  /** Stacked recurrent layers, each of `units` units; default 1. */
  layers?: number;
  /** Make every layer bidirectional, merging its two directions this way; default: forward layers. */
  bidirectional?: MergeMode;
  /** Head activation; default linear (regression) or softmax (classification). 'sigmoid': two classes, one logit. */
  head?: HeadActivation;
  units: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Stop after this many epochs without a better validation loss; 0 = never stop early. */
  patience: number;
  /** Token datasets (ds.vocabulary): width of the embedding table; default DEFAULT_EMBEDDING_DIM. */
  embeddingDim?: number;
  /** Dropout of the recurrent layers' inputs while training (0..1, tfjs' lstm / gru / rnn cells); default 0. */
  dropout?: number;
  /** Dropout of the recurrent layers' state h while training (0..1, as dropout); default 0. */
  recurrentDropout?: number;
  /** Token datasets: each training token reads as the unknown token with this probability (word dropout); default 0. */
  tokenDropout?: number;
  seed: number;
  onEpoch?: (e: EpochInfo) => void;
  /** After every batch: the epoch, the training windows done in it of all, and their mean loss so far. */
  onBatch?: (b: BatchInfo) => void;
  /** tfjs instance to use; default: the one from the last initBackend() (or 'auto'). */
  tf?: Tf;
  /** How the recurrent layers run while training; default 'auto' (see RecurrentKernel). */
  recurrentKernel?: RecurrentKernel;
  /** Classification: each class's weight in the loss (index as ds.classLabels); default all 1. */
  classWeights?: number[];
  /** Clockwork cell: the period of each module (core/clock.ts); default the paper's 1, 2, 4, 8. */
  clockPeriods?: number[];
}

/**
 * 'balanced' class weights: w_c = n / (C · n_c) over the training targets, so
 * every class carries the same total weight in the loss (a rare class counts
 * as much as a common one). A class with no training target gets 0.
 */
export function balancedClassWeights(ds: Dataset): number[] {
  const C = ds.classLabels.length;
  const counts = new Array<number>(C).fill(0);
  for (const c of ds.train.y) counts[c]!++;
  const n = ds.train.y.length;
  return counts.map((k) => (k ? n / (C * k) : 0));
}

/**
 * 'fused': each layer's whole sequence, forward and backward, in one
 * WebAssembly SIMD call (trainer/fused-layer.ts); for every cell kind,
 * stacked or bidirectional, with an embedding (padding masked) or not, and
 * with dropout for the lstm and rnn cells. 'tfjs': tfjs-layers' own
 * layers, step by step. 'auto': fused where it applies, else tfjs.
 */
export type RecurrentKernel = 'auto' | 'fused' | 'tfjs';
export const RECURRENT_KERNELS: readonly RecurrentKernel[] = ['auto', 'fused', 'tfjs'];

/** Why the fused kernel cannot train this model, or undefined when it can. */
export function fusedRefusal(cell: CellKind, dropout: boolean): string | undefined {
  if (hasClock(cell)) return 'the fused kernel has no clock: the clockwork cell trains with its TensorFlow.js cell';
  // tfjs' GRU cell applies its recurrent dropout mask to the h it carries too; the fused kernel does not.
  if (dropout && !CELLS[cell].fusedDropout) return `dropout of the ${cell} cell trains with tfjs layers`;
  // The kernel runs one layer at a time and passes up h only; a depth-gated layer also reads the c of the one below.
  if (!isFusedCell(cell)) return `the ${cell} cell reads the cell state of the layer below, which the fused kernel does not pass up`;
  return undefined;
}

export interface TrainResult {
  /** Token datasets: the trained embedding. */
  embedding?: FloatEmbedding;
  /** The recurrent layers, bottom first. */
  layers: FloatRecurrentLayer[];
  headActivation: HeadActivation;
  head: FloatDenseLayer;
  epochsRun: number;
  /** 1-based epoch whose weights were kept (lowest validation loss). */
  bestEpoch: number;
  bestValLoss: number;
  history: { loss: number[]; valLoss: number[] };
  /** How the recurrent layers ran: 'fused' or 'tfjs'. */
  recurrentKernel: 'fused' | 'tfjs';
}

export { mulberry32, permutation };

export const DEFAULT_EMBEDDING_DIM = 32;

/** Training-time regularization of the recurrent layers. */
interface Dropout {
  rate: number;
  recurrentRate: number;
  /** Seeded dropout masks: tfjs draws them from Math.random otherwise. */
  func: (x: Tensor, rate: number) => Tensor;
}

/**
 * Orthogonal [rows][cols] matrix (rows <= cols: orthonormal rows), like Keras'
 * Orthogonal initializer: Gram–Schmidt on a seeded standard-normal matrix.
 */
export function orthogonalMatrix(rows: number, cols: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const normal = (): number => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const transpose = rows > cols;
  const [r, c] = transpose ? [cols, rows] : [rows, cols];
  const m: Float64Array[] = [];
  for (let i = 0; i < r; i++) {
    const v = new Float64Array(c);
    for (;;) {
      for (let k = 0; k < c; k++) v[k] = normal();
      for (const q of m) {
        let d = 0;
        for (let k = 0; k < c; k++) d += v[k]! * q[k]!;
        for (let k = 0; k < c; k++) v[k] -= d * q[k]!;
      }
      let norm = 0;
      for (let k = 0; k < c; k++) norm += v[k]! * v[k]!;
      norm = Math.sqrt(norm);
      if (norm > 1e-6) {
        for (let k = 0; k < c; k++) v[k] /= norm;
        break;
      }
    }
    m.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < r; i++) {
    for (let k = 0; k < c; k++) out[transpose ? k * cols + i : i * cols + k] = m[i]![k]!;
  }
  return out;
}

/** Outputs of the head: one per target (linear), per class (softmax), or one logit for two classes (sigmoid). */
function outputCount(ds: Dataset, head: HeadActivation): number {
  if (head === 'sigmoid') return 1;
  return ds.task === 'classification' ? ds.classLabels.length : ds.targetNames.length;
}

/** The head a task allows: linear for regression; softmax, or sigmoid for exactly two classes. */
export function checkHead(ds: Dataset, head: HeadActivation): void {
  if (ds.task === 'regression' && head !== 'linear') {
    throw new UserError(`a ${head} head is for classification (--label); regression targets use the linear head`);
  }
  if (ds.task === 'classification' && head === 'linear') throw new UserError('classification uses a softmax or sigmoid head, not linear');
  if (head === 'sigmoid' && ds.classLabels.length !== 2) {
    throw new UserError(
      `a sigmoid head needs exactly two classes; the label column has ${ds.classLabels.length} (${ds.classLabels.join(', ')}): use --head softmax`,
    );
  }
}

/**
 * The TensorFlow.js layer of a cell kind, with its activations pinned
 * (tfjs defaults the recurrent activation to hardSigmoid) and the gate orders
 * of core/model.ts CELL_GATES: LSTM i, f, c, o; GRU z, r, h (reset before
 * the recurrent product, the only convention tfjs implements); simple RNN tanh.
 * Peephole, CIFG and GRU reset-after are the custom cells of trainer/cells.ts
 * in a tfjs RNN layer (their weights start as zeros; buildModel sets them).
 * A depth-gated layer, and a layer under one (`passCell`: it passes up [h, c]),
 * are the layers of trainer/depth-gated-layer.ts.
 */
export function recurrentLayer(
  tf: Tf,
  cell: CellKind,
  config: {
    units: number;
    inputShape?: [number, number];
    returnSequences?: boolean;
    kernelInitializer: unknown;
    recurrentInitializer: unknown;
    dropout?: Dropout;
    clockPeriods?: number[];
    passCell?: boolean;
  },
) {
  const returnSequences = config.returnSequences ?? false;
  if (readsCellBelow(cell) || config.passCell) {
    const shape = config.inputShape ? { inputShape: config.inputShape } : {};
    return depthGatedLayer(tf, {
      units: config.units,
      bottom: !readsCellBelow(cell),
      passCell: config.passCell ?? false,
      returnSequences,
      ...shape,
    });
  }
  const d = config.dropout;
  const common = {
    ...(d ? { dropout: d.rate, recurrentDropout: d.recurrentRate, dropoutFunc: d.func } : {}),
    units: config.units,
    ...(config.inputShape ? { inputShape: config.inputShape } : {}),
    activation: 'tanh' as const,
    returnSequences,
    kernelInitializer: config.kernelInitializer as 'zeros',
    recurrentInitializer: config.recurrentInitializer as 'zeros',
    biasInitializer: 'zeros' as const,
  };
  if (isCustomCell(cell)) {
    return customRnnLayer(tf, cell, {
      units: config.units,
      ...(config.clockPeriods ? { clockPeriods: config.clockPeriods } : {}),
      returnSequences,
      ...(config.inputShape ? { inputShape: config.inputShape } : {}),
    });
  }
  const layer = CELLS[cell].tfjsLayer!;
  switch (layer) {
    case 'gru':
      return tf.layers.gru({ ...common, recurrentActivation: 'sigmoid' });
    case 'simpleRNN':
      return tf.layers.simpleRNN(common);
    case 'lstm':
      // unitForgetBias is applied by hand in buildModel: tfjs 4.22's unitForgetBias
      // initializer leaks 4 tensors per model (it is not wrapped in tidy).
      return tf.layers.lstm({ ...common, recurrentActivation: 'sigmoid', unitForgetBias: false });
    default:
      return assertNever(layer, 'tfjs layer');
  }
}

/** A recurrent layer as tfjs builds it: one direction, or both in a Bidirectional wrapper. */
function directedLayer(
  tf: Tf,
  cell: CellKind,
  merge: MergeMode | undefined,
  config: {
    units: number;
    inputShape?: [number, number];
    returnSequences: boolean;
    kernelInitializer: unknown;
    recurrentInitializer: unknown;
    dropout?: Dropout;
    clockPeriods?: number[];
    passCell?: boolean;
  },
) {
  if (!merge) return recurrentLayer(tf, cell, config);
  const { inputShape, ...inner } = config;
  return tf.layers.bidirectional({
    layer: recurrentLayer(tf, cell, inner) as unknown as Parameters<Tf['layers']['bidirectional']>[0]['layer'],
    mergeMode: merge,
    ...(inputShape ? { inputShape } : {}),
  });
}

/** Seeded initial weights of one direction: Glorot-uniform kernel, orthogonal recurrent kernel, forget bias 1 (LSTM family), zero extras. */
function initialDirection(
  tf: Tf,
  cell: CellKind,
  inputSize: number,
  units: number,
  seed: number,
  extra: Tensor | undefined,
  clockPeriods?: number[],
): Tensor[] {
  const G = gateCount(cell);
  const kernel = tf.initializers.glorotUniform({ seed }).apply([inputSize, G * units]) as Tensor;
  const orthogonal = orthogonalMatrix(units, G * units, seed + 2);
  // clockwork: no link from a faster module (the cell masks them; they start at zero too)
  const rec = tf.tensor2d(clockPeriods ? maskedRecurrentKernel(orthogonal, units, clockPeriods) : orthogonal, [units, G * units]);
  const bias = new Float32Array(G * units);
  const forget = CELLS[cell].forgetGate ?? -1;
  if (forget >= 0) bias.fill(1, forget * units, (forget + 1) * units);
  // Peephole weights and the reset-after recurrent bias start at zero.
  return [kernel, rec, tf.tensor1d(bias), ...(extra ? [tf.zerosLike(extra)] : [])];
}

/**
 * `layerCount` stacked recurrent layers (every one but the last returns its
 * whole hidden sequence to the next), each bidirectional when `merge` is
 * given, and a linear dense head. Each direction of each layer gets its own
 * seeds (layer l: seed + 10 l, its backward direction seed + 10 l + 5; the
 * head seed + 1), so one forward layer starts exactly as before stacking.
 */
/** The cell of layer l of a stack of `cell`: a depth-gated stack has an LSTM at the bottom. */
export const layerCell = (cell: CellKind, l: number): CellKind => (readsCellBelow(cell) && l === 0 ? 'lstm' : cell);

/** What buildModel builds: the recurrent stack, its head, and how it trains. */
interface ModelSpec {
  cell: CellKind;
  units: number;
  layerCount: number;
  merge: MergeMode | undefined;
  head: HeadActivation;
  seed: number;
  embeddingDim: number;
  dropout: Dropout | undefined;
  /** The recurrent layers run through the fused WebAssembly kernel. */
  fused: boolean;
  /** Clockwork: the module periods; layer 0 then reads one more input column, the clock. */
  clockPeriods: number[] | undefined;
}

function buildModel(tf: Tf, ds: Dataset, spec: ModelSpec): LayersModel {
  const { cell, units, layerCount, merge, head, seed, embeddingDim, dropout, fused, clockPeriods } = spec;
  // Token datasets: an embedding (token 0 masked: the recurrent layers skip padding steps) feeds layer 0.
  const F = ds.vocabulary ? embeddingDim : ds.featureNames.length;
  // Many-to-many: the last layer returns its whole sequence too, and the dense head applies at every step.
  const everyStep = ds.sequence === 'many-to-many';
  const model = tf.sequential();
  if (ds.vocabulary) model.add(embeddingLayer(tf, ds.vocabulary.size, embeddingDim, ds.window, seed + 3));
  const first = ds.vocabulary ? 1 : 0;
  const layerSeed = (l: number) => seed + 10 * l;
  for (let l = 0; l < layerCount; l++) {
    if (fused && isFusedCell(cell)) {
      model.add(
        fusedRecurrentLayer(tf, {
          cell,
          units,
          returnSequences: l < layerCount - 1 || everyStep,
          firstLayer: l === 0 && !ds.vocabulary,
          ...(merge ? { merge } : {}),
          ...(dropout ? { dropout: { rate: dropout.rate, recurrentRate: dropout.recurrentRate, func: dropout.func } } : {}),
          ...(l === 0 && !ds.vocabulary ? { inputShape: [ds.window, F] as [number, number] } : {}),
        }),
      );
      continue;
    }
    model.add(
      directedLayer(tf, layerCell(cell, l), merge, {
        units,
        passCell: l + 1 < layerCount && readsCellBelow(layerCell(cell, l + 1)),
        ...(dropout ? { dropout } : {}),
        ...(clockPeriods ? { clockPeriods } : {}),
        ...(l === 0 && !ds.vocabulary ? { inputShape: [ds.window, F + (clockPeriods ? 1 : 0)] as [number, number] } : {}),
        returnSequences: l < layerCount - 1 || everyStep,
        kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(l) }),
        recurrentInitializer: 'zeros', // replaced below
      }),
    );
  }
  model.add(
    tf.layers.dense({
      units: outputCount(ds, head),
      activation: 'linear', // logits: sigmoid and softmax live in the loss and on the device in classIndex()
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      biasInitializer: 'zeros',
    }),
  );
  for (let l = 0; l < layerCount; l++) {
    const layer = model.layers[first + l]!;
    const inputSize = l === 0 ? F : layerOutputSize({ units, backward: merge ? {} : undefined, merge });
    const current = layer.getWeights();
    const perDirection = current.length / (merge ? 2 : 1);
    // Per direction: kernel, recurrent kernel, bias, and a fourth tensor for peephole / reset-after cells.
    const extra = (first: number) => (perDirection === 4 ? current[first + 3] : undefined);
    const weights = [
      ...initialDirection(tf, layerCell(cell, l), inputSize, units, layerSeed(l), extra(0), clockPeriods),
      ...(merge ? initialDirection(tf, cell, inputSize, units, layerSeed(l) + 5, extra(perDirection)) : []),
    ];
    layer.setWeights(weights);
    tf.dispose(weights);
  }
  return model;
}

/**
 * The embedding layer of token models: `vocabulary` rows of `dim` values,
 * seeded uniform in ±0.05 (Keras' default), token 0 masked (padding).
 */
function embeddingLayer(tf: Tf, vocabulary: number, dim: number, window: number, seed: number) {
  return tf.layers.embedding({
    inputDim: vocabulary,
    outputDim: dim,
    inputLength: window,
    maskZero: true,
    embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }),
  });
}

/**
 * Batch tensors for the windows `idx` of `split` (sigmoid head: y is the class index, 0 or 1).
 * Token datasets: x is [n][window] int32 ids; with `tokenDropout`, each non-padding token
 * becomes the unknown token with that probability (drawn from `rand`).
 */
export function batchTensors(
  tf: Tf,
  ds: Dataset,
  split: Split,
  idx: ArrayLike<number>,
  head: HeadActivation,
  tokenDropout?: { rate: number; rand: () => number },
  clockPeriods?: readonly number[],
): [Tensor, Tensor] {
  const W = ds.window;
  const F = ds.featureNames.length;
  const per = W * F;
  const n = idx.length;
  let x: Int32Array | Float32Array = ds.vocabulary ? new Int32Array(n * per) : new Float32Array(n * per);
  for (let k = 0; k < n; k++) x.set(split.x.at(idx[k]!), k * per);
  if (ds.vocabulary && tokenDropout && tokenDropout.rate > 0) {
    for (let i = 0; i < x.length; i++)
      if (x[i] !== PADDING_TOKEN && tokenDropout.rand() < tokenDropout.rate) x[i] = ds.vocabulary.unknownToken;
  }
  const O = outputCount(ds, head);
  // Targets per window: one, or one per step (many-to-many); row s of window k is target row k*S + s.
  const S = targetSteps(ds);
  const y = new Float32Array(n * S * O);
  for (let k = 0; k < n; k++) {
    for (let s = 0; s < S; s++) {
      const from = idx[k]! * S + s;
      const to = (k * S + s) * O;
      if (head === 'sigmoid') y[to] = split.y[from]!;
      else if (ds.task === 'classification') y[to + split.y[from]!] = 1;
      else y.set(split.y.subarray(from * O, (from + 1) * O), to);
    }
  }
  if (clockPeriods) {
    // clockwork: each step's clock as one more column (trainer/clock-column.ts)
    const starts = splitStartClocks(ds, split, clockPeriods);
    x = withClockColumn(
      x as Float32Array,
      n,
      W,
      F,
      Array.from(idx, (i) => starts[i]!),
      clockPeriods,
    );
  }
  const xt = ds.vocabulary ? tf.tensor2d(x, [n, W], 'int32') : tf.tensor3d(x, [n, W, F + (clockPeriods ? 1 : 0)]);
  return [xt, S > 1 ? tf.tensor3d(y, [n, S, O]) : tf.tensor2d(y, [n, O])];
}

export function lossFn(
  tf: Tf,
  ds: Dataset,
  head: HeadActivation,
  classWeights?: number[],
): string | ((yTrue: Tensor, yPred: Tensor) => Tensor) {
  if (ds.task === 'regression') return 'meanSquaredError';
  // Sigmoid head: one logit, sigmoid cross-entropy; a target's weight is w1·y + w0·(1 − y).
  if (head === 'sigmoid') {
    if (!classWeights) return (yTrue: Tensor, yPred: Tensor) => tf.losses.sigmoidCrossEntropy(yTrue, yPred);
    const [w0, w1] = classWeights as [number, number];
    return (yTrue: Tensor, yPred: Tensor) => tf.tidy(() => tf.losses.sigmoidCrossEntropy(yTrue, yPred, tf.add(tf.mul(yTrue, w1 - w0), w0)));
  }
  // The head outputs logits; softmax lives in the loss only. A target's weight is Σ_c onehot_c · w_c.
  if (!classWeights) return (yTrue: Tensor, yPred: Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred);
  const w = tf.tensor1d(classWeights);
  return (yTrue: Tensor, yPred: Tensor) => tf.tidy(() => tf.losses.softmaxCrossEntropy(yTrue, yPred, tf.sum(tf.mul(yTrue, w), -1)));
}

/** Each split's window start clocks, computed once per split and periods. */
const startClockCache = new WeakMap<Split, { periods: string; starts: Int32Array }>();
function splitStartClocks(ds: Dataset, split: Split, periods: readonly number[]): Int32Array {
  const key = periods.join(',');
  const known = startClockCache.get(split);
  if (known?.periods === key) return known.starts;
  const starts = windowStartClocks(ds, split, periods);
  startClockCache.set(split, { periods: key, starts });
  return starts;
}

async function meanLoss(
  tf: Tf,
  model: LayersModel,
  ds: Dataset,
  split: Split,
  batchSize: number,
  head: HeadActivation,
  onBatch?: (windows: number, loss: number) => void,
  clockPeriods?: readonly number[],
): Promise<number> {
  let total = 0;
  for (let start = 0; start < split.n; start += batchSize) {
    const end = Math.min(split.n, start + batchSize);
    const idx = Array.from({ length: end - start }, (_, k) => start + k);
    const [x, y] = batchTensors(tf, ds, split, idx, head, undefined, clockPeriods);
    const out = model.evaluate(x, y, { batchSize: end - start }) as Tensor;
    total += (await out.data())[0]! * (end - start);
    tf.dispose([x, y, out]);
    onBatch?.(end, total / end);
  }
  return total / split.n;
}

function checkOptions(o: TrainOptions): void {
  const posInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`${name} must be an integer >= 1, got ${v}`);
  };
  posInt('units', o.units);
  posInt('epochs', o.epochs);
  posInt('batch size', o.batchSize);
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate)) throw new UserError(`learning rate must be > 0, got ${o.learningRate}`);
  if (!Number.isInteger(o.patience) || o.patience < 0) throw new UserError(`patience must be an integer >= 0, got ${o.patience}`);
  if (!Number.isInteger(o.seed)) throw new UserError(`seed must be an integer, got ${o.seed}`);
  if (o.embeddingDim !== undefined) posInt('embedding width', o.embeddingDim);
  for (const [name, v] of [
    ['dropout', o.dropout],
    ['recurrent dropout', o.recurrentDropout],
    ['token dropout', o.tokenDropout],
  ] as const) {
    if (v !== undefined && !(v >= 0 && v < 1)) throw new UserError(`${name} must be in [0, 1), got ${v}`);
  }
  const cell = o.cell ?? 'lstm';
  const count = o.layers ?? 1;
  // a single depth-gated layer is refused as such (it has no layer below)
  const layers = Array.from({ length: count }, (_, l) => ({
    cell: count > 1 ? layerCell(cell, l) : cell,
    units: o.units,
    backward: o.bidirectional,
  }));
  const depthGated = depthGatedRefusal({ layers });
  if (depthGated) throw new UserError(`--cell ${cell}: ${depthGated}`);
}

/** The dataset and options must fit together: one-to-many targets are features, bidirectional and token models are many-to-one. */
function checkPattern(ds: Dataset, opts: TrainOptions): void {
  const merge = opts.bidirectional;
  if (ds.train.n === 0 || ds.validation.n === 0) throw new UserError('training needs at least one training and one validation window');
  if (ds.sequence === 'one-to-many') {
    if (ds.task !== 'regression') throw new UserError('--sequence one-to-many forecasts regression targets (--target), not classes');
    const missing = ds.targetNames.filter((_, k) => feedbackFeatures(ds)[k]! < 0);
    if (missing.length)
      throw new UserError(
        `--sequence one-to-many feeds each forecast back as an input: target ${missing.join(', ')} must also be a feature (--features)`,
      );
  }
  if (merge && ds.sequence !== 'many-to-one') {
    throw new UserError(`--sequence ${ds.sequence} needs a streaming model: bidirectional layers read the whole window (use many-to-one)`);
  }
  if (ds.vocabulary && ds.sequence !== 'many-to-one')
    throw new UserError(`token inputs (an embedding) train many-to-one, not ${ds.sequence}`);
  if (ds.vocabulary && merge)
    throw new UserError('token inputs (an embedding) train with forward layers only; bidirectional layers are for readings');
  if (!ds.vocabulary && (opts.tokenDropout ?? 0) > 0) throw new UserError('token dropout is for token inputs (an embedding)');
  if (hasClock(opts.cell ?? 'lstm')) checkClockwork(ds, opts);
}

/** A clockwork model trains one forward layer on readings, with valid periods (its clock is an input column of layer 0). */
function checkClockwork(ds: Dataset, opts: TrainOptions): void {
  const refusal = clockworkRefusal(opts);
  if (refusal) throw new UserError(refusal);
  if (ds.vocabulary) throw new UserError('--cell clockwork reads readings, not token inputs (an embedding)');
}

/** Why a clockwork model with these options cannot train (one line), or undefined; the CLI asks before it reads the data. */
export function clockworkRefusal(opts: Pick<TrainOptions, 'layers' | 'bidirectional' | 'units' | 'clockPeriods'>): string | undefined {
  if ((opts.layers ?? 1) !== 1) return '--cell clockwork trains one layer (--layers 1): its clock is an input of the first layer';
  if (opts.bidirectional) return '--cell clockwork streams: its step counter cannot run a window backward (no --bidirectional)';
  const problem = clockPeriodsProblem(clockPeriodsOf(opts), opts.units);
  return problem ? `--cell clockwork: ${problem}` : undefined;
}

/** The clockwork periods of a run: given, or the paper's exponential ones. */
export const clockPeriodsOf = (opts: Pick<TrainOptions, 'clockPeriods'>): number[] =>
  opts.clockPeriods ?? exponentialPeriods(DEFAULT_CLOCK_BASE, DEFAULT_CLOCK_MODULES);

/** Seeded dropout of the recurrent layers (a fresh seed for every mask, drawn from the run's seed), if asked for. */
function dropoutOf(tf: Tf, opts: TrainOptions): Dropout | undefined {
  if (!((opts.dropout ?? 0) > 0 || (opts.recurrentDropout ?? 0) > 0)) return undefined;
  const maskRand = mulberry32(opts.seed ^ 0x0d120d12);
  return {
    rate: opts.dropout ?? 0,
    recurrentRate: opts.recurrentDropout ?? 0,
    func: (x, rate) => tf.dropout(x, rate, undefined, Math.floor(maskRand() * 2 ** 31)),
  };
}

/** Whether the recurrent layers run through the fused kernel: asked for, or 'auto' where it applies. */
function usesFusedKernel(cell: CellKind, dropout: Dropout | undefined, opts: TrainOptions): boolean {
  const kernel = opts.recurrentKernel ?? 'auto';
  if (!RECURRENT_KERNELS.includes(kernel))
    throw new UserError(`unknown recurrent kernel '${String(kernel)}' (expected ${RECURRENT_KERNELS.join(', ')})`);
  if (dropout && isCustomCell(cell))
    throw new UserError(`dropout is available for the lstm, gru and rnn cells; the ${cell} cell trains without it`);
  const refusal = kernel === 'tfjs' ? 'asked for' : fusedRefusal(cell, dropout !== undefined);
  if (kernel === 'fused' && refusal) throw new UserError(`--recurrent-kernel fused: ${refusal}`);
  return refusal === undefined;
}

/** A clockwork run's periods (its batches carry the clock column), else undefined. */
const clockOf = (opts: TrainOptions): number[] | undefined => (hasClock(opts.cell ?? 'lstm') ? clockPeriodsOf(opts) : undefined);

/** Epochs of shuffled batches; early stopping on the validation loss; the best epoch's weights are restored. */
async function fit(
  tf: Tf,
  model: LayersModel,
  ds: Dataset,
  opts: TrainOptions,
  head: HeadActivation,
): Promise<Pick<TrainResult, 'epochsRun' | 'bestEpoch' | 'bestValLoss' | 'history'>> {
  const rand = mulberry32(opts.seed ^ 0x5eed5eed);
  const tokenDropout = { rate: opts.tokenDropout ?? 0, rand: mulberry32(opts.seed ^ 0x70c3d10d) };
  const history = { loss: [] as number[], valLoss: [] as number[] };
  let best: Float32Array[] | undefined;
  let bestEpoch = 0;
  let bestValLoss = Infinity;
  let epochsRun = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const order = permutation(ds.train.n, rand);
    let sum = 0;
    for (let start = 0; start < ds.train.n; start += opts.batchSize) {
      const idx = order.subarray(start, Math.min(ds.train.n, start + opts.batchSize));
      const [x, y] = batchTensors(tf, ds, ds.train, idx, head, tokenDropout, clockOf(opts));
      const l = await model.trainOnBatch(x, y);
      tf.dispose([x, y]);
      sum += (Array.isArray(l) ? l[0]! : l) * idx.length;
      const windows = start + idx.length;
      opts.onBatch?.({ part: 'training', epoch, epochs: opts.epochs, windows, of: ds.train.n, loss: sum / windows });
    }
    const loss = sum / ds.train.n;
    const valLoss = await meanLoss(
      tf,
      model,
      ds,
      ds.validation,
      Math.max(opts.batchSize, 256),
      head,
      (windows, l) => opts.onBatch?.({ part: 'validation', epoch, epochs: opts.epochs, windows, of: ds.validation.n, loss: l }),
      clockOf(opts),
    );
    if (!Number.isFinite(loss) || !Number.isFinite(valLoss)) {
      throw new UserError(`training diverged at epoch ${epoch} (loss ${loss}, validation loss ${valLoss}); try a lower learning rate`);
    }
    history.loss.push(loss);
    history.valLoss.push(valLoss);
    epochsRun = epoch;
    if (valLoss < bestValLoss) {
      bestValLoss = valLoss;
      bestEpoch = epoch;
      best = model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
    }
    opts.onEpoch?.({ epoch, epochs: opts.epochs, loss, valLoss });
    if (opts.patience > 0 && epoch - bestEpoch >= opts.patience) break;
  }
  if (best && bestEpoch !== epochsRun) {
    const shapes = model.getWeights().map((w) => w.shape);
    const tensors = best.map((v, i) => tf.tensor(v, shapes[i]));
    model.setWeights(tensors);
    tf.dispose(tensors);
  }
  return { epochsRun, bestEpoch, bestValLoss, history };
}

/** The trained weights as float layers (each direction of a bidirectional layer), the head and the embedding table. */
function extract(model: LayersModel, ds: Dataset, spec: ModelSpec): Pick<TrainResult, 'embedding' | 'layers' | 'head' | 'headActivation'> {
  const { units, layerCount, merge, embeddingDim, head, clockPeriods } = spec;
  const F = ds.vocabulary ? embeddingDim : ds.featureNames.length;
  const first = ds.vocabulary ? 1 : 0;
  const layers: FloatRecurrentLayer[] = [];
  const direction = (w: Float32Array[], inputSize: number, l: number): FloatRecurrentLayer => {
    const [kernel, recurrentKernel, bias, extra] = w;
    const cell = layerCell(spec.cell, l);
    return {
      cell,
      inputSize,
      units,
      kernel: kernel!,
      // clockwork: the links the cell masks out are exact zeros in the model
      recurrentKernel: clockPeriods ? maskedRecurrentKernel(recurrentKernel!, units, clockPeriods) : recurrentKernel!,
      bias: bias!,
      ...(clockPeriods ? { clockPeriods: [...clockPeriods] } : {}),
      ...(hasPeepholes(cell) ? { peephole: extra! } : {}),
      ...(hasRecurrentBias(cell) ? { recurrentBias: extra! } : {}),
      ...(hasDepthGate(cell) ? { depthGate: extra! } : {}),
    };
  };
  for (let l = 0; l < layerCount; l++) {
    const w = model.layers[first + l]!.getWeights().map((t) => (t.dataSync() as Float32Array).slice());
    const inputSize = l === 0 ? F : layerOutputSize(layers[l - 1]!);
    if (!merge) layers.push(direction(w, inputSize, l));
    else
      layers.push({
        ...direction(w.slice(0, w.length / 2), inputSize, l),
        backward: direction(w.slice(w.length / 2), inputSize, l),
        merge,
      });
  }
  const headInput = layerOutputSize(layers[layerCount - 1]!);
  const [hk, hb] = model.layers[first + layerCount]!.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
  const v = ds.vocabulary;
  return {
    ...(v
      ? {
          embedding: {
            vocabularySize: v.size,
            dim: embeddingDim,
            table: (model.layers[0]!.getWeights()[0]!.dataSync() as Float32Array).slice(),
            unknownToken: v.unknownToken,
            tokens: [...v.tokens],
          },
        }
      : {}),
    layers,
    head: { inputSize: headInput, outputSize: outputCount(ds, head), kernel: hk!, bias: hb! },
    headActivation: head,
  };
}

/** Build, fit and extract: a float model of `opts.cell` on the dataset's windows. */
export async function trainLstm(ds: Dataset, opts: TrainOptions): Promise<TrainResult> {
  checkOptions(opts);
  const tf = opts.tf ?? (await currentBackend()).tf;
  const head = opts.head ?? defaultHead(ds.task);
  checkHead(ds, head);
  checkPattern(ds, opts);
  const cell = opts.cell ?? 'lstm';
  const dropout = dropoutOf(tf, opts);
  const fused = usesFusedKernel(cell, dropout, opts);
  const spec: ModelSpec = {
    cell,
    units: opts.units,
    layerCount: opts.layers ?? 1,
    merge: opts.bidirectional,
    head,
    seed: opts.seed,
    embeddingDim: opts.embeddingDim ?? DEFAULT_EMBEDDING_DIM,
    dropout,
    fused,
    clockPeriods: clockOf(opts),
  };
  const model = buildModel(tf, ds, spec);
  const optimizer = tf.train.adam(opts.learningRate);
  model.compile({ optimizer, loss: lossFn(tf, ds, head, opts.classWeights) });
  try {
    const fitted = await fit(tf, model, ds, opts, head);
    return { ...extract(model, ds, spec), ...fitted, recurrentKernel: fused ? 'fused' : 'tfjs' };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** Loads a float model's weights into the tfjs model predictFloat built: embedding, each layer's directions, head. */
function setFloatWeights(
  tf: Tf,
  model: LayersModel,
  layers: readonly FloatRecurrentLayer[],
  head: FloatDenseLayer,
  embedding: FloatEmbedding | undefined,
): void {
  const directionWeights = (layer: FloatRecurrentLayer) => [
    tf.tensor2d(layer.kernel, [layer.inputSize, gateCount(layer.cell) * layer.units]),
    tf.tensor2d(layer.recurrentKernel, [layer.units, gateCount(layer.cell) * layer.units]),
    tf.tensor1d(layer.bias),
    ...(layer.peephole ? [tf.tensor1d(layer.peephole)] : []),
    ...(layer.recurrentBias ? [tf.tensor1d(layer.recurrentBias)] : []),
    ...(layer.depthGate ? [tf.tensor1d(layer.depthGate)] : []),
  ];
  const weights = [
    ...(embedding ? [tf.tensor2d(embedding.table, [embedding.vocabularySize, embedding.dim])] : []),
    ...layers.flatMap((layer) => [...directionWeights(layer), ...(layer.backward ? directionWeights(layer.backward) : [])]),
    tf.tensor2d(head.kernel, [head.inputSize, head.outputSize]),
    tf.tensor1d(head.bias),
  ];
  model.setWeights(weights);
  tf.dispose(weights);
}

/**
 * Runs the float model with tfjs on the windows x ([window][features] each,
 * normalized), a batch at a time. Returns [n][outputs]: normalized
 * predictions (regression) or logits (classification).
 */
export function predictFloat(
  tf: Tf,
  layers: readonly FloatRecurrentLayer[],
  head: FloatDenseLayer,
  x: Windows,
  window: number,
  features: number,
  sequence: SequencePattern = 'many-to-one',
  embedding?: FloatEmbedding,
  clockStarts?: ArrayLike<number>,
): Float32Array {
  const n = x.count;
  // clockwork: the clock at each window's first step (trainer/clock-column.ts), one more input column
  const clockPeriods = layers[0]!.clockPeriods;
  if (clockPeriods && !clockStarts) throw new Error('predictFloat: a clockwork model needs the clock of each window');
  if (x.size !== window * features) throw new Error(`predictFloat: windows of ${x.size} values, expected ${window * features}`);
  // tf.layers' go_backwards hands its sequence up last step first; reverse layers are run by reference/float-reference.ts
  if (layers.some((l) => l.reverse)) throw new Error('predictFloat: reverse layers are not built as TensorFlow.js layers');
  // Many-to-many: an output for every step of every window, [n][window][outputs].
  const S = sequence === 'many-to-many' ? window : 1;
  const model = tf.sequential();
  try {
    // Token models: x holds [n][window] ids (features 1); the embedding masks token 0.
    if (embedding) model.add(embeddingLayer(tf, embedding.vocabularySize, embedding.dim, window, 0));
    layers.forEach((layer, l) => {
      model.add(
        directedLayer(tf, layer.cell, layer.backward ? (layer.merge ?? 'concat') : undefined, {
          units: layer.units,
          ...(layer.clockPeriods ? { clockPeriods: layer.clockPeriods } : {}),
          passCell: readsCellBelow(layers[l + 1]?.cell ?? 'lstm'),
          ...(l === 0 && !embedding ? { inputShape: [window, features + (clockPeriods ? 1 : 0)] as [number, number] } : {}),
          returnSequences: l < layers.length - 1 || S > 1,
          kernelInitializer: 'zeros',
          recurrentInitializer: 'zeros',
        }),
      );
    });
    model.add(tf.layers.dense({ units: head.outputSize, activation: 'linear', kernelInitializer: 'zeros' }));
    setFloatWeights(tf, model, layers, head, embedding);
    const out = new Float32Array(n * S * head.outputSize);
    const B = 512;
    for (let start = 0; start < n; start += B) {
      const m = Math.min(B, n - start);
      const part = tf.tidy(() => {
        let part = windowRange(x, start, m);
        if (clockPeriods) {
          const starts = Array.from({ length: m }, (_, k) => clockStarts![start + k]!);
          part = withClockColumn(part, m, window, features, starts, clockPeriods);
        }
        const width = features + (clockPeriods ? 1 : 0);
        const xb = embedding ? tf.tensor2d(Int32Array.from(part), [m, window], 'int32') : tf.tensor3d(part, [m, window, width]);
        return model.predict(xb) as Tensor;
      });
      out.set(part.dataSync() as Float32Array, start * S * head.outputSize);
      part.dispose();
      phaseTick(start + m, n, 'windows');
    }
    return out;
  } finally {
    model.dispose();
  }
}
