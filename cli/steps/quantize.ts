/**
 * Float model + its training data -> quantized model + report (the
 * `quantize` step): calibration on the training windows, then float and int8
 * side by side on the test windows, tensor by tensor.
 */
import { DEFAULT_INPUT_PERCENTILE, layerPrefix, quantizeModel, type WeightScaleGranularity } from '../../codegen/quantize.ts';
import { TANH_GATES, gateCount, gateNames, hasCellState, isWindowModel, type CellKind, type FloatModel, type QuantizedModel, type TensorRange } from '../../runtime/model.ts';
import { Simulator } from '../../runtime/simulator.ts';
import { floatDense, floatPredictWindow, floatStackStep, newFloatState } from '../../runtime/float-reference.ts';
import { roundHalfUp, saturateInt8 } from '../../runtime/fixed-point.ts';
import type { Dataset, Split } from '../../trainer/windows.ts';
import { embedWindows, embedWindowsQ, windowSteps } from '../../runtime/embedding.ts';
import { windowsToSegments } from '../../runtime/parity.ts';
import type { Segments } from '../../runtime/trace.ts';
import { metricName, splitMetric } from './train.ts';
import { forecastMetrics, type ForecastMetrics } from './forecast-eval.ts';

export interface ErrorStat {
  name: string;
  /** Largest |float − dequantized int8|. */
  maxAbs: number;
  /** Root mean square of the same. */
  rms: number;
}

export interface QuantizeReport {
  scheme: {
    weightScale: WeightScaleGranularity;
    inputPercentile: number;
    /** Per recurrent layer, bottom first. */
    layers: { cell: CellKind; units: number; gateShift: number; cellFormat: string; multiplierBits: { min: number; max: number } }[];
  };
  calibration: TensorRange[];
  weightErrors: ErrorStat[];
  tensorErrors: ErrorStat[];
  metrics: { name: string; split: 'test'; windows: number; float: number; int8: number; relativeChange: number };
  /** One-to-many models: RMSE of multi-step forecasts fed back as on the device (see forecast-eval.ts). */
  forecast?: ForecastMetrics;
}

/** Steps ahead the one-to-many forecasts are scored at. */
export const FORECAST_STEPS = 5;

/**
 * The int8 input sequences of the first `count` windows, one segment each, as
 * the device's stepQ sees them: quantized readings (§3), or for an embedding
 * model the table rows of the tokens, padding left out (§3a).
 */
export function inputSegments(q: QuantizedModel, x: Float32Array, count: number): Segments {
  const I = q.layers[0].inputSize;
  if (!q.embedding) return windowsToSegments(q, quantizeWindows(q, x.subarray(0, count * q.window * I)), count);
  const { x: rows, padding } = embedWindowsQ(q.embedding, x.subarray(0, count * q.window));
  return Array.from({ length: count }, (_, n) => {
    const { x: steps, steps: k } = windowSteps(rows, padding, n, q.window, I);
    return Array.from({ length: k }, (_, t) => steps.slice(t * I, (t + 1) * I));
  });
}

/** Normalized window values -> the int8 inputs the device computes (NUMERICS.md §3). */
export function quantizeWindows(q: QuantizedModel, x: Float32Array): Int8Array {
  const n = q.layers[0].inputSize;
  const xq = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) xq[i] = saturateInt8(roundHalfUp(x[i] / q.inputScales[i % n]));
  return xq;
}

class ErrorAccumulator {
  private readonly stats = new Map<string, { max: number; ss: number; n: number }>();
  add(name: string, float: number, quant: number): void {
    const d = Math.abs(float - quant);
    const s = this.stats.get(name) ?? { max: 0, ss: 0, n: 0 };
    s.max = Math.max(s.max, d);
    s.ss += d * d;
    s.n++;
    this.stats.set(name, s);
  }
  list(): ErrorStat[] {
    return [...this.stats].map(([name, s]) => ({ name, maxAbs: s.max, rms: Math.sqrt(s.ss / Math.max(1, s.n)) }));
  }
}

