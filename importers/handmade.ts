/**
 * Models from hand-written weights: a small JSON format (documented in
 * docs/HANDMADE.md) for cells whose weights are set by hand, as in the
 * textbook LSTM that adds, clears and outputs a memory. The result is an
 * ordinary float model plus calibration windows, so it goes through the same
 * quantize -> codegen -> parity path as a trained one.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.ts';
import { denseWindows, type Windows } from '../data/window-set.ts';
import { clockPeriodsProblem, feedsUnit } from '../core/clock.ts';
import {
  hasClock,
  hasRecurrentBias,
  hasPeepholes,
  hasDepthGate,
  readsCellBelow,
  CELL_KINDS,
  PEEPHOLE_GATES,
  gateCount,
  gateNames,
  type CellKind,
  type FloatModel,
  type FloatRecurrentLayer,
  type Normalization,
} from '../core/model.ts';

export const HANDMADE_FORMAT = 'lstm-mcu/handmade-v1';

export interface HandmadeModel {
  model: FloatModel;
  /** Normalized calibration windows [count][window][inputs] (window = model.window). */
  calibrationX: Windows;
  /** The example the file documents, if any: raw inputs per step and the expected outputs. */
  example?: { inputs: number[][]; outputs: number[][] };
}

type Json = Record<string, unknown>;

/** Reads values out of the parsed JSON; a wrong one is a one-line error naming the file and the path in it. */
class Reader {
  constructor(private readonly where: string) {}

  fail(path: string, what: string): never {
    throw new UserError(`${this.where}: ${path}: ${what}`);
  }

  object(v: unknown, path: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'expected an object');
    return v as Json;
  }

  names(v: unknown, path: string): string[] {
    if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string' || s === ''))
      this.fail(path, 'expected a non-empty list of names');
    return v as string[];
  }

  vector(v: unknown, path: string, n: number): number[] {
    if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      this.fail(path, `expected ${n} finite number${n === 1 ? '' : 's'}`);
    }
    return v as number[];
  }

  matrix(v: unknown, path: string, rows: number, cols: number): number[][] {
    if (!Array.isArray(v) || v.length !== rows) this.fail(path, `expected ${rows} row${rows === 1 ? '' : 's'} of ${cols} numbers`);
    return (v as unknown[]).map((row, r) => this.vector(row, `${path}[${r}]`, cols));
  }
}

/**
 * The recurrent layer from `gates` (at `at` in the file: '' or 'layers[l].'): W [units][inputs],
 * U [units][units], b [units] per gate, in the cell's gate order; `p`, `bR`, `wc` and `wl` where the cell has them.
 */
function readLayer(r: Reader, doc: Json, cell: CellKind, I: number, U: number, at = ''): FloatRecurrentLayer {
  const gates = r.object(doc.gates, `${at}gates`);
  const expected = gateNames(cell);
  const unknown = Object.keys(gates).filter((g) => !(expected as readonly string[]).includes(g));
  if (unknown.length) r.fail(`${at}gates`, `unknown gate ${unknown.join(', ')} for a ${cell} (gates: ${expected.join(', ')})`);
  const cols = gateCount(cell) * U;
  const kernel = new Float32Array(I * cols);
  const recurrentKernel = new Float32Array(U * cols);
  const bias = new Float32Array(cols);
  // Peephole LSTM: optional diagonal peephole weights `p` on gates input, forget, output (default 0).
  const peephole = hasPeepholes(cell) ? new Float32Array(3 * U) : undefined;
  // GRU reset-after: optional recurrent bias `bR` on every gate (default 0).
  const recurrentBias = hasRecurrentBias(cell) ? new Float32Array(cols) : undefined;
  // Depth-gated LSTM: optional diagonal weights on the depth gate, `wc` of its own c and `wl` of the lower layer's (default 0).
  const depthGate = hasDepthGate(cell) ? new Float32Array(2 * U) : undefined;
  expected.forEach((gate, g) => {
    const path = `${at}gates.${gate}`;
    const spec = r.object(gates[gate], path);
    const W = r.matrix(spec.W, `${path}.W`, U, I);
    const R = r.matrix(spec.U, `${path}.U`, U, U);
    const b = r.vector(spec.b, `${path}.b`, U);
    for (let u = 0; u < U; u++) {
      for (let i = 0; i < I; i++) kernel[i * cols + g * U + u] = W[u][i];
      for (let j = 0; j < U; j++) recurrentKernel[j * cols + g * U + u] = R[u][j];
      bias[g * U + u] = b[u];
    }
    const k = (PEEPHOLE_GATES as readonly string[]).indexOf(gate);
    if (spec.p !== undefined) {
      if (!peephole || k < 0) r.fail(`${path}.p`, 'peephole weights exist only on the input, forget and output gates of a peephole cell');
      peephole!.set(r.vector(spec.p, `${path}.p`, U), k * U);
    }
    if (spec.bR !== undefined) {
      if (!recurrentBias) r.fail(`${path}.bR`, 'a recurrent bias exists only in a gru-reset-after cell');
      recurrentBias!.set(r.vector(spec.bR, `${path}.bR`, U), g * U);
    }
    DEPTH_GATE_WEIGHTS.forEach((key, term) => {
      if (spec[key] === undefined) return;
      if (!depthGate || gate !== 'depth')
        r.fail(`${path}.${key}`, 'depth-gate weights exist only on the depth gate of a depth-gated layer');
      depthGate!.set(r.vector(spec[key], `${path}.${key}`, U), term * U);
    });
  });
  const clockPeriods = hasClock(cell) ? readClock(r, doc, U, recurrentKernel) : undefined;
  if (!clockPeriods && doc.clockPeriods !== undefined)
    r.fail(`${at}clockPeriods`, `clock periods exist only in a clockwork cell, not a ${cell}`);
  return {
    cell,
    inputSize: I,
    units: U,
    kernel,
    recurrentKernel,
    bias,
    ...(peephole ? { peephole } : {}),
    ...(recurrentBias ? { recurrentBias } : {}),
    ...(depthGate ? { depthGate } : {}),
    ...(clockPeriods ? { clockPeriods } : {}),
  };
}

