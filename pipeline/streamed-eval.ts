/**
 * What the device delivers: each series of a split streamed from its first
 * row through the app's rules (firmware/app-replay.ts: bad readings, resets
 * after a run of them, warm-up) around the int8 simulator, the same integers
 * as the board, one reading at a time and never reset otherwise. The metric
 * is computed at the points the app scores, and so are the baselines a user
 * would try, on exactly the same points:
 * - regression: RMSE of the forecast made at row o for row s = o + H; the
 *   persistence forecast y[s − L] and the seasonal naive forecast
 *   y[s − m·⌈L/m⌉] (period m), L = max(H, 1), from the series' own history;
 * - classification: accuracy, per-class precision and recall, the confusion
 *   matrix; the majority class of the training windows and the previous label
 *   y[s − L].
 * For a forward many-to-one model the same integers are also run the other
 * way (streaming vs a window from a zero state at every reading) at the same
 * points, which shows whether the state drifts over a long stream.
 */
import { AppReplay, type ReadingStepper, type ReplayRules } from '../firmware/app-replay.ts';
import { defaultAppRules, scoreKind } from '../firmware/app-config.ts';
import { FloatStepper } from '../reference/float-stepper.ts';
import { Simulator } from '../reference/simulator.ts';
import {
  classNamesOf,
  hasCellState,
  hasClock,
  isWindowModel,
  depthGatedRefusal,
  type Deployment,
  type FloatModel,
  type QuantizedModel,
} from '../core/model.ts';
import { argmax } from '../data/metrics.ts';
import { detectSeason } from '../data/season.ts';
import { splitRange, type Dataset, type Series, type SplitName } from '../data/windows.ts';
import type { Segments } from '../parity/trace.ts';
import { phaseTick } from '../core/progress-line.ts';

/** Where the seasonal baseline's period comes from: --season N, or the autocorrelation of the training rows. */
export interface SeasonChoice {
  period: number;
  source: 'option' | 'autocorrelation';
}

/** --season: a period, 0 for none, undefined to detect it on the training rows of the (first) target. */
export function chooseSeason(dataset: Dataset, season: number | undefined): SeasonChoice | undefined {
  if (season !== undefined) return season > 0 ? { period: season, source: 'option' } : undefined;
  if (!dataset.series) return undefined;
  const T = dataset.task === 'regression' ? dataset.targetNames.length : 1;
  const found = detectSeason(
    dataset.series.map((s) => {
      const [lo, hi] = splitRange(s.segment, 'train');
      return Float64Array.from({ length: hi - lo }, (_, r) => s.y[(lo - s.segment.start + r) * T]!);
    }),
  );
  return found ? { period: found.period, source: 'autocorrelation' } : undefined;
}

/** The int8 cell state over a stream: its largest |value| and how many values sat at the int16 limits. */
export interface CellExcursion {
  /** Largest |c| seen, in the int16 units of the cell format, per layer with a cell state (bottom first). */
  maxAbs: number[];
  /** Values at -32768 or 32767, over every step and unit. */
  saturated: number;
  values: number;
}

interface Run {
  stepped: Uint8Array;
  warm: Uint8Array;
  /** Outputs after each row's step, [rows][outputs] (NaN where it did not step). */
  y: Float64Array;
  bad: number;
  resets: number;
  /** The app's own sum of squared forecast errors and samples scored. */
  sq: number;
  scored: number;
}

/** One series' split rows through the app around `model`; `watch` sees the simulator after each step. */
function replay(q: QuantizedModel, rules: ReplayRules, model: ReadingStepper, series: Series, F: number, lo: number, hi: number): Run {
  const NO = q.head.outputSize;
  const rows = hi - lo;
  const run: Run = {
    stepped: new Uint8Array(rows),
    warm: new Uint8Array(rows),
    y: new Float64Array(rows * NO).fill(NaN),
    bad: 0,
    resets: 0,
    sq: 0,
    scored: 0,
  };
  const app = new AppReplay(q, rules, model);
  const base = lo - series.segment.start;
  for (let r = 0; r < rows; r++) {
    phaseTick(r, rows, 'readings');
    if (app.feed(series.x.subarray((base + r) * F, (base + r + 1) * F))) {
      run.stepped[r] = 1;
      run.warm[r] = app.warm ? 1 : 0;
      run.y.set(app.outputs, r * NO);
    }
  }
  Object.assign(run, { bad: app.stats.bad, resets: app.stats.resets, sq: app.stats.sq, scored: app.stats.scored });
  return run;
}