/** Dequantized weights vs float, per gate and layer (in real weight units). */
function weightErrors(float: FloatModel, q: QuantizedModel): ErrorStat[] {
  const acc = new ErrorAccumulator();
  q.layers.forEach((layer, l) => {
    const { inputSize, units, columnScales, weightsQ, rowScales, cell } = layer;
    const f = float.layers[l]!;
    const p = layerPrefix(q.layers.length, l);
    const cols = gateCount(cell) * units;
    const width = inputSize + units;
    for (let r = 0; r < cols; r++) {
      const gate = gateNames(cell)[Math.floor(r / units)];
      for (let i = 0; i < width; i++) {
        const w = i < inputSize ? f.kernel[i * cols + r] : f.recurrentKernel[(i - inputSize) * cols + r];
        acc.add(`${p}weights.${gate}`, w, (weightsQ[r * width + i] * rowScales[r]) / columnScales[i]);
      }
    }
  });
  const out = q.head.outputSize;
  const units = q.head.inputSize;
  for (let k = 0; k < out; k++) {
    for (let j = 0; j < units; j++) acc.add('weights.head', float.head.kernel[j * out + k], q.head.weightsQ[k * units + j] * q.head.accScale * 128);
  }
  return acc.list();
}

/**
 * Float reference and simulator in lockstep over windows; errors per tensor
 * (and layer) and both outputs: after the last step, or after every step for
 * a many-to-many model. Window models (bidirectional) run the whole window
 * at the last step, as on the device.
 */
export function compareOnWindows(float: FloatModel, q: QuantizedModel, split: Split) {
  const { window } = q;
  const inputSize = q.layers[0].inputSize;
  const out = q.head.outputSize;
  const everyStep = q.sequence === 'many-to-many';
  const S = everyStep ? window : 1;
  const sim = new Simulator(q);
  const errors = new ErrorAccumulator();
  // Embedding models (§3a): table rows of the tokens; padding steps are not steps, on either side.
  const tokens = float.embedding && q.embedding ? { float: embedWindows(float.embedding, split.x), int8: embedWindowsQ(q.embedding, split.x) } : undefined;
  const x = tokens?.float.x ?? split.x;
  const xq = tokens?.int8.x ?? quantizeWindows(q, split.x);
  const padding = tokens?.float.padding;
  const floatOut = new Float64Array(split.n * S * out);
  const intOut = new Float64Array(split.n * S * out);
  const record = (row: number, y: ArrayLike<number>) => {
    for (let k = 0; k < out; k++) {
      floatOut[row * out + k] = y[k];
      intOut[row * out + k] = sim.outputAcc[k] * q.head.accScale;
      errors.add('output (normalized)', y[k], intOut[row * out + k]);
    }
  };
  if (isWindowModel(q)) {
    for (let n = 0; n < split.n; n++) {
      sim.reset();
      // Only the last step's output is compared: the earlier inputs just join the window.
      const run = windowSteps(x, padding, n, window, inputSize);
      const runQ = windowSteps(xq, padding, n, window, inputSize);
      for (let t = 0; t < run.steps - 1; t++) sim.feedQ(runQ.x.subarray(t * inputSize, (t + 1) * inputSize));
      if (run.steps > 0) sim.stepQ(runQ.x.subarray((run.steps - 1) * inputSize, run.steps * inputSize));
      record(n, floatPredictWindow(float.layers, float.head, run.x, 0, run.steps));
    }
    return { tensorErrors: errors.list(), floatOut, intOut };
  }
  const step = new Float64Array(inputSize);
  for (let n = 0; n < split.n; n++) {
    const states = float.layers.map((l) => newFloatState(l));
    sim.reset();
    for (let t = 0; t < window; t++) {
      const base = (n * window + t) * inputSize;
      if (padding?.[n * window + t]) {
        // Not a step: the outputs stay those of the last step.
        if (everyStep || t === window - 1) record(everyStep ? n * window + t : n, floatDense(float.head, states[states.length - 1]!.h));
        continue;
      }
      for (let i = 0; i < inputSize; i++) step[i] = x[base + i];
      const top = floatStackStep(float.layers, states, step);
      sim.stepQ(xq.subarray(base, base + inputSize));
      q.layers.forEach((layer, l) => {
        const { units, cellIntBits, cell } = layer;
        const state = states[l]!;
        const simState = sim.layerStates[l];
        const p = layerPrefix(q.layers.length, l);
        for (let u = 0; u < units; u++) {
          gateNames(cell).forEach((gate, g) => {
            const z = state.preActivations[g * units + u];
            const fv = TANH_GATES.has(gate) ? Math.tanh(z) : 1 / (1 + Math.exp(-z));
            errors.add(`${p}gate.${gate}`, fv, simState.gatesQ15[g * units + u] / 32768);
          });
          if (state.c.length) errors.add(`${p}cell`, state.c[u], simState.cellQ[u] / 2 ** (15 - cellIntBits));
          errors.add(`${p}hidden`, state.h[u], simState.hQ7[u] / 128);
        }
      });
      if (everyStep || t === window - 1) record(everyStep ? n * window + t : n, floatDense(float.head, top));
    }
  }
  return { tensorErrors: errors.list(), floatOut, intOut };
}

