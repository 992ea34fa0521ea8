/**
 * The rules a model must keep, checked on write (a bad model is caught before
 * it is saved) and on read (a file this reader cannot trust is refused). Each
 * check throws Invalid with the first problem found; the artifact reader
 * rewraps it as a one-line UserError with the file name.
 */
import { UserError } from './errors.ts';
import { TABLE_ENTRIES } from './fixed-point.ts';
import { clockPeriodsProblem, lowerBlockWeight } from './clock.ts';
import {
  hasRecurrentBias,
  hasClock,
  hasPeepholes,
  hasDepthGate,
  readsCellBelow,
  depthGatedRefusal,
  CELL_KINDS,
  gateCount,
  MERGE_MODES,
  READOUTS,
  lastLayer,
  layerOutputSize,
  type CellKind,
  type HeadActivation,
  SEQUENCE_PATTERNS,
  isWindowModel,
  feedbackFeatures,
  type FloatModel,
  type Provenance,
  type QuantizedModel,
  DEPLOYMENTS,
  type Deployment,
} from './model.ts';

/** A structural problem in a model; rewrapped as a UserError with the file name. */
export class Invalid extends Error {}

/** The longest window a model may have (the trainer's --window limit). */
export const MAX_WINDOW = 4096;
/** The furthest horizon a model may forecast (the trainer's --horizon limit). */
export const MAX_HORIZON = 100_000;

export function checkOrThrow(check: () => void, message: (problem: string) => string): void {
  try {
    check();
  } catch (err) {
    if (err instanceof Invalid) throw new UserError(message(err.message));
    throw err;
  }
}

function int(name: string, v: number, min: number, max = 2 ** 32 - 1): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new Invalid(`${name} is ${v}; expected an integer in ${min}..${max}`);
  }
}

function finite(name: string, v: number): void {
  if (!Number.isFinite(v)) throw new Invalid(`${name} is ${v}; expected a finite number`);
}

/** Every value above zero: a scale or a standard deviation (a negative one flips signs the device does not). */
function positive(name: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) if (!(a[i]! > 0)) throw new Invalid(`${name}[${i}] is ${a[i]}; expected a positive number`);
}

/** Every value zero or above: a scale that is 0 for a row or column of zeros. */
function nonNegative(name: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) if (!(a[i]! >= 0)) throw new Invalid(`${name}[${i}] is ${a[i]}; expected zero or more`);
}

/** Length check plus finiteness of every value. `formula` says where `expected` comes from. */
function vec(name: string, a: ArrayLike<number>, expected: number, formula: string): void {
  if (a.length !== expected) throw new Invalid(`${name} has ${a.length} values; expected ${expected} (${formula})`);
  for (let i = 0; i < a.length; i++) finite(`${name}[${i}]`, a[i]);
}

function count(name: string, a: ArrayLike<unknown>, expected: number, formula: string): void {
  if (a.length !== expected) throw new Invalid(`${name} has ${a.length} entries; expected ${expected} (${formula})`);
}

type Common = Pick<
  FloatModel,
  | 'task'
  | 'featureNames'
  | 'targetNames'
  | 'classLabels'
  | 'classNames'
  | 'window'
  | 'horizon'
  | 'targetMode'
  | 'headActivation'
  | 'sequence'
  | 'baseFeatures'
  | 'inputNorm'
  | 'outputNorm'
> & {
  layers: readonly { backward?: unknown; reverse?: boolean }[];
};