/** Rows s (relative) the app scores: s and the H rows before it stepped, the forecast for s was made warm. */
function scoredPoints(run: Run, H: number): number[] {
  const points: number[] = [];
  for (let s = H; s < run.stepped.length; s++) {
    let ok = run.stepped[s] === 1 && run.warm[s - H] === 1;
    for (let k = 1; k <= H && ok; k++) ok = run.stepped[s - k] === 1;
    if (ok) points.push(s);
  }
  return points;
}

/** The simulator, watched: the cell state after every step. */
function watchedSimulator(q: QuantizedModel, excursion: CellExcursion): ReadingStepper {
  const sim = new Simulator(q);
  const cellLayers = q.layers.map((l, i) => (hasCellState(l.cell) ? i : -1)).filter((i) => i >= 0);
  return {
    reset: () => sim.reset(),
    step: (x) => {
      const y = sim.step(x);
      cellLayers.forEach((l, k) => {
        for (const c of sim.layerStates[l]!.cellQ) {
          const a = Math.abs(c);
          if (a > excursion.maxAbs[k]!) excursion.maxAbs[k] = a;
          if (c === 32767 || c === -32768) excursion.saturated++;
          excursion.values++;
        }
      });
      return y;
    },
  };
}

export interface StreamedBaseline {
  name: string;
  value: number;
}

interface StreamedCommon {
  split: SplitName;
  deployment: Deployment;
  /** Series streamed, readings fed, readings the app skipped as bad, resets after runs of them. */
  series: number;
  readings: number;
  bad: number;
  resets: number;
  /** Points scored (after warm-up, with the forecast's target row inside the split). */
  points: number;
  /** Steps after a reset before a forecast counts. */
  warmup: number;
  /** The int8 model run the other way (forward many-to-one models), at the same points, and its cell state. */
  otherDeployment?: { deployment: Deployment; value: number; cell?: CellExcursion };
  /** The float model through the same rules, same deployment (when given). */
  float?: number;
  baselines: StreamedBaseline[];
  /** The best baseline, and whether the model beats it. */
  best?: StreamedBaseline;
  beats: boolean;
  cell?: CellExcursion;
}

export interface StreamedRegression extends StreamedCommon {
  task: 'regression';
  metric: 'rmse';
  int8: number;
  /** The app's own figure: sqrt(Σ sq / (Σ scored · targets)) over the series, when its targets are features. */
  app?: number;
  season?: SeasonChoice;
  /** Why there is no seasonal baseline (no period found, or too little history). */
  seasonalMissing?: string;
  /** Stream vs window at the same points: relative RMSE difference and whether it is beyond noise. */
  drift?: { relative: number; beyondNoise: boolean };
}

export interface StreamedClassification extends StreamedCommon {
  task: 'classification';
  metric: 'accuracy';
  int8: number;
  /** confusion[true][predicted], class indices as in classLabels. */
  confusion: number[][];
  /** The same for the float model streamed through the same rules (when given). */
  floatConfusion?: number[][];
  perClass: { label: string; precision: number; recall: number; support: number }[];
}

export type StreamedMetrics = StreamedRegression | StreamedClassification;

export interface StreamedOptions {
  split: SplitName;
  season?: SeasonChoice;
  /** The float model the int8 model came from: streamed through the same rules too. */
  float?: FloatModel;
  /** Rules other than the app's defaults. */
  rules?: ReplayRules;
  /** Regression: filled with the values at every scored point (see StreamedSeries). */
  series?: StreamedSeries;
}

