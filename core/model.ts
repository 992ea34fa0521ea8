/**
 * In-memory shapes of the two model artifacts (float and quantized).
 * The protobuf schema in `core/artifact.proto` mirrors these one to one.
 *
 * Tensor layouts (named once, used everywhere), with G = the cell's gate count:
 * - Gate order per cell is CELL_GATES (the Keras / TensorFlow.js orders):
 *   LSTM and peephole LSTM [input, forget, cell, output] ("i, f, g, o"),
 *   CIFG [forget, cell, output] (the input gate is 1 - forget), GRU (both
 *   conventions) [update, reset, candidate] ("z, r, h~"), simple RNN [candidate].
 * - Peephole weights `peephole` are [3][units]: input, forget, output (PEEPHOLE_GATES).
 * - GRU reset-after: `bias` is the input bias, `recurrentBias` the recurrent
 *   one, both [3*units] in gate order (Keras' bias[0] and bias[1]).
 * - Float `kernel` is [inputSize][G*units] row-major, `recurrentKernel`
 *   is [units][G*units], `bias` is [G*units]; column index = gate*units + unit.
 * - Float dense `kernel` is [inputSize][outputSize] row-major.
 * - Quantized `weightsQ` is [G*units][inputSize+units] row-major: one row
 *   per gate unit (row = gate*units + unit) over the concatenated vector
 *   v = [x (inputSize int8), h (units, hQ7)] (GRU candidate rows: over
 *   [x, r ⊙ h]).
 * - Quantized dense `weightsQ` is [outputSize][inputSize] row-major.
 * - Bidirectional layers pass up [h_f, h_b] ('concat') or h_f + h_b ('sum') per step;
 *   the next layer's inputSize (or the head's) is layerOutputSize(layer).
 * - A reverse layer (`reverse`) reads the window last step first and passes up
 *   its h per step in time order, like a bidirectional layer's backward half.
 * - Stacked layers: layer l's v is [h of layer l-1 (or x for l = 0), h of layer l];
 *   the device keeps x and every layer's h in one int8 buffer [x, h0, h1, ...],
 *   so each layer's v is a contiguous view of it.
 * - Depth-gated LSTM (a layer l > 0): gates i, f, g, o, d; `depthGate` is
 *   [2][units]: the weights of its own c(t-1) and of layer l-1's c(t) onto d
 *   (DEPTH_GATE_TERMS). Its quantized form keeps them in `peepholeMultiplier`
 *   ([2*units], the same Q3.12 term as a peephole's).
 */
import { CELLS, CELL_KINDS, assertNever, hasCellState, readsCellBelow, type CellFacts, type CellKind } from './cells.ts';

type ArchitectureLayer = { cell: CellKind; units: number; backward?: unknown; merge?: MergeMode; readout?: Readout; reverse?: boolean };

/** "LSTM(16)", "GRU(32) x 2", "LSTM(32) -> GRU(16)", "bidirectional-concat LSTM(4) read last-step": the recurrent stack, for messages. */
export function architectureName(layers: readonly ArchitectureLayer[]): string {
  const one = (l: ArchitectureLayer) =>
    `${l.backward ? `bidirectional-${l.merge ?? 'concat'} ` : l.reverse ? 'reverse ' : ''}${l.cell.toUpperCase()}(${l.units})${l.readout ? ` read ${l.readout}` : ''}`;
  const names = layers.map(one);
  return names.every((n) => n === names[0]) && names.length > 1 ? `${names[0]} x ${names.length}` : names.join(' -> ');
}

/**
 * One-to-many forecasting: the input feature each output is fed back into
 * ('change' mode: the feature it is added to; 'level' mode: the feature of
 * the same name), or -1 when a target is not a feature.
 */
export function feedbackFeatures(m: Pick<ModelHeader, 'targetMode' | 'baseFeatures' | 'featureNames' | 'targetNames'>): number[] {
  return m.targetMode === 'change' ? [...m.baseFeatures] : m.targetNames.map((t) => m.featureNames.indexOf(t));
}

/** The last recurrent layer (the one the head reads). */
export const lastLayer = <L>(m: { layers: L[] }): L => m.layers[m.layers.length - 1]!;