/** Checks shared by both kinds; sizes come from the model's layers. */
function validateCommon(m: Common, inputSize: number, units: number, head: { inputSize: number; outputSize: number }, p: Provenance): void {
  if (m.task !== 'regression' && m.task !== 'classification') {
    throw new Invalid(`task is ${JSON.stringify(m.task)}; expected "regression" or "classification"`);
  }
  int('head.outputSize', head.outputSize, 1);
  if (head.inputSize !== units) throw new Invalid(`head.inputSize is ${head.inputSize}; expected ${units} (units of the last layer)`);
  int('window', m.window, 1, MAX_WINDOW);
  int('horizon', m.horizon, 0, MAX_HORIZON);
  if (!SEQUENCE_PATTERNS.includes(m.sequence))
    throw new Invalid(`sequence is ${JSON.stringify(m.sequence)}; expected one of ${SEQUENCE_PATTERNS.join(', ')}`);
  if (m.sequence === 'one-to-many') {
    if (m.task !== 'regression') throw new Invalid('sequence one-to-many forecasts a regression target; it is not for classification');
    const missing = m.targetNames.filter((_, k) => feedbackFeatures(m)[k]! < 0);
    if (missing.length)
      throw new Invalid(`sequence one-to-many feeds each forecast back as its feature; target ${missing.join(', ')} is not a feature`);
  }
  if (m.sequence !== 'many-to-one' && isWindowModel(m)) {
    throw new Invalid(
      `sequence ${m.sequence} needs a streaming model; bidirectional and reverse layers read the whole window (many-to-one only)`,
    );
  }
  const allowed: readonly HeadActivation[] = m.task === 'regression' ? ['linear'] : ['softmax', 'sigmoid'];
  if (!allowed.includes(m.headActivation)) {
    throw new Invalid(`headActivation is ${JSON.stringify(m.headActivation)}; expected ${allowed.join(' or ')} for ${m.task}`);
  }
  if (m.targetMode !== 'level' && m.targetMode !== 'change') {
    throw new Invalid(`targetMode is ${JSON.stringify(m.targetMode)}; expected "level" or "change"`);
  }
  if (m.targetMode === 'change') {
    if (m.task !== 'regression') throw new Invalid('targetMode "change" is only for regression');
    count('baseFeatures', m.baseFeatures, head.outputSize, 'head.outputSize');
    m.baseFeatures.forEach((f, k) => {
      if (!Number.isInteger(f) || f < 0 || f >= inputSize)
        throw new Invalid(`baseFeatures[${k}] is ${f}; expected a feature index below ${inputSize}`);
    });
  } else count('baseFeatures', m.baseFeatures, 0, 'empty unless targetMode is "change"');
  count('featureNames', m.featureNames, inputSize, 'layers[0].inputSize, or 1 with an embedding');
  vec('inputNorm.mean', m.inputNorm.mean, inputSize, 'one per feature');
  vec('inputNorm.std', m.inputNorm.std, inputSize, 'one per feature');
  positive('inputNorm.std', m.inputNorm.std);
  const O = head.outputSize;
  if (m.task === 'regression') {
    count('targetNames', m.targetNames, O, 'head.outputSize');
    count('classLabels', m.classLabels, 0, 'empty for regression');
    if (m.classNames) count('classNames', m.classNames, 0, 'empty for regression');
    vec('outputNorm.mean', m.outputNorm.mean, O, 'head.outputSize');
    vec('outputNorm.std', m.outputNorm.std, O, 'head.outputSize');
    positive('outputNorm.std', m.outputNorm.std);
  } else {
    count('targetNames', m.targetNames, 1, 'the label column');
    // Softmax: one output per class. Sigmoid: two classes, one output (the logit of class 1).
    vec(
      'classLabels',
      m.classLabels,
      m.headActivation === 'sigmoid' ? 2 : O,
      m.headActivation === 'sigmoid' ? 'two classes for a sigmoid head' : 'head.outputSize',
    );
    if (m.headActivation === 'sigmoid') count('head outputs', { length: O }, 1, 'one logit for a sigmoid head');
    if (m.classNames) {
      count('classNames', m.classNames, m.classLabels.length, 'one per class label');
      if (new Set(m.classNames).size !== m.classNames.length) throw new Invalid('classNames repeat a name');
    }
    count('outputNorm.mean', m.outputNorm.mean, 0, 'empty for classification');
    count('outputNorm.std', m.outputNorm.std, 0, 'empty for classification');
  }
  finite('provenance.seed', p.seed);
}

/**
 * Embedding input (NUMERICS.md §3a): one feature (the token id) with identity
 * normalization, a table of vocabularySize rows of layers[0].inputSize values.
 */