/** The other deployment of a forward many-to-one model (the same integers), or undefined (a depth-gated model only streams). */
export function otherDeployment(q: QuantizedModel): QuantizedModel | undefined {
  // a clockwork layer's counter runs with the stream: it has no window deployment
  if (q.sequence !== 'many-to-one' || q.embedding || isWindowModel({ layers: q.layers }) || q.layers.some((l) => hasClock(l.cell)))
    return undefined;
  if (depthGatedRefusal({ layers: q.layers, deployment: 'window' })) return undefined;
  return q.deployment === 'window' ? { ...q, deployment: undefined } : { ...q, deployment: 'window' };
}

/**
 * The int8 inputs the device computes from each series' split rows, from its
 * first row on (at most `steps` per series): long segments for parity, the
 * state never reset inside one.
 */
export function streamSegments(q: QuantizedModel, dataset: Dataset, split: SplitName, steps: number): Segments {
  if (!dataset.series || q.embedding) return [];
  const F = dataset.featureNames.length;
  const sim = new Simulator(q);
  return dataset.series.flatMap((s) => {
    const [lo, hi] = splitRange(s.segment, split);
    const base = lo - s.segment.start;
    const n = Math.min(steps, hi - lo);
    return n > 0 ? [Array.from({ length: n }, (_, r) => sim.quantizeInput(s.x.subarray((base + r) * F, (base + r + 1) * F)))] : [];
  });
}

/** A series' split rows run through the app around each model that is compared. */
interface SeriesRuns {
  series: Series;
  /** Row of the split's first row within the series' own arrays. */
  base: number;
  main: Run;
  other?: Run;
  float?: Run;
}

/** What the evaluation is about, computed once. */
interface Context {
  q: QuantizedModel;
  dataset: Dataset;
  rules: ReplayRules;
  deployment: Deployment;
  other?: QuantizedModel;
  float?: FloatModel;
  cell?: CellExcursion;
  otherCell?: CellExcursion;
}

function newExcursion(q: QuantizedModel): CellExcursion | undefined {
  const layers = q.layers.filter((l) => hasCellState(l.cell)).length;
  return layers ? { maxAbs: new Array(layers).fill(0), saturated: 0, values: 0 } : undefined;
}

/** Each series' split rows through the app: the int8 model, the same integers run the other way, the float model. */
function runSeries(c: Context, split: SplitName): SeriesRuns[] {
  const F = c.dataset.featureNames.length;
  return c.dataset.series!.flatMap((series) => {
    const [lo, hi] = splitRange(series.segment, split);
    if (hi <= lo) return [];
    const run = (q: QuantizedModel, model: ReadingStepper) => replay(q, c.rules, model, series, F, lo, hi);
    const watched = (q: QuantizedModel, cell: CellExcursion | undefined) => (cell ? watchedSimulator(q, cell) : new Simulator(q));
    return [
      {
        series,
        base: lo - series.segment.start,
        main: run(c.q, watched(c.q, c.cell)),
        ...(c.other ? { other: run(c.other, watched(c.other, c.otherCell)) } : {}),
        ...(c.float ? { float: run(c.q, new FloatStepper(c.float, c.deployment)) } : {}),
      },
    ];
  });
}

/** Readings, bad readings, resets and points over every series. */
function counts(runs: SeriesRuns[], points: number) {
  return {
    readings: runs.reduce((a, r) => a + r.main.stepped.length, 0),
    bad: runs.reduce((a, r) => a + r.main.bad, 0),
    resets: runs.reduce((a, r) => a + r.main.resets, 0),
    points,
  };
}