export function quantizeStep(
  float: FloatModel,
  dataset: Dataset,
  options: { weightScale: WeightScaleGranularity; floatModelSha256: string; inputPercentile?: number; log?: (line: string) => void },
): { model: QuantizedModel; report: QuantizeReport } {
  options.log?.(`quantize: calibrating on ${dataset.train.n} training windows`);
  const model = quantizeModel(float, {
    weightScale: options.weightScale,
    inputPercentile: options.inputPercentile,
    calibrationX: dataset.train.x,
    calibrationCount: dataset.train.n,
    floatModelSha256: options.floatModelSha256,
  });
  options.log?.(`quantize: float vs int8 on ${dataset.test.n} test windows`);
  return { model, report: evaluateQuantized(float, model, dataset, options.weightScale, options.inputPercentile ?? DEFAULT_INPUT_PERCENTILE) };
}

/** The report of a quantized model: its scheme, and float vs int8 on the test windows, tensor by tensor. */
export function evaluateQuantized(
  float: FloatModel,
  model: QuantizedModel,
  dataset: Dataset,
  weightScale: WeightScaleGranularity,
  inputPercentile: number,
): QuantizeReport {
  const { tensorErrors, floatOut, intOut } = compareOnWindows(float, model, dataset.test);
  const floatMetric = splitMetric(dataset, dataset.test, floatOut);
  const intMetric = splitMetric(dataset, dataset.test, intOut);
  return {
    scheme: {
      weightScale,
      inputPercentile,
      layers: model.layers.map((layer) => {
        const mult = Array.from(layer.gateMultiplier, (m) => Math.log2(Math.max(1, Math.abs(m))));
        return {
          cell: layer.cell,
          units: layer.units,
          gateShift: layer.gateShift,
          cellFormat: hasCellState(layer.cell) ? `Q${layer.cellIntBits}.${15 - layer.cellIntBits}` : 'none',
          multiplierBits: { min: Math.floor(Math.min(...mult)) + 1, max: Math.floor(Math.max(...mult)) + 1 },
        };
      }),
    },
    calibration: model.calibration,
    weightErrors: weightErrors(float, model),
    tensorErrors,
    metrics: {
      name: metricName(dataset.task),
      split: 'test',
      windows: dataset.test.n,
      float: floatMetric,
      int8: intMetric,
      relativeChange: (intMetric - floatMetric) / floatMetric,
    },
    ...(model.sequence === 'one-to-many' ? { forecast: forecastMetrics(float, model, dataset, FORECAST_STEPS) } : {}),
  };
}