function validateEmbedding(
  m: Common & { embedding?: { vocabularySize: number; dim: number; unknownToken: number; tokens: string[] } },
  inputSize: number,
  table: ArrayLike<number>,
  tableName: string,
): void {
  const e = m.embedding!;
  int('embedding.vocabularySize', e.vocabularySize, 2);
  if (e.dim !== inputSize) throw new Invalid(`embedding.dim is ${e.dim}; expected ${inputSize} (layers[0].inputSize)`);
  int('embedding.unknownToken', e.unknownToken, 1, e.vocabularySize - 1);
  if (e.tokens.length !== 0) count('embedding.tokens', e.tokens, e.vocabularySize, 'embedding.vocabularySize, or none');
  vec(`embedding.${tableName}`, table, e.vocabularySize * e.dim, 'vocabularySize*dim');
  count('featureNames', m.featureNames, 1, 'one token id per step with an embedding');
  if (m.inputNorm.mean[0] !== 0 || m.inputNorm.std[0] !== 1) throw new Invalid('inputNorm of a token id must be mean 0, std 1');
  if (m.sequence === 'one-to-many')
    throw new Invalid('sequence one-to-many feeds forecasts back as readings; a token input cannot take them');
}

/** The gate count of a known cell kind; anything else is invalid. */
function cellGates(name: string, cell: string): number {
  if (!(CELL_KINDS as readonly string[]).includes(cell)) {
    throw new Invalid(`${name}.cell is ${JSON.stringify(cell)}; expected one of ${CELL_KINDS.join(', ')}`);
  }
  return gateCount(cell as CellKind);
}

type ChainLayer = {
  cell: string;
  inputSize: number;
  units: number;
  backward?: { cell: string; inputSize: number; units: number; backward?: unknown; reverse?: boolean };
  merge?: string;
  readout?: string;
  reverse?: boolean;
};

/**
 * Layer sizes chain: layer 0 reads the features, layer l what layer l - 1
 * passes up. A backward direction matches its forward one and names its merge.
 */
function validateChain(layers: readonly ChainLayer[]): void {
  if (layers.length === 0) throw new Invalid('layers is empty; expected at least one recurrent layer');
  layers.forEach((l, i) => {
    int(`layers[${i}].inputSize`, l.inputSize, 1);
    int(`layers[${i}].units`, l.units, 1);
    if (i > 0) {
      const below = layerOutputSize(layers[i - 1] as Parameters<typeof layerOutputSize>[0]);
      if (l.inputSize !== below)
        throw new Invalid(`layers[${i}].inputSize is ${l.inputSize}; expected ${below} (the output of layers[${i - 1}])`);
    }
    if (l.backward && l.reverse) throw new Invalid(`layers[${i}] is both bidirectional and reverse; a reverse layer has one direction`);
    if (l.backward) {
      const b = l.backward;
      if (b.cell !== l.cell || b.inputSize !== l.inputSize || b.units !== l.units || b.backward !== undefined || b.reverse) {
        throw new Invalid(
          `layers[${i}].backward is a ${b.cell} ${b.inputSize}x${b.units}; expected a ${l.cell} ${l.inputSize}x${l.units} like its forward direction`,
        );
      }
      if (!(MERGE_MODES as readonly string[]).includes(l.merge ?? '')) {
        throw new Invalid(`layers[${i}].merge is ${JSON.stringify(l.merge)}; expected one of ${MERGE_MODES.join(', ')}`);
      }
    } else if (l.merge !== undefined && l.merge !== '') throw new Invalid(`layers[${i}].merge is set on a forward-only layer`);
    validateReadout(l, i, i === layers.length - 1);
  });
}

/** Depth-gated layers sit on a forward LSTM-family layer of their width, in a streaming model; a quantized one shares its cell format. */
function validateDepthGated(m: { layers: readonly (ChainLayer & { cellIntBits?: number })[]; deployment?: string }): void {
  const known = m.layers.every((l) => (CELL_KINDS as readonly string[]).includes(l.cell));
  if (!known) return;
  const why = depthGatedRefusal(m as Parameters<typeof depthGatedRefusal>[0]);
  if (why) throw new Invalid(why);
  m.layers.forEach((l, i) => {
    const below = m.layers[i - 1];
    if (readsCellBelow(l.cell as CellKind) && below && l.cellIntBits !== below.cellIntBits)
      throw new Invalid(
        `layers[${i}].cellIntBits is ${l.cellIntBits}; a depth-gated layer shares layers[${i - 1}]'s (${below.cellIntBits})`,
      );
  });
}