/** undefined when the dataset keeps no series (built-in text or image sets). */
export function streamedMetrics(q: QuantizedModel, dataset: Dataset, o: StreamedOptions): StreamedMetrics | undefined {
  if (!dataset.series || q.embedding) return undefined;
  const other = otherDeployment(q);
  const c: Context = {
    q,
    dataset,
    rules: o.rules ?? defaultAppRules(q),
    deployment: isWindowModel(q) ? 'window' : 'stream',
    ...(other ? { other, otherCell: newExcursion(other) } : {}),
    ...(o.float ? { float: o.float } : {}),
    cell: newExcursion(q),
  };
  const runs = runSeries(c, o.split);
  const common = {
    split: o.split,
    deployment: c.deployment,
    series: dataset.series.length,
    warmup: c.rules.warmup,
    ...(c.cell ? { cell: c.cell } : {}),
  };
  return dataset.task === 'regression' ? regressionMetrics(c, runs, common, o.season, o.series) : classificationMetrics(c, runs, common);
}

type Common = Pick<StreamedCommon, 'split' | 'deployment' | 'series' | 'warmup' | 'cell'>;

/**
 * The test series streamed, point by point (regression): the values each
 * streamed RMSE is made of, for the report's chart. Filled by
 * streamedMetrics when StreamedOptions.series is given.
 */
export interface StreamedSeries {
  targets: string[];
  /** Scored points in order, series after series: the series (index in dataset.series) and the row within its split. */
  series: number[];
  row: number[];
  /** [point * targets + k], in target units: the observed value and each forecast made for it (float: when streamed). */
  observed: number[];
  int8: number[];
  float: number[];
  /** Named as in StreamedRegression.baselines, the same forecasts. */
  baselines: { name: string; values: number[] }[];
}

/** An empty StreamedSeries for streamedMetrics to fill. */
export const emptyStreamedSeries = (): StreamedSeries => ({
  targets: [],
  series: [],
  row: [],
  observed: [],
  int8: [],
  float: [],
  baselines: [],
});

/** Squared errors summed over the scored points of every series, the paired differences for the drift test. */
interface RegressionSums {
  sq: { int8: number; other: number; float: number; persistence: number; seasonal: number };
  pairs: number[];
  points: number;
  seasonalMissing: string | undefined;
  /** The baselines' forecasts at every point and target, for StreamedSeries. */
  persistence: number[];
  seasonal: number[];
}

/** Squared errors of every compared forecast at every scored point (and, with `out`, the values themselves). */
function regressionSums(c: Context, runs: SeriesRuns[], season: SeasonChoice | undefined, out?: StreamedSeries): RegressionSums {
  const T = c.dataset.targetNames.length;
  const NO = c.q.head.outputSize;
  const H = c.q.horizon;
  const L = Math.max(H, 1);
  const m = season?.period;
  const r: RegressionSums = {
    sq: { int8: 0, other: 0, float: 0, persistence: 0, seasonal: 0 },
    pairs: [],
    points: 0,
    seasonalMissing: season ? undefined : 'no period found in the training rows, --season N sets one',
    persistence: [],
    seasonal: [],
  };
  for (const { series, base, main, other, float } of runs) {
    // Summed per series, then over series: the sums the app makes on each device, added up.
    const seriesSq = { int8: 0, other: 0, float: 0, persistence: 0, seasonal: 0 };
    // y[s - lag] of target k: any earlier row of the series, inside the split or before it.
    const y = (s: number, k: number, lag = 0) => (base + s - lag >= 0 ? series.y[(base + s - lag) * T + k]! : NaN);
    const seriesIndex = out ? c.dataset.series!.indexOf(series) : -1;
    for (const s of scoredPoints(main, H)) {
      const forecast = (run: Run, k: number) => run.y[(s - H) * NO + k]!;
      let dMain = 0;
      let dOther = 0;
      out?.series.push(seriesIndex);
      out?.row.push(s);
      for (let k = 0; k < T; k++) {
        const e = forecast(main, k) - y(s, k);
        seriesSq.int8 += e * e;
        dMain += e * e;
        if (other) {
          const e2 = forecast(other, k) - y(s, k);
          seriesSq.other += e2 * e2;
          dOther += e2 * e2;
        }
        if (float) seriesSq.float += (forecast(float, k) - y(s, k)) ** 2;
        seriesSq.persistence += (y(s, k, L) - y(s, k)) ** 2;
        const p = m !== undefined ? y(s, k, m * Math.ceil(L / m)) : NaN;
        if (m !== undefined) {
          if (Number.isNaN(p)) r.seasonalMissing = `period ${m} reaches before the start of a series`;
          else seriesSq.seasonal += (p - y(s, k)) ** 2;
        }
        if (out) {
          out.observed.push(y(s, k));
          out.int8.push(forecast(main, k));
          if (float) out.float.push(forecast(float, k));
          r.persistence.push(y(s, k, L));
          r.seasonal.push(p);
        }
      }
      if (other) r.pairs.push(dMain - dOther);
      r.points++;
    }
    for (const key of Object.keys(r.sq) as (keyof typeof r.sq)[]) r.sq[key] += seriesSq[key];
  }
  return r;
}

