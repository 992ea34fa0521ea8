/**
 * Float model + its training data -> quantized model + report (the
 * `quantize` step): calibration on the training windows, then float and int8
 * side by side on the test windows, tensor by tensor.
 */
import {
  DEFAULT_INPUT_PERCENTILE,
  calibrate,
  calibrationText,
  calibrationWindows,
  layerPrefix,
  quantizeModel,
  type WeightScaleGranularity,
} from '../quantize/quantize.ts';
import { windowRange, type Windows } from '../data/window-set.ts';
import {
  DEPLOYMENTS,
  TANH_GATES,
  gateCount,
  gateNames,
  hasCellState,
  hasClock,
  isWindowModel,
  readsCellBelow,
  type CellKind,
  type Deployment,
  type FloatModel,
  type QuantizedModel,
  type TensorRange,
} from '../core/model.ts';
import { Simulator } from '../reference/simulator.ts';
import { clockCycle } from '../core/clock.ts';
import { windowStartClocks } from '../trainer/clock-column.ts';
import { floatDense, floatPredictWindow, floatStackStep, newFloatState } from '../reference/float-reference.ts';
import { roundHalfUp, saturateInt8 } from '../core/fixed-point.ts';
import type { Dataset, Split } from '../data/windows.ts';
import { embedWindows, embedWindowsQ, windowSteps } from '../core/embedding.ts';
import { windowsToSegments } from '../parity/parity.ts';
import type { Segments } from '../parity/trace.ts';
import { metricName, splitMetric } from './train.ts';
import { forecastMetrics, type ForecastMetrics } from './forecast-eval.ts';
import { chooseSeason, emptyStreamedSeries, streamedMetrics, type StreamedMetrics, type StreamedSeries } from './streamed-eval.ts';
import { windowClasses, type WindowClasses } from './window-classes.ts';
import { splitRange } from '../data/windows.ts';
import { UserError } from '../core/errors.ts';
import { endPhase, phaseTick, startPhase } from '../core/progress-line.ts';

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
  /** How the device runs the model, and why (see chooseDeployment). */
  deployment?: DeploymentChoice;
  /** The test series streamed through the app as the device runs them, with the baselines (streamed-eval.ts). */
  streamed?: StreamedMetrics;
  /** Set when the int8 model misses the float model by more than the budget (see int8Check). */
  int8Warning?: Int8Warning;
  /** Share of the test series' readings outside the int8 input range (they saturate). */
  inputsOutsideRange?: number;
  /** A classifier without series (independent windows): its test windows by class, against the majority class. */
  windowClasses?: WindowClasses;
}

/** What the report's figures are made of, for the HTML report (kept out of the JSON report: it grows with the data). */
export interface QuantizeDetails {
  /** The outputs on the test windows as compareOnWindows gives them (normalized; logits for a classifier). */
  windowOutputs: { float: Float64Array; int8: Float64Array };
  /** Regression with series: the streamed test series, point by point. */
  streamedSeries?: StreamedSeries;
}

/** The int8 model may score at most this much worse than the float model (relative). */
export const INT8_BUDGET = 0.03;

export interface DeploymentChoice {
  deployment: Deployment;
  /** Why: 'the only one' (a window model, a many-to-many or one-to-many model), 'asked' (--deploy), or 'validation' (the best streamed validation metric). */
  reason: 'only' | 'asked' | 'validation';
  /** Streamed validation metric of each candidate (reason 'validation'). */
  candidates: { deployment: Deployment; validation: number }[];
  /** Model steps per reading on the device: 1 streaming, the window otherwise. */
  stepsPerReading: number;
}

export interface Int8Warning {
  /** Which figure missed: the streamed test series (float streamed the same way) or the test windows. */
  on: 'streamed' | 'windows';
  float: number;
  int8: number;
  relativeChange: number;
  budget: number;
  /** Share of test readings outside the int8 input range of their feature (they saturate). */
  inputsOutsideRange: number;
  advice: string[];
}

/** Steps ahead the one-to-many forecasts are scored at. */
export const FORECAST_STEPS = 5;

/**
 * The int8 input sequences of the first `count` windows, one segment each, as
 * the device's stepQ sees them: quantized readings (§3), or for an embedding
 * model the table rows of the tokens, padding left out (§3a).
 */
