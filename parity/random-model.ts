/**
 * Random float models and their quantized forms, for parity and property
 * tests. Deterministic for a given seed (mulberry32).
 */
import { maskedRecurrentKernel } from '../core/clock.ts';
import {
  hasClock,
  hasPeepholes,
  hasRecurrentBias,
  gateCount,
  hasCellState,
  hasDepthGate,
  readsCellBelow,
  layerOutputSize,
  type CellKind,
  type FloatModel,
  type FloatRecurrentLayer,
  type MergeMode,
  type Readout,
  type QuantizedModel,
} from '../core/model.ts';
import { quantizeModel, type WeightScaleGranularity } from '../quantize/quantize.ts';
import { mulberry32 } from '../core/prng.ts';
import { denseWindows } from '../data/window-set.ts';

export { mulberry32 } from '../core/prng.ts';
export { randomSegments } from './random-inputs.ts';

export interface RandomModelSpec {
  seed: number;
  inputSize: number;
  units: number;
  outputSize?: number;
  /** Weights are uniform in ±weightRange. */
  weightRange?: number;
  biasRange?: number;
  window?: number;
  /**
   * Default 'lstm'. A depth-gated layer gets a forward LSTM of its width below it when the layer below
   * is not one (as its first layer too), and a stack with one has no bidirectional or reverse layer.
   */
  cell?: CellKind;
  /** More recurrent layers stacked on the first, bottom first (default none). */
  stacked?: { cell: CellKind; units: number; bidirectional?: MergeMode; reverse?: boolean }[];
  /** Make the first layer bidirectional with this merge. */
  bidirectional?: MergeMode;
  /** The top layer's readout when it is bidirectional (default: none, 'final-states'). */
  readout?: Readout;
  /** Make the first layer a reverse one (it reads the window last step first). */
  reverse?: boolean;
  /** Token input: an embedding of this many tokens (inputSize is its width); token 1 is the unknown token. */
  vocabulary?: number;
}

/** The draws of one model: its PRNG, uniform draws in ±range, and the weight and bias ranges. */
interface Draws {
  rnd: () => number;
  uniform: (n: number, range: number) => Float32Array;
  wr: number;
  br: number;
}

/**
 * One direction of a recurrent layer of `cell`, its weights drawn in this order: kernel, recurrent kernel, bias,
 * the kind's extras, then a clockwork layer's periods (the draws of the other kinds are as they always were, so a
 * seed keeps its model).
 */
function randomLayer({ rnd, uniform, wr, br }: Draws, cell: CellKind, inputSize: number, units: number): FloatRecurrentLayer {
  const G = gateCount(cell);
  const kernel = uniform(inputSize * G * units, wr);
  const recurrentKernel = uniform(units * G * units, wr);
  const bias = uniform(G * units, br);
  const extras = {
    ...(hasPeepholes(cell) ? { peephole: uniform(3 * units, wr) } : {}),
    ...(hasRecurrentBias(cell) ? { recurrentBias: uniform(G * units, br) } : {}),
    ...(hasDepthGate(cell) ? { depthGate: uniform(2 * units, wr) } : {}),
  };
  const clockPeriods = hasClock(cell) ? randomClockPeriods(units, rnd) : undefined;
  return {
    cell,
    inputSize,
    units,
    kernel,
    recurrentKernel: clockPeriods ? maskedRecurrentKernel(recurrentKernel, units, clockPeriods) : recurrentKernel,
    bias,
    ...extras,
    ...(clockPeriods ? { clockPeriods } : {}),
  };
}