/**
 * Clockwork: `clockPeriods`, one period per module (increasing, dividing the
 * units evenly), and no weight in `gates.candidate.U` from a faster module.
 */
function readClock(r: Reader, doc: Json, U: number, recurrentKernel: Float32Array): number[] {
  const periods = doc.clockPeriods;
  if (!Array.isArray(periods)) r.fail('clockPeriods', 'expected a list of module periods, e.g. [1, 2, 4, 8]');
  const problem = clockPeriodsProblem(periods as number[], U);
  if (problem) r.fail('clockPeriods', problem);
  for (let u = 0; u < U; u++)
    for (let j = 0; j < U; j++)
      if (!feedsUnit(j, u, U, periods as number[]) && recurrentKernel[j * U + u] !== 0)
        r.fail(`gates.candidate.U[${u}][${j}]`, 'must be 0: a clockwork module reads only the h of modules at least as slow');
  return [...(periods as number[])];
}

/** The keys of a depth gate's diagonal weights, in DEPTH_GATE_TERMS order: its own c(t-1), the lower layer's c(t). */
const DEPTH_GATE_WEIGHTS = ['wc', 'wl'] as const;

/**
 * The recurrent layers: one from `gates`, or for a depth-gated cell a list `layers` of two or
 * more `{ gates }`, the first an LSTM's, each above it a depth-gated layer's of the same units.
 */
function readLayers(r: Reader, doc: Json, cell: CellKind, I: number, U: number): FloatRecurrentLayer[] {
  if (!readsCellBelow(cell)) return [readLayer(r, doc, cell, I, U)];
  const list = doc.layers;
  if (!Array.isArray(list) || list.length < 2)
    r.fail('layers', `a ${cell} model lists two or more layers, each { gates }: an LSTM, then depth-gated layers`);
  if (doc.clockPeriods !== undefined) r.fail('clockPeriods', `clock periods exist only in a clockwork cell, not a ${cell}`);
  return (list as unknown[]).map((l, i) =>
    readLayer(r, r.object(l, `layers[${i}]`), i === 0 ? 'lstm' : cell, i === 0 ? I : U, U, `layers[${i}].`),
  );
}

/** `inputNorm` / `outputNorm`: a mean and a positive std per value; absent, the identity. */
function readNorm(r: Reader, doc: Json, key: 'inputNorm' | 'outputNorm', n: number): Normalization {
  if (doc[key] === undefined) return { mean: new Array<number>(n).fill(0), std: new Array<number>(n).fill(1) };
  const o = r.object(doc[key], key);
  const std = r.vector(o.std, `${key}.std`, n);
  if (std.some((v) => v <= 0)) r.fail(`${key}.std`, 'every std must be above 0');
  return { mean: r.vector(o.mean, `${key}.mean`, n), std };
}