export {
  CELLS,
  CELL_KINDS,
  assertNever,
  hasCellState,
  hasClock,
  hasDepthGate,
  hasPeepholes,
  hasRecurrentBias,
  isGru,
  readsCellBelow,
  resetsBeforeProduct,
  type CellFacts,
  type CellKind,
} from './cells.ts';

/** Gate rows of each cell, in the order of its kernel columns (CELLS[cell].gates). */
export const CELL_GATES: { readonly [K in CellKind]: CellFacts['gates'] } = Object.fromEntries(
  CELL_KINDS.map((k) => [k, CELLS[k].gates]),
) as { readonly [K in CellKind]: CellFacts['gates'] };

/** The gates a peephole LSTM's diagonal peephole weights feed, in the order of `peephole`. */
export const PEEPHOLE_GATES = ['input', 'forget', 'output'] as const;
export const PEEPHOLE = { input: 0, forget: 1, output: 2 } as const;

export type GateName = CellFacts['gates'][number];

/** Gates squashed by tanh; every other gate by the sigmoid. */
export const TANH_GATES: ReadonlySet<GateName> = new Set<GateName>(['cell', 'candidate']);

export const gateNames = (cell: CellKind): readonly GateName[] => CELL_GATES[cell];
export const gateCount = (cell: CellKind): number => CELL_GATES[cell].length;

/** The cell states a depth-gated layer's diagonal weights `depthGate` read, in order. */
export const DEPTH_GATE_TERMS = ['cellPrevious', 'cellBelow'] as const;
export const DEPTH_TERM = { cellPrevious: 0, cellBelow: 1 } as const;
/** Depth-gated LSTM gate indices (LSTM's, then the depth gate). */
export const DEPTH_GATED_GATE = { input: 0, forget: 1, cell: 2, output: 3, depth: 4 } as const;

/** LSTM (and peephole LSTM) gate order and indices. */
export const GATE_ORDER = CELLS.lstm.gates;
export const GATE_COUNT = GATE_ORDER.length;
export const GATE = { input: 0, forget: 1, cell: 2, output: 3 } as const;
/** CIFG gate indices (no input gate row). */
export const CIFG_GATE = { forget: 0, cell: 1, output: 2 } as const;
/** GRU gate indices. */
export const GRU_GATE = { update: 0, reset: 1, candidate: 2 } as const;

export type Task = 'regression' | 'classification';

/**
 * Regression outputs: 'level' forecasts target[t+H]; 'change' forecasts
 * target[t+H] - target[t], and `step(x)` adds it to the current reading of
 * the target (feature `baseFeatures[k]`). Classification: always 'level'.
 */
export type TargetMode = 'level' | 'change';

/**
 * The head's output activation: 'linear' (regression), 'softmax' (classes:
 * one logit per class) or 'sigmoid' (two classes: one logit, class 1 when it
 * is positive). The device returns the raw integer scores either way; the
 * activation lives in the training loss and in `classIndex()`.
 */
export type HeadActivation = 'linear' | 'sigmoid' | 'softmax';

/**
 * How outputs relate to the window: 'many-to-one' (trained on the target of
 * the window's last row), 'many-to-many' (trained on a target for every row,
 * e.g. a flag per reading), 'one-to-many' (trained as many-to-one; on the
 * device its forecasts are fed back as the next inputs for a multi-step
 * forecast). The device emits an output every step in every pattern.
 */
export type SequencePattern = 'many-to-one' | 'many-to-many' | 'one-to-many';
export const SEQUENCE_PATTERNS: readonly SequencePattern[] = ['many-to-one', 'many-to-many', 'one-to-many'];
export const HEAD_ACTIVATIONS: readonly HeadActivation[] = ['linear', 'sigmoid', 'softmax'];
export const defaultHead = (task: Task): HeadActivation => (task === 'regression' ? 'linear' : 'softmax');

export interface Provenance {
  /** Where the training data came from (path or package name). */
  data: string;
  /** sha256 of the training data bytes, hex. */
  dataSha256: string;
  seed: number;
  toolVersion: string;
  /** ISO time the artifact was written. */
  createdAt: string;
  /** The options the tool was run with, as JSON. */
  options: string;
}