export function inputSegments(q: QuantizedModel, x: Windows, count: number): Segments {
  const I = q.layers[0].inputSize;
  if (!q.embedding) return windowsToSegments(q, quantizeWindows(q, windowRange(x, 0, count)), count);
  const embedding = q.embedding;
  return Array.from({ length: count }, (_, n) => {
    const { x: rows, padding } = embedWindowsQ(embedding, x.at(n));
    const { x: steps, steps: k } = windowSteps(rows, padding, 0, q.window, I);
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
    for (let j = 0; j < units; j++)
      acc.add('weights.head', float.head.kernel[j * out + k], q.head.weightsQ[k * units + j] * q.head.accScale * 128);
  }
  return acc.list();
}

/**
 * Both models from a zero state, their clockwork counters at `clock` (the
 * clock of the window's first row, trainer/clock-column.ts; 0 otherwise):
 * the float states, and the simulator reset.
 */
function startWindow(float: FloatModel, sim: Simulator, clock: number) {
  sim.reset();
  float.layers.forEach((l, i) => (sim.clocks[i] = l.clockPeriods ? clock % clockCycle(l.clockPeriods) : 0));
  return float.layers.map((l) => newFloatState(l, l.clockPeriods ? clock % clockCycle(l.clockPeriods) : 0));
}

/**
 * Float reference and simulator in lockstep over windows; clockwork windows
 * from `startClocks` (each window's first clock); errors per tensor
 * (and layer) and both outputs: after the last step, or after every step for
 * a many-to-many model. Window models (bidirectional) run the whole window
 * at the last step, as on the device.
 */
export function compareOnWindows(float: FloatModel, q: QuantizedModel, split: Split, startClocks?: ArrayLike<number>) {
  const { window } = q;
  const inputSize = q.layers[0].inputSize;
  const out = q.head.outputSize;
  const everyStep = q.sequence === 'many-to-many';
  const S = everyStep ? window : 1;
  const sim = new Simulator(q);
  const errors = new ErrorAccumulator();
  // Window n's float and int8 inputs. Embedding models (§3a): table rows of the tokens; padding steps are not steps, on either side.
  const inputsOf = (n: number) => {
    const values = split.x.at(n);
    if (!(float.embedding && q.embedding)) return { x: values, xq: quantizeWindows(q, values), padding: undefined };
    const rows = embedWindows(float.embedding, values);
    return { x: rows.x, xq: embedWindowsQ(q.embedding, values).x, padding: rows.padding };
  };
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
      phaseTick(n, split.n, 'windows');
      sim.reset();
      // Only the last step's output is compared: the earlier inputs just join the window.
      const { x, xq, padding } = inputsOf(n);
      const run = windowSteps(x, padding, 0, window, inputSize);
      const runQ = windowSteps(xq, padding, 0, window, inputSize);
      for (let t = 0; t < run.steps - 1; t++) sim.feedQ(runQ.x.subarray(t * inputSize, (t + 1) * inputSize));
      if (run.steps > 0) sim.stepQ(runQ.x.subarray((run.steps - 1) * inputSize, run.steps * inputSize));
      record(n, floatPredictWindow(float.layers, float.head, run.x, 0, run.steps));
    }
    return { tensorErrors: errors.list(), floatOut, intOut };
  }
  const step = new Float64Array(inputSize);
  for (let n = 0; n < split.n; n++) {
    phaseTick(n, split.n, 'windows');
    const states = startWindow(float, sim, startClocks?.[n] ?? 0);
    const { x, xq, padding } = inputsOf(n);
    for (let t = 0; t < window; t++) {
      const base = t * inputSize;
      if (padding?.[t]) {
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

export interface QuantizeStepOptions {
  weightScale: WeightScaleGranularity;
  floatModelSha256: string;
  inputPercentile?: number;
  /** How the device runs a forward many-to-one model; default 'auto' (the best streamed validation metric). */
  deploy?: Deployment | 'auto';
  /** The seasonal baseline's period: undefined takes the dataset's (--season at training), else finds it; 0 for none. */
  season?: number;
  log?: (line: string) => void;
}

export const DEPLOY_CHOICES = ['auto', ...DEPLOYMENTS] as const;

/**
 * --deploy auto: a window (W steps per reading) is chosen over streaming (1)
 * only when its streamed validation metric is better by more than this
 * (relative); within it the two deliver the same and streaming costs 1/W.
 */
export const DEPLOY_MARGIN = 0.01;

/** The deployments a model can have: a choice only for a forward many-to-one model on readings. */
function deploymentCandidates(
  float: FloatModel,
  dataset: Dataset,
  deploy: Deployment | 'auto',
): { candidates: Deployment[]; reason: DeploymentChoice['reason'] } {
  if (isWindowModel(float)) return { candidates: ['window'], reason: 'only' };
  // a clockwork layer's counter runs with the stream, and a depth-gated layer reads the lower
  // layer's c at each step, which a window model does not keep (NUMERICS.md §5i, §5j)
  const streamsOnly = float.layers.find((l) => hasClock(l.cell) || readsCellBelow(l.cell))?.cell;
  if (float.sequence !== 'many-to-one' || float.embedding || !dataset.series || streamsOnly) {
    const kind = streamsOnly ?? (float.embedding ? 'token-input' : float.sequence);
    if (deploy === 'window') throw new UserError(`--deploy window: a ${kind} model streams; it runs one step per reading`);
    return { candidates: ['stream'], reason: 'only' };
  }
  return deploy === 'auto' ? { candidates: ['stream', 'window'], reason: 'validation' } : { candidates: [deploy], reason: 'asked' };
}

/** The training series, normalized, as the device would stream them from power-on (streamed calibration). */
function trainingStreams(dataset: Dataset): Float32Array[] {
  const F = dataset.featureNames.length;
  const { mean, std } = dataset.inputNorm;
  return (dataset.series ?? []).flatMap((s) => {
    const [lo, hi] = splitRange(s.segment, 'train');
    if (hi <= lo) return [];
    const base = lo - s.segment.start;
    return [Float32Array.from({ length: (hi - lo) * F }, (_, i) => (s.x[base * F + i]! - mean[i % F]!) / std[i % F]!)];
  });
}

export function quantizeStep(
  float: FloatModel,
  dataset: Dataset,
  options: QuantizeStepOptions,
): { model: QuantizedModel; report: QuantizeReport; details: QuantizeDetails } {
  const { candidates, reason } = deploymentCandidates(float, dataset, options.deploy ?? 'auto');
  // The windows' ranges are the same for every candidate: computed once.
  const calibrationX = calibrationWindows(dataset.train.x);
  options.log?.(
    `quantize: calibrating on ${calibrationText(calibrationX, dataset.train.x)}${candidates.includes('stream') && dataset.series ? ` and ${dataset.series.length} training series streamed` : ''}`,
  );
  startPhase('quantize: calibrating');
  const windowRanges = calibrate(float, calibrationX);
  const quantizeFor = (deployment: Deployment): QuantizedModel =>
    quantizeModel(float, {
      weightScale: options.weightScale,
      inputPercentile: options.inputPercentile,
      calibrationX,
      floatModelSha256: options.floatModelSha256,
      windowRanges,
      // A streamed model's state is calibrated on what it reaches over whole training series.
      ...(deployment === 'stream' && !isWindowModel(float) ? { streams: trainingStreams(dataset) } : {}),
      deployment,
    });
  const tried = candidates.map((deployment) => ({ deployment, model: quantizeFor(deployment) }));
  let chosen = tried[0]!;
  const scored: DeploymentChoice['candidates'] = [];
  if (tried.length > 1) {
    options.log?.(`quantize: choosing the deployment by the streamed validation ${metricName(dataset.task)} (${candidates.join(', ')})`);
    for (const t of tried) {
      startPhase(`quantize: the validation series streamed (${t.deployment})`);
      const v = streamedMetrics(t.model, dataset, { split: 'validation' })!;
      scored.push({ deployment: t.deployment, validation: v.int8 });
    }
    // Lower RMSE or higher accuracy by more than DEPLOY_MARGIN; within it the first candidate
    // (streaming: one step per reading, where a window costs `window` steps).
    const better = (a: number, b: number) => (dataset.task === 'regression' ? a < b * (1 - DEPLOY_MARGIN) : a > b * (1 + DEPLOY_MARGIN));
    let best = 0;
    scored.forEach((c, i) => {
      if (better(c.validation, scored[best]!.validation)) best = i;
    });
    chosen = tried[best]!;
  }
  const deployment: DeploymentChoice = {
    deployment: chosen.deployment,
    reason,
    candidates: scored,
    stepsPerReading: isWindowModel(chosen.model) ? float.window : 1,
  };
  options.log?.(`quantize: float vs int8 on ${dataset.test.n} test windows and the test series streamed`);
  const { report, details } = evaluateQuantizedDetails(
    float,
    chosen.model,
    dataset,
    options.weightScale,
    options.inputPercentile ?? DEFAULT_INPUT_PERCENTILE,
    options.season,
  );
  return { model: chosen.model, report: { ...report, deployment }, details };
}

/** The report of a quantized model: its scheme, and float vs int8 on the test windows, tensor by tensor. */
export function evaluateQuantized(
  float: FloatModel,
  model: QuantizedModel,
  dataset: Dataset,
  weightScale: WeightScaleGranularity,
  inputPercentile: number,
  season?: number,
): QuantizeReport {
  return evaluateQuantizedDetails(float, model, dataset, weightScale, inputPercentile, season).report;
}

/** evaluateQuantized, and what its figures are made of. */
function evaluateQuantizedDetails(
  float: FloatModel,
  model: QuantizedModel,
  dataset: Dataset,
  weightScale: WeightScaleGranularity,
  inputPercentile: number,
  season?: number,
): { report: QuantizeReport; details: QuantizeDetails } {
  startPhase('quantize: float vs int8 on the test windows');
  // clockwork: each test window from the clock the device has at its first row, as in training
  const periods = float.layers[0]!.clockPeriods;
  const clocks = periods ? windowStartClocks(dataset, dataset.test, periods) : undefined;
  const { tensorErrors, floatOut, intOut } = compareOnWindows(float, model, dataset.test, clocks);
  const floatMetric = splitMetric(dataset, dataset.test, floatOut);
  const intMetric = splitMetric(dataset, dataset.test, intOut);
  startPhase("quantize: the seasonal baseline's period (autocorrelation of the training rows)");
  const seasonChoice = chooseSeason(dataset, season ?? dataset.season);
  startPhase('quantize: the test series streamed');
  const series = emptyStreamedSeries();
  const streamed = streamedMetrics(model, dataset, { split: 'test', float, season: seasonChoice, series });
  endPhase();
  const int8Warning = int8Check(model, dataset, streamed, { float: floatMetric, int8: intMetric });
  const classes = streamed ? undefined : windowClasses(dataset, intOut);
  const report: QuantizeReport = {
    ...(classes ? { windowClasses: classes } : {}),
    ...(streamed ? { streamed, inputsOutsideRange: inputsOutsideRange(model, dataset) } : {}),
    ...(int8Warning ? { int8Warning } : {}),
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
  const windowOutputs = { float: floatOut, int8: intOut };
  return { report, details: { windowOutputs, ...(streamed?.task === 'regression' ? { streamedSeries: series } : {}) } };
}

/**
 * The int8 budget: the int8 model may miss the float model by INT8_BUDGET
 * (relative; RMSE up or accuracy down), judged on the streamed test series
 * where there are series (the figure the device delivers), else on the test
 * windows. A miss comes with the share of test readings outside the int8
 * input range and what to try.
 */
export function int8Check(
  q: QuantizedModel,
  dataset: Dataset,
  streamed: StreamedMetrics | undefined,
  windows: { float: number; int8: number },
): Int8Warning | undefined {
  const on = streamed?.float !== undefined ? 'streamed' : 'windows';
  const float = on === 'streamed' ? streamed!.float! : windows.float;
  const int8 = on === 'streamed' ? streamed!.int8 : windows.int8;
  const relativeChange = (int8 - float) / float;
  const worse = dataset.task === 'regression' ? relativeChange : -relativeChange;
  if (!(worse > INT8_BUDGET)) return undefined;
  const outside = inputsOutsideRange(q, dataset);
  const advice = [
    ...(outside > 0.001
      ? [
          `${(100 * outside).toFixed(1)}% of the test readings lie outside the int8 input range: ${dataset.task === 'regression' && dataset.targetMode === 'level' ? '--target-mode change, ' : ''}--input-percentile 100`,
        ]
      : []),
    '--qat (quantization-aware fine-tuning)',
    '--weight-scale per-row',
  ];
  return { on, float, int8, relativeChange, budget: INT8_BUDGET, inputsOutsideRange: outside, advice };
}

/** Share of the test series' readings (every feature) beyond what int8 holds: |normalized| > 127.5 steps. */
export function inputsOutsideRange(q: QuantizedModel, dataset: Dataset): number {
  if (q.embedding || !dataset.series) return 0;
  const F = dataset.featureNames.length;
  const { mean, std } = dataset.inputNorm;
  let outside = 0;
  let count = 0;
  for (const s of dataset.series) {
    const [lo, hi] = splitRange(s.segment, 'test');
    for (let r = lo - s.segment.start; r < hi - s.segment.start; r++) {
      for (let f = 0; f < F; f++) {
        if (Math.abs((s.x[r * F + f]! - mean[f]!) / std[f]!) > 127.5 * q.inputScales[f]!) outside++;
        count++;
      }
    }
  }
  return count ? outside / count : 0;
}