/** A readout names a known kind, and only the top layer, when bidirectional, has one. */
function validateReadout(l: ChainLayer, i: number, top: boolean): void {
  if (l.readout === undefined || l.readout === '') return;
  if (!(READOUTS as readonly string[]).includes(l.readout))
    throw new Invalid(`layers[${i}].readout is ${JSON.stringify(l.readout)}; expected one of ${READOUTS.join(', ')}`);
  if (!top || !l.backward) throw new Invalid(`layers[${i}].readout is set; only a bidirectional top layer has one`);
}

/** Every direction of every layer with its name: layers[i] and layers[i].backward. */
function directions<L extends { backward?: L }>(layers: readonly L[]): [L, string][] {
  return layers.flatMap((l, i): [L, string][] => [
    [l, `layers[${i}]`],
    ...(l.backward ? [[l.backward, `layers[${i}].backward`] as [L, string]] : []),
  ]);
}

/**
 * A clockwork layer (core/clock.ts): valid periods, streaming only (its
 * counter runs with the stream), and a zero recurrent weight wherever a
 * module would read a faster one (`weight(j, u)`: h_j onto unit u). Any
 * other cell has no periods.
 */
function validateClock(
  l: { cell: CellKind; units: number; clockPeriods?: number[]; backward?: unknown; reverse?: boolean },
  name: string,
  m: { layers: readonly { backward?: unknown; reverse?: boolean }[]; deployment?: Deployment },
  weight: (j: number, u: number) => number,
): void {
  const periods = l.clockPeriods ?? [];
  if (!hasClock(l.cell)) {
    if (periods.length > 0) throw new Invalid(`${name}.clockPeriods is set on a ${l.cell} layer; only a clockwork layer has them`);
    return;
  }
  const problem = clockPeriodsProblem(periods, l.units);
  if (problem) throw new Invalid(`${name}: ${problem}`);
  if (isWindowModel(m)) throw new Invalid(`${name} is a clockwork layer in a window model; its step counter runs with a stream only`);
  const link = lowerBlockWeight(l.units, periods, weight);
  if (link) throw new Invalid(`${name}: recurrent weight ${link} is not zero; a clockwork module reads only modules at least as slow`);
}

export function validateFloatModel(m: FloatModel): void {
  validateChain(m.layers);
  validateDepthGated(m);
  const U = layerOutputSize(lastLayer(m));
  validateCommon(m, m.embedding ? 1 : m.layers[0]!.inputSize, U, m.head, m.provenance);
  if (m.embedding) validateEmbedding(m, m.layers[0]!.inputSize, m.embedding.table, 'table');
  directions(m.layers).forEach(([layer, name]) => {
    const { inputSize: I, units: LU, cell } = layer;
    const G = cellGates(name, cell) * LU;
    vec(`${name}.kernel`, layer.kernel, I * G, 'inputSize*gates*units');
    vec(`${name}.recurrentKernel`, layer.recurrentKernel, LU * G, 'units*gates*units');
    vec(`${name}.bias`, layer.bias, G, 'gates*units');
    vec(`${name}.peephole`, layer.peephole ?? [], hasPeepholes(cell) ? 3 * LU : 0, hasPeepholes(cell) ? '3*units' : 'peephole LSTM only');
    vec(
      `${name}.recurrentBias`,
      layer.recurrentBias ?? [],
      hasRecurrentBias(cell) ? G : 0,
      hasRecurrentBias(cell) ? 'gates*units' : 'GRU reset-after only',
    );
    validateClock(layer, name, m, (j, u) => layer.recurrentKernel[j * LU + u]!);
    vec(
      `${name}.depthGate`,
      layer.depthGate ?? [],
      hasDepthGate(cell) ? 2 * LU : 0,
      hasDepthGate(cell) ? '2*units' : 'depth-gated LSTM only',
    );
  });
  vec('head.kernel', m.head.kernel, U * m.head.outputSize, 'inputSize*outputSize');
  vec('head.bias', m.head.bias, m.head.outputSize, 'outputSize');
  // Metrics may be NaN (a split with no windows): they are informational only.
}