/** Per-column affine normalization: z = (x - mean) / std. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export interface FloatRecurrentLayer {
  cell: CellKind;
  inputSize: number;
  units: number;
  /** [inputSize][G*units], gate order CELL_GATES[cell]. */
  kernel: Float32Array;
  /** [units][G*units], gate order CELL_GATES[cell]. */
  recurrentKernel: Float32Array;
  /** [G*units]. */
  bias: Float32Array;
  /** Peephole LSTM only: [3][units], PEEPHOLE_GATES order (input, forget, output). */
  peephole?: Float32Array;
  /** GRU reset-after only: the recurrent bias, [3*units] in gate order. */
  recurrentBias?: Float32Array;
  /** Depth-gated LSTM only: [2][units], DEPTH_GATE_TERMS order (own c(t-1), lower layer's c(t)). */
  depthGate?: Float32Array;
  /**
   * Clockwork RNN only: the period of each module, increasing (core/clock.ts);
   * the units split into one module per period, fastest first.
   */
  clockPeriods?: number[];
  /**
   * Bidirectional layers: the backward direction (same cell and sizes, its
   * own weights; it reads the window from the last step to the first) and how
   * the two outputs merge. Absent: a forward layer.
   */
  backward?: FloatRecurrentLayer;
  merge?: MergeMode;
  /**
   * The top layer, when bidirectional: what the head reads of it (see
   * Readout). Absent: 'final-states'. Never set on another layer.
   */
  readout?: Readout;
  /**
   * A unidirectional layer that reads the window from the last step to the
   * first (ONNX direction = "reverse", Keras go_backwards). It passes up its h
   * per step aligned with the input's time; the head reads its h after the
   * first step (after it has read the whole window). Absent: forward.
   * Never set together with `backward`.
   */
  reverse?: boolean;
}

/**
 * How a bidirectional layer merges its forward and backward outputs (as
 * Keras' Bidirectional merge_mode): 'concat' [h_f, h_b] (2*units values,
 * Q0.7 on the device) or 'sum' h_f + h_b (units values, Q1.6 on the device).
 */
export type MergeMode = 'concat' | 'sum';
export const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum'];

/**
 * What the head reads of a bidirectional top layer:
 * - 'final-states': merge(forward h after the last step, backward h after the
 *   whole window, i.e. at time 0) — Keras' Bidirectional, PyTorch's h_n;
 * - 'last-step': the merged output at the last time step, merge(forward h
 *   after the last step, backward h after its first step, which reads the
 *   last reading alone from a zero state) — PyTorch's y[:, -1, :].
 */
export type Readout = 'final-states' | 'last-step';
export const READOUTS: readonly Readout[] = ['final-states', 'last-step'];
/** A layer's readout (absent: 'final-states'). */
export const readoutOf = (l: { readout?: Readout }): Readout => l.readout ?? 'final-states';

/**
 * Steps a bidirectional layer's backward direction runs over a window of n
 * inputs (the last `steps` of them, last first): all n ('final-states'), or
 * the last one only ('last-step': the head reads its h after its first step,
 * and nothing reads the others, the top layer passing nothing up).
 */
export function backwardSteps(l: { readout?: Readout }, n: number): number {
  const readout = readoutOf(l);
  switch (readout) {
    case 'final-states':
      return n;
    case 'last-step':
      return Math.min(n, 1);
    default:
      return assertNever(readout, 'readout');
  }
}

/** Values a layer passes up (to the next layer or the head) per step. */
export const layerOutputSize = (l: { units: number; backward?: unknown; merge?: MergeMode }): number =>
  l.backward !== undefined && l.merge !== 'sum' ? 2 * l.units : l.units;

/**
 * How the device runs a model: 'stream', one step per reading with the state
 * carried from power-on; 'window', the last `window` readings run from a zero
 * state at every reading (what a many-to-one model was trained on; W steps per
 * reading).
 */
export type Deployment = 'stream' | 'window';
export const DEPLOYMENTS: readonly Deployment[] = ['stream', 'window'];

/**
 * A model with a bidirectional or reverse layer runs over its whole window at
 * every step, and so does a forward model deployed as a window.
 */
export const isWindowModel = (m: { layers: readonly { backward?: unknown; reverse?: boolean }[]; deployment?: Deployment }): boolean =>
  m.deployment === 'window' || m.layers.some((l) => l.backward !== undefined || l.reverse === true);