/** The streamed RMSEs and the baselines, from the sums at the scored points. */
function regressionMetrics(
  c: Context,
  runs: SeriesRuns[],
  common: Common,
  season: SeasonChoice | undefined,
  out?: StreamedSeries,
): StreamedRegression {
  const T = c.dataset.targetNames.length;
  const NO = c.q.head.outputSize;
  const m = season?.period;
  const { sq, pairs, points, seasonalMissing, ...forecasts } = regressionSums(c, runs, season, out);
  const rmse = (v: number) => Math.sqrt(v / (points * T));
  const baselines: StreamedBaseline[] = [{ name: 'persistence', value: rmse(sq.persistence) }];
  if (m !== undefined && seasonalMissing === undefined) {
    baselines.push({
      name: `seasonal naive (period ${m}, ${season!.source === 'option' ? 'as given' : 'by autocorrelation'})`,
      value: rmse(sq.seasonal),
    });
  }
  if (out) {
    out.targets = c.dataset.targetNames;
    out.baselines = baselines.map((b, i) => ({ name: b.name, values: i === 0 ? forecasts.persistence : forecasts.seasonal }));
  }
  const best = points > 0 ? baselines.reduce((a, b) => (b.value < a.value ? b : a)) : undefined;
  const int8 = rmse(sq.int8);
  const appSq = runs.reduce((a, r) => a + r.main.sq, 0);
  const appScored = runs.reduce((a, r) => a + r.main.scored, 0);
  return {
    task: 'regression',
    metric: 'rmse',
    ...common,
    ...counts(runs, points),
    int8,
    ...(scoreKind(c.q).kind === 'forecast-error' ? { app: Math.sqrt(appSq / (appScored * NO)) } : {}),
    ...(c.other ? { otherDeployment: otherOf(c, rmse(sq.other)) } : {}),
    ...(c.float ? { float: rmse(sq.float) } : {}),
    baselines,
    ...(best ? { best } : {}),
    beats: best !== undefined && int8 < best.value,
    ...(season ? { season } : {}),
    ...(seasonalMissing ? { seasonalMissing } : {}),
    ...(c.other && points > 0 ? { drift: driftOf(c.deployment, int8, rmse(sq.other), pairs, c.q.window) } : {}),
  };
}

/** The other deployment's figure and cell state. */
function otherOf(c: Context, value: number): NonNullable<StreamedCommon['otherDeployment']> {
  return { deployment: c.other!.deployment === 'window' ? 'window' : 'stream', value, ...(c.otherCell ? { cell: c.otherCell } : {}) };
}