export function validateQuantizedModel(m: QuantizedModel): void {
  validateChain(m.layers);
  if (m.deployment !== undefined && !DEPLOYMENTS.includes(m.deployment))
    throw new Invalid(`deployment is ${JSON.stringify(m.deployment)}; expected one of ${DEPLOYMENTS.join(', ')}`);
  if (m.deployment === 'window' && m.sequence !== 'many-to-one')
    throw new Invalid(`deployment window runs a many-to-one model over its window; sequence ${m.sequence} streams`);
  validateDepthGated(m);
  const U = layerOutputSize(lastLayer(m));
  validateCommon(m, m.embedding ? 1 : m.layers[0]!.inputSize, U, m.head, m.provenance);
  if (m.embedding) validateEmbedding(m, m.layers[0]!.inputSize, m.embedding.tableQ, 'tableQ');
  vec('inputScales', m.inputScales, m.layers[0]!.inputSize, 'layers[0].inputSize');
  positive('inputScales', m.inputScales);
  directions(m.layers).forEach(([l, name]) => {
    const { inputSize: I, units: LU } = l;
    const G = cellGates(name, l.cell) * LU;
    vec(`${name}.columnScales`, l.columnScales, I + LU, 'inputSize+units');
    vec(`${name}.weightsQ`, l.weightsQ, G * (I + LU), 'gates*units*(inputSize+units)');
    vec(`${name}.rowScales`, l.rowScales, G, 'gates*units');
    nonNegative(`${name}.columnScales`, l.columnScales);
    nonNegative(`${name}.rowScales`, l.rowScales);
    vec(`${name}.biasQ`, l.biasQ, G, 'gates*units');
    vec(`${name}.gateMultiplier`, l.gateMultiplier, G, 'gates*units');
    int(`${name}.gateShift`, l.gateShift, 1, 31); // NUMERICS.md: every shift count is in 1..31
    int(`${name}.cellIntBits`, l.cellIntBits, 0, 15); // Q(K).(15-K) in int16
    // diagonal cell-state weights: a peephole LSTM's three, a depth gate's two (§5e, §5j)
    const peephole = hasPeepholes(l.cell) || hasDepthGate(l.cell);
    const diagonals = hasPeepholes(l.cell) ? 3 : 2;
    const expected = peephole ? `${diagonals}*units` : 'peephole and depth-gated LSTM only';
    vec(`${name}.peepholeMultiplier`, l.peepholeMultiplier, peephole ? diagonals * LU : 0, expected);
    if (peephole) int(`${name}.peepholeShift`, l.peepholeShift, 1, 31);
    else int(`${name}.peepholeShift`, l.peepholeShift, 0, 0);
    const resetAfter = hasRecurrentBias(l.cell);
    vec(`${name}.recurrentBiasQ`, l.recurrentBiasQ, resetAfter ? LU : 0, resetAfter ? 'units' : 'GRU reset-after only');
    validateClock(l, name, m, (j, u) => l.weightsQ[u * (I + LU) + I + j]!);
  });
  vec('head.weightsQ', m.head.weightsQ, m.head.outputSize * U, 'outputSize*inputSize');
  vec('head.biasQ', m.head.biasQ, m.head.outputSize, 'outputSize');
  finite('head.accScale', m.head.accScale);
  if (!(m.head.accScale > 0)) throw new Invalid(`head.accScale is ${m.head.accScale}; expected a positive number`);
  if (m.tables.tanhQ15.length !== TABLE_ENTRIES) {
    throw new Invalid(`tables.tanhQ15 has ${m.tables.tanhQ15.length} entries (expected ${TABLE_ENTRIES})`);
  }
  m.calibration.forEach((r, i) => {
    finite(`calibration[${i}].min`, r.min);
    finite(`calibration[${i}].max`, r.max);
  });
}