/**
 * Why a stack cannot hold its depth-gated layers, or undefined: a depth-gated
 * layer reads the cell state of the layer below at the same step, so it is
 * never layer 0, the layer below is a forward LSTM-family layer of the same
 * width, and the model streams (a window model runs each layer over the whole
 * window before the next, which the device does not keep the cell states of).
 */
export function depthGatedRefusal(m: {
  layers: readonly { cell: CellKind; units: number; backward?: unknown; reverse?: boolean }[];
  deployment?: Deployment;
}): string | undefined {
  for (let l = 0; l < m.layers.length; l++) {
    const layer = m.layers[l]!;
    if (!readsCellBelow(layer.cell)) continue;
    const below = m.layers[l - 1];
    const where = `layer ${l} (depth-gated)`;
    if (!below) return `${where} needs an LSTM layer below it: the depth-gated LSTM takes at least two layers`;
    if (!hasCellState(below.cell) || below.backward !== undefined || below.reverse || layer.backward !== undefined || layer.reverse)
      return `${where} reads the cell state of a forward LSTM-family layer below it; layer ${l - 1} is ${architectureName([below])}`;
    if (below.units !== layer.units)
      return `${where} has ${layer.units} units and layer ${l - 1} ${below.units}: depth-gated layers need equal widths`;
    if (m.deployment === 'window')
      return `${where} runs only as a stream (deployment 'window' does not keep the lower layer's cell states)`;
  }
  return undefined;
}

export interface FloatDenseLayer {
  inputSize: number;
  outputSize: number;
  /** [inputSize][outputSize]. */
  kernel: Float32Array;
  /** [outputSize]. */
  bias: Float32Array;
}

export interface FloatMetrics {
  /** "rmse" for regression (in target units), "accuracy" for classification. */
  name: string;
  train: number;
  validation: number;
  test: number;
}

/** What a model is about: its data, task and normalization (both artifact kinds carry it). */
export interface ModelHeader {
  task: Task;
  featureNames: string[];
  /** Regression: target column names. Classification: the label column. */
  targetNames: string[];
  /** Classification only: the label value of each output index. */
  classLabels: number[];
  /** Classification on text labels: the text of each output index (classLabels then hold codes). Absent: numeric labels. */
  classNames?: string[];
  window: number;
  horizon: number;
  targetMode: TargetMode;
  /** The head's activation (see HeadActivation). */
  headActivation: HeadActivation;
  /** What the model was trained to output (see SequencePattern). */
  sequence: SequencePattern;
  /** 'change' mode: the feature index each output is added to; otherwise empty. */
  baseFeatures: number[];
  inputNorm: Normalization;
  /** Regression: target (or target change) normalization. Classification: empty. */
  outputNorm: Normalization;
  provenance: Provenance;
}

/**
 * Embedding input (NUMERICS.md §3a): each step reads one integer token id
 * instead of real readings, and x is row `id` of the table. Token 0 is
 * padding: a step on it changes nothing (Keras' mask_zero). An id that is not
 * an integer in [0, vocabularySize) reads as `unknownToken`.
 * The model then has one feature, "token", with identity normalization, and
 * layers[0].inputSize is the embedding width `dim`.
 */
export interface FloatEmbedding {
  vocabularySize: number;
  dim: number;
  /** [vocabularySize][dim] row-major: row = token id. */
  table: Float32Array;
  /** The id an unknown token reads as (1..vocabularySize-1). */
  unknownToken: number;
  /** The text of each token id (empty: the ids have no names); token 0 is padding. */
  tokens: string[];
}

export interface QuantEmbedding {
  vocabularySize: number;
  dim: number;
  /** [vocabularySize][dim] int8 row-major; column d has the scale inputScales[d]. */
  tableQ: Int8Array;
  unknownToken: number;
  tokens: string[];
}

/** Token id 0: padding, a step that changes nothing. */
export const PADDING_TOKEN = 0;

/** The token id a step reads: `id` when it is an integer in [0, V), else the unknown token. */
export function tokenId(id: unknown, e: { vocabularySize: number; unknownToken: number }): number {
  return typeof id === 'number' && Math.floor(id) === id && id >= 0 && id < e.vocabularySize ? id : e.unknownToken;
}

/** Readings per step: the features (one token id for an embedding model). */
export const readingCount = (m: { featureNames: readonly string[] }): number => m.featureNames.length;