/** Calibration: sequences of equal length of raw input rows; they become the (normalized) windows. */
function readCalibration(r: Reader, doc: Json, I: number, inputNorm: Normalization): { x: Float32Array; count: number; window: number } {
  const sequences = doc.calibration;
  if (!Array.isArray(sequences) || sequences.length === 0) r.fail('calibration', 'expected a non-empty list of input sequences');
  const seqs = (sequences as unknown[]).map((s, k) => {
    if (!Array.isArray(s) || s.length === 0) r.fail(`calibration[${k}]`, 'expected a non-empty list of input rows');
    return (s as unknown[]).map((row, t) => r.vector(row, `calibration[${k}][${t}]`, I));
  });
  const window = Math.max(...seqs.map((s) => s.length));
  seqs.forEach((s, k) => {
    if (s.length !== window) r.fail(`calibration[${k}]`, `has ${s.length} rows; every calibration sequence needs ${window} (the longest)`);
  });
  const x = new Float32Array(seqs.length * window * I);
  seqs.forEach((s, k) =>
    s.forEach((row, t) => row.forEach((v, i) => (x[(k * window + t) * I + i] = (v - inputNorm.mean[i]) / inputNorm.std[i]))),
  );
  return { x, count: seqs.length, window };
}

/** An optional example: inputs and the outputs they must give. */
function readExample(r: Reader, doc: Json, I: number, O: number): HandmadeModel['example'] {
  if (doc.example === undefined) return undefined;
  const e = r.object(doc.example, 'example');
  if (!Array.isArray(e.inputs) || !Array.isArray(e.outputs) || e.inputs.length !== e.outputs.length) {
    r.fail('example', 'expected inputs and outputs lists of the same length');
  }
  return {
    inputs: (e.inputs as unknown[]).map((row, t) => r.vector(row, `example.inputs[${t}]`, I)),
    outputs: (e.outputs as unknown[]).map((row, t) => r.vector(row, `example.outputs[${t}]`, O)),
  };
}

export function parseHandmadeModel(text: string, where: string): HandmadeModel {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (err) {
    const reason = (err as Error).message.replace(/\s+/g, ' ');
    throw new UserError(`${where}: not valid JSON (${reason.length > 100 ? `${reason.slice(0, 100)}…` : reason})`);
  }
  const r = new Reader(where);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) r.fail('(top level)', 'expected an object');
  if (doc.format !== HANDMADE_FORMAT) r.fail('format', `expected "${HANDMADE_FORMAT}", got ${JSON.stringify(doc.format)}`);
  const cell = doc.cell as CellKind;
  if (!CELL_KINDS.includes(cell)) r.fail('cell', `expected one of ${CELL_KINDS.join(', ')}, got ${JSON.stringify(doc.cell)}`);
  const features = r.names(doc.features, 'features');
  const targets = r.names(doc.targets, 'targets');
  const units = doc.units;
  if (!Number.isInteger(units) || (units as number) < 1 || (units as number) > 512) r.fail('units', 'expected an integer from 1 to 512');
  const U = units as number;
  const I = features.length;
  const O = targets.length;
  const layers = readLayers(r, doc, cell, I, U);
  const head = r.object(doc.head, 'head');
  const D = r.matrix(head.W, 'head.W', O, U);
  const d = r.vector(head.b, 'head.b', O);
  const headKernel = new Float32Array(U * O);
  for (let k = 0; k < O; k++) for (let j = 0; j < U; j++) headKernel[j * O + k] = D[k][j];
  const inputNorm = readNorm(r, doc, 'inputNorm', I);
  const outputNorm = readNorm(r, doc, 'outputNorm', O);
  const calibration = readCalibration(r, doc, I, inputNorm);
  const example = readExample(r, doc, I, O);
  const model: FloatModel = {
    task: 'regression',
    featureNames: features,
    targetNames: targets,
    classLabels: [],
    window: calibration.window,
    horizon: 1,
    targetMode: 'level',
    headActivation: 'linear',
    sequence: 'many-to-one',
    baseFeatures: [],
    inputNorm,
    outputNorm,
    layers,
    head: { inputSize: U, outputSize: O, kernel: headKernel, bias: Float32Array.from(d) },
    metrics: { name: 'rmse', train: NaN, validation: NaN, test: NaN },
    provenance: {
      data: where,
      dataSha256: createHash('sha256').update(text).digest('hex'),
      seed: 0,
      toolVersion: '',
      createdAt: '',
      options: JSON.stringify({ source: 'handmade' }),
    },
  };
  return { model, calibrationX: denseWindows(calibration.x, calibration.window * I, calibration.count), example };
}