export function randomFloatModel(spec: RandomModelSpec): FloatModel {
  const rnd = mulberry32(spec.seed);
  const { inputSize, units } = spec;
  const out = spec.outputSize ?? 1;
  const wr = spec.weightRange ?? 1;
  const br = spec.biasRange ?? 0.5;
  const uniform = (n: number, range: number) => Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * range);
  const layer = (cell: CellKind, inputSize: number, units: number) => randomLayer({ rnd, uniform, wr, br }, cell, inputSize, units);
  const inputNorm = {
    mean: Array.from({ length: inputSize }, () => rnd() * 10),
    std: Array.from({ length: inputSize }, () => 0.5 + rnd() * 3),
  };
  const outputNorm = { mean: Array.from({ length: out }, () => rnd() * 10), std: Array.from({ length: out }, () => 0.5 + rnd() * 3) };
  /** A layer, made bidirectional (its backward weights drawn after the forward ones) when `merge` is given, or reverse. */
  const directed = (cell: CellKind, inputSize: number, units: number, merge?: MergeMode, reverse?: boolean): FloatRecurrentLayer => {
    const forward = layer(cell, inputSize, units);
    return merge ? { ...forward, backward: layer(cell, inputSize, units), merge } : reverse ? { ...forward, reverse: true } : forward;
  };
  const layers: FloatRecurrentLayer[] = [];
  const push = (cell: CellKind, units: number, merge?: MergeMode, reverse?: boolean) => {
    const below = layers[layers.length - 1];
    if (!readsCellBelow(cell)) {
      layers.push(directed(cell, below ? layerOutputSize(below) : inputSize, units, merge, reverse));
      return;
    }
    // A depth-gated layer sits on a forward LSTM-family layer of its width: that of the layer below when it is one, else a new LSTM.
    const fits = below && hasCellState(below.cell) && !below.backward && !below.reverse;
    const width = fits ? below.units : units;
    if (!fits) push('lstm', width);
    layers.push(layer(cell, width, width));
  };
  // A stack with a depth-gated layer streams: its layers are all forward ones (NUMERICS.md §5j).
  const streams = [spec.cell ?? 'lstm', ...(spec.stacked ?? []).map((s) => s.cell)].some(readsCellBelow);
  push(spec.cell ?? 'lstm', units, streams ? undefined : spec.bidirectional, !streams && spec.reverse);
  for (const s of spec.stacked ?? []) push(s.cell, s.units, streams ? undefined : s.bidirectional, !streams && s.reverse);
  const topLayer = layers[layers.length - 1]!;
  if (spec.readout && topLayer.backward) topLayer.readout = spec.readout;
  const top = layerOutputSize(topLayer);
  const V = spec.vocabulary;
  const embedding = V ? { vocabularySize: V, dim: inputSize, table: uniform(V * inputSize, 1), unknownToken: 1, tokens: [] } : undefined;
  return {
    ...(embedding ? { embedding, inputNorm: { mean: [0], std: [1] } } : { inputNorm }),
    task: 'regression',
    featureNames: embedding ? ['token'] : Array.from({ length: inputSize }, (_, i) => `x${i}`),
    targetNames: Array.from({ length: out }, (_, k) => `y${k}`),
    classLabels: [],
    window: spec.window ?? 8,
    horizon: 1,
    targetMode: 'level',
    headActivation: 'linear',
    sequence: 'many-to-one',
    baseFeatures: [],
    outputNorm,
    layers,
    head: { inputSize: top, outputSize: out, kernel: uniform(top * out, wr), bias: uniform(out, br) },
    metrics: { name: 'rmse', train: 0, validation: 0, test: 0 },
    provenance: {
      data: 'random',
      dataSha256: '0'.repeat(64),
      seed: spec.seed,
      toolVersion: 'test',
      createdAt: '2026-01-01T00:00:00.000Z',
      options: '{}',
    },
  };
}

/**
 * Clock periods of a random clockwork layer: as many modules (up to 4) as
 * divide the units evenly, the first period 1 or 2, each next 1 to 4 more
 * (so the modules do not all run at every step, and not only powers of 2).
 */
export function randomClockPeriods(units: number, rnd: () => number): number[] {
  const modules = [4, 3, 2, 1].find((g) => units % g === 0)!;
  const periods = [1 + Math.floor(rnd() * 2)];
  while (periods.length < modules) periods.push(periods[periods.length - 1]! + 1 + Math.floor(rnd() * 4));
  return periods;
}

/** Normalized calibration windows: standard-normal-ish values. */
export function randomWindows(seed: number, count: number, window: number, inputSize: number): Float32Array {
  const rnd = mulberry32(seed ^ 0x9e3779b9);
  const x = new Float32Array(count * window * inputSize);
  for (let i = 0; i < x.length; i++) x[i] = (rnd() + rnd() + rnd() - 1.5) * 2;
  return x;
}

/** Token windows: random ids below `vocabulary`, each window padded (token 0) at its start by a random amount. */
export function randomTokenWindows(seed: number, count: number, window: number, vocabulary: number): Float32Array {
  const rnd = mulberry32(seed ^ 0x70c3);
  const x = new Float32Array(count * window);
  for (let n = 0; n < count; n++) {
    const pad = Math.floor(rnd() * (window - 1));
    for (let t = pad; t < window; t++) x[n * window + t] = 1 + Math.floor(rnd() * (vocabulary - 1));
  }
  return x;
}

export function randomQuantizedModel(spec: RandomModelSpec, weightScale: WeightScaleGranularity = 'per-row'): QuantizedModel {
  const float = randomFloatModel(spec);
  const count = 16;
  return quantizeModel(float, {
    weightScale,
    calibrationX: denseWindows(
      spec.vocabulary
        ? randomTokenWindows(spec.seed, count, float.window, spec.vocabulary)
        : randomWindows(spec.seed, count, float.window, spec.inputSize),
      float.window * (spec.vocabulary ? 1 : spec.inputSize),
    ),
    floatModelSha256: 'f'.repeat(64),
  });
}