export interface FloatModel extends ModelHeader {
  /** Embedding input (absent: real readings). */
  embedding?: FloatEmbedding;
  /**
   * The recurrent layers, bottom first (at least one). Layer 0 reads the
   * input features; layer l > 0 reads the hidden state of layer l - 1 at the
   * same time step (inputSize = layers[l-1].units). The head reads the last.
   */
  layers: FloatRecurrentLayer[];
  head: FloatDenseLayer;
  metrics: FloatMetrics;
}

/** The activation table, Q0.15 outputs, see docs/NUMERICS.md §4 (the sigmoid reads it too). */
export interface ActivationTables {
  /** tanh((j - 1024 + 1/2) / 2^8) * 2^15 for j = 0..2047 (clamped to ±32767): direct lookup. */
  tanhQ15: Int16Array;
}

export interface QuantRecurrentLayer {
  cell: CellKind;
  inputSize: number;
  units: number;
  /** Real value of one int8 step of each entry of v = [x, h] (length inputSize+units). */
  columnScales: number[];
  /** [G*units][inputSize+units] int8, see layout above. */
  weightsQ: Int8Array;
  /** Real value of one accumulator unit of each row (G*units). */
  rowScales: number[];
  /** Bias of each row in accumulator units (G*units). */
  biasQ: Int32Array;
  /** gateInQ12 = roundShift(acc * gateMultiplier[row], gateShift). */
  gateMultiplier: Int32Array;
  gateShift: number;
  /** Cell state format: Q(cellIntBits).(15-cellIntBits) in int16. */
  cellIntBits: number;
  /**
   * Peephole LSTM ([3*units], PEEPHOLE_GATES order) and depth-gated LSTM
   * ([2*units], DEPTH_GATE_TERMS order, both onto the depth gate); empty otherwise:
   * gateInQ12 += roundShift(cQ * peepholeMultiplier[k], peepholeShift).
   */
  peepholeMultiplier: Int32Array;
  /** Shift of the peephole (or depth-gate) term, 1..31 (0 when there are none). */
  peepholeShift: number;
  /**
   * GRU reset-after only ([units]; empty otherwise): the candidate rows'
   * recurrent bias in accumulator units of their rows (their input bias is biasQ).
   */
  recurrentBiasQ: Int32Array;
  /** Clockwork RNN only: as FloatRecurrentLayer.clockPeriods. */
  clockPeriods?: number[];
  /** Bidirectional layers: the backward direction and the merge, as in FloatRecurrentLayer. */
  backward?: QuantRecurrentLayer;
  merge?: MergeMode;
  /** As FloatRecurrentLayer.readout. */
  readout?: Readout;
  /** Reverse unidirectional layer, as in FloatRecurrentLayer. */
  reverse?: boolean;
}

export interface QuantDenseLayer {
  inputSize: number;
  outputSize: number;
  /** [outputSize][inputSize] int8. */
  weightsQ: Int8Array;
  /** Real value of one accumulator unit (one scale for the whole head). */
  accScale: number;
  /** [outputSize] in accumulator units. */
  biasQ: Int32Array;
}

/** One calibration or error record, for the report and the artifact. */
export interface TensorRange {
  name: string;
  min: number;
  max: number;
}

export interface QuantizedModel extends ModelHeader {
  /** Embedding input (absent: real readings); inputScales then holds the scale of each embedding column. */
  embedding?: QuantEmbedding;
  /** Real (normalized) value of one int8 step of each input feature (each embedding column). */
  inputScales: number[];
  /** As FloatModel.layers. Layer l > 0 reads layer l - 1's h, Q0.7: all its columns have scale 2^-7. */
  layers: QuantRecurrentLayer[];
  head: QuantDenseLayer;
  tables: ActivationTables;
  /** Ranges seen in float on the calibration windows. */
  calibration: TensorRange[];
  /** Scheme options chosen (weight scale granularity, ...), as JSON. */
  scheme: string;
  /** sha256 (hex) of the float artifact this was quantized from. */
  floatModelSha256: string;
  /** Absent: 'stream' (see Deployment); window models with bidirectional or reverse layers run as windows whatever it says. */
  deployment?: Deployment;
}

/** The name of each class index: its text label, or its numeric label as text. */
export const classNamesOf = (m: Pick<ModelHeader, 'classLabels' | 'classNames'>): string[] => m.classNames ?? m.classLabels.map(String);