/** Hits of every compared classifier and of the baselines at every scored point; the confusion matrix. */
function classificationMetrics(c: Context, runs: SeriesRuns[], common: Common): StreamedClassification {
  const { dataset, q } = c;
  const NO = q.head.outputSize;
  const H = q.horizon;
  const L = Math.max(H, 1);
  const classIndex = new Map(dataset.classLabels.map((v, i) => [v, i]));
  const majority = majorityClass(dataset);
  const confusion = dataset.classLabels.map(() => dataset.classLabels.map(() => 0));
  const floatConfusion = c.float ? dataset.classLabels.map(() => dataset.classLabels.map(() => 0)) : undefined;
  const hits = { int8: 0, other: 0, float: 0, majority: 0, previous: 0 };
  let points = 0;
  const predicted = (run: Run, origin: number) =>
    q.headActivation === 'sigmoid' && NO === 1 ? (run.y[origin]! > 0 ? 1 : 0) : argmax(run.y.subarray(origin * NO, (origin + 1) * NO));
  for (const { series, base, main, other, float } of runs) {
    const label = (s: number) => (base + s >= 0 ? classIndex.get(series.y[base + s]!) : undefined);
    for (const s of scoredPoints(main, H)) {
      const truth = label(s);
      if (truth === undefined) continue;
      const p = predicted(main, s - H);
      confusion[truth]![p]!++;
      if (p === truth) hits.int8++;
      if (other && predicted(other, s - H) === truth) hits.other++;
      if (float) {
        const f = predicted(float, s - H);
        floatConfusion![truth]![f]!++;
        if (f === truth) hits.float++;
      }
      if (majority === truth) hits.majority++;
      if (label(s - L) === truth) hits.previous++;
      points++;
    }
  }
  const rate = (h: number) => h / points;
  const baselines: StreamedBaseline[] = [
    { name: `majority class (${classNamesOf(dataset)[majority]})`, value: rate(hits.majority) },
    { name: 'previous label', value: rate(hits.previous) },
  ];
  const best = points > 0 ? baselines.reduce((a, b) => (b.value > a.value ? b : a)) : undefined;
  const int8 = rate(hits.int8);
  return {
    task: 'classification',
    metric: 'accuracy',
    ...common,
    ...counts(runs, points),
    int8,
    ...(c.other ? { otherDeployment: otherOf(c, rate(hits.other)) } : {}),
    ...(c.float ? { float: rate(hits.float) } : {}),
    baselines,
    ...(best ? { best } : {}),
    beats: best !== undefined && int8 > best.value,
    confusion,
    ...(floatConfusion ? { floatConfusion } : {}),
    perClass: perClassOf(confusion, classNamesOf(dataset)),
  };
}

/** Precision, recall and support of each class from confusion[true][predicted]. */
export function perClassOf(confusion: number[][], names: string[]): StreamedClassification['perClass'] {
  return names.map((label, c) => {
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const support = confusion[c]!.reduce((a, v) => a + v, 0);
    return {
      label,
      precision: predicted ? confusion[c]![c]! / predicted : NaN,
      recall: support ? confusion[c]![c]! / support : NaN,
      support,
    };
  });
}

/** The most frequent class of the training windows (the first on ties). */
export function majorityClass(dataset: Dataset): number {
  if (dataset.task !== 'classification') return 0;
  const counts = dataset.classLabels.map(() => 0);
  for (const c of dataset.train.y) counts[c]!++;
  return argmax(counts);
}

/**
 * Streamed vs window RMSE at the same points. Beyond noise: the mean paired
 * difference of squared errors is more than 3 standard errors from 0, the
 * standard error taken over blocks of `window` points (neighbouring errors are
 * correlated), and the RMSEs differ by more than 5%.
 */
function driftOf(
  deployment: Deployment,
  main: number,
  other: number,
  pairs: number[],
  window: number,
): { relative: number; beyondNoise: boolean } {
  const [streamed, windowed] = deployment === 'stream' ? [main, other] : [other, main];
  const relative = (streamed - windowed) / windowed;
  const size = Math.max(1, window);
  const blocks: number[] = [];
  for (let i = 0; i + size <= pairs.length; i += size) blocks.push(pairs.slice(i, i + size).reduce((a, b) => a + b, 0) / size);
  if (blocks.length < 3) return { relative, beyondNoise: false };
  const mean = blocks.reduce((a, b) => a + b, 0) / blocks.length;
  const sd = Math.sqrt(blocks.reduce((a, b) => a + (b - mean) ** 2, 0) / (blocks.length - 1));
  return { relative, beyondNoise: Math.abs(relative) > 0.05 && Math.abs(mean) > (3 * sd) / Math.sqrt(blocks.length) };
}
