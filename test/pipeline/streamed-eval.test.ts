/**
 * The streamed evaluation's parts: the season found by autocorrelation, the
 * baselines on the points the app scores, the classifier's baselines and
 * confusion matrix, the deployment choice, and the int8 budget warning.
 */
import { describe, expect, it } from 'vitest';
import { detectSeason } from '../../data/season.ts';
import { buildDataset, type Dataset } from '../../data/windows.ts';
import type { CsvTable } from '../../data/csv.ts';
import { mulberry32 } from '../../core/prng.ts';
import { randomFloatModel } from '../../parity/random-model.ts';
import { quantizeModel } from '../../quantize/quantize.ts';
import { chooseSeason, streamedMetrics } from '../../pipeline/streamed-eval.ts';
import { INT8_BUDGET, int8Check, inputsOutsideRange, quantizeStep } from '../../pipeline/quantize.ts';
import type { FloatModel, QuantizedModel } from '../../core/model.ts';
import { UserError } from '../../core/errors.ts';

const gauss = (rand: () => number) => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());

function table(columns: Record<string, number[]>): CsvTable {
  const rows = Object.values(columns)[0]!.length;
  return {
    columns: Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, Float64Array.from(v)])),
    rows,
    sha256: 'test',
    path: 'test.csv',
  };
}

/** A random float model that reads the dataset's features and forecasts its targets. */
function modelFor(ds: Dataset, seed: number, window = ds.window): FloatModel {
  const m = randomFloatModel({
    seed,
    inputSize: ds.featureNames.length,
    units: 5,
    outputSize: ds.task === 'regression' ? ds.targetNames.length : ds.classLabels.length,
    window,
    weightRange: 0.8,
  });
  return {
    ...m,
    task: ds.task,
    featureNames: ds.featureNames,
    targetNames: ds.targetNames,
    classLabels: ds.classLabels,
    inputNorm: ds.inputNorm,
    outputNorm: ds.outputNorm,
    targetMode: ds.targetMode,
    baseFeatures: ds.baseFeatures,
    headActivation: ds.task === 'regression' ? 'linear' : 'softmax',
    horizon: ds.horizon,
  };
}

const quantize = (m: FloatModel, ds: Dataset): QuantizedModel =>
  quantizeModel(m, { weightScale: 'per-row', calibrationX: ds.train.x, floatModelSha256: 'test' });

describe('the season by autocorrelation of differences', () => {
  it('finds a daily cycle under a wandering level and noise, and a weekly one', () => {
    for (const period of [24, 7]) {
      const rand = mulberry32(period);
      let level = 0;
      const s = Array.from({ length: 60 * period }, (_, t) => {
        level += 0.05 * gauss(rand);
        return 5 * Math.sin((2 * Math.PI * t) / period) + level + 0.5 * gauss(rand);
      });
      expect(detectSeason([s])?.period).toBe(period);
    }
  });

  it('finds none in a random walk or white noise, and pools short series', () => {
    const rand = mulberry32(3);
    let level = 0;
    expect(detectSeason([Array.from({ length: 3000 }, () => (level += gauss(rand)))])).toBeUndefined();
    expect(detectSeason([Array.from({ length: 3000 }, () => gauss(rand))])).toBeUndefined();
    // four sensors, 5 days each: one period for all
    const series = [0, 1, 2, 3].map((k) =>
      Array.from({ length: 120 }, (_, t) => 3 * Math.cos((2 * Math.PI * (t + 5 * k)) / 24) + 0.3 * gauss(rand)),
    );
    expect(detectSeason(series)?.period).toBe(24);
  });
});

describe('baselines on the points the app scores', () => {
  // An exactly periodic reading (period 12) with two series: seasonal naive is exact, persistence is not.
  const pattern = [0, 1, 3, 6, 8, 9, 9, 8, 6, 3, 1, 0];
  const rows = 240;
  const g = [...new Array(rows).fill(1), ...new Array(rows).fill(2)];
  const v = g.map((_, r) => 20 + pattern[r % 12]!);
  const ds = buildDataset(table({ g, v }), { features: ['v'], task: 'regression', targets: ['v'], group: 'g', window: 6, horizon: 2 });
  const q = quantize(modelFor(ds, 1), ds);

  it('seasonal naive (period 12) scores 0 and persistence the mean square of two-step changes; the model is judged against the best', () => {
    const s = streamedMetrics(q, ds, { split: 'test', season: chooseSeason(ds, undefined) })!;
    expect(s.task).toBe('regression');
    if (s.task !== 'regression') return;
    expect(s.season).toEqual({ period: 12, source: 'autocorrelation' });
    expect(s.series).toBe(2);
    // Each series' test range starts at floor(240 · (0.7 + 0.15)); warm-up 6 steps, horizon 2: the forecasts made at relative rows 5.. score rows 7..
    const start = Math.floor(rows * (0.7 + 0.15));
    const scored = Array.from({ length: rows - start - 7 }, (_, k) => start + 7 + k);
    expect(s.points).toBe(2 * scored.length);
    expect(s.baselines[1]).toEqual({ name: 'seasonal naive (period 12, by autocorrelation)', value: 0 });
    // persistence: y[s - 2] for y[s], over the same points (both series alike)
    let ss = 0;
    for (const r of scored) ss += (pattern[(r - 2) % 12]! - pattern[r % 12]!) ** 2;
    expect(s.baselines[0]!.value).toBeCloseTo(Math.sqrt(ss / scored.length), 12);
    expect(s.best!.name).toMatch(/^seasonal/);
    expect(s.beats).toBe(false);
    // the app's own figure is the figure
    expect(s.app).toBe(s.int8);
  });

  it('--season 0 leaves the seasonal baseline out and says so; --season 5 is used as given', () => {
    const none = streamedMetrics(q, ds, { split: 'test', season: chooseSeason(ds, 0) })!;
    expect(none.baselines.map((b) => b.name)).toEqual(['persistence']);
    const five = streamedMetrics(q, ds, { split: 'test', season: chooseSeason(ds, 5) })!;
    expect(five.baselines[1]!.name).toBe('seasonal naive (period 5, as given)');
  });
});

describe('classification: majority class, previous label, confusion', () => {
  const rand = mulberry32(9);
  const n = 600;
  // Labels in runs (mostly class 0), a feature that follows them loosely.
  const label: number[] = [];
  let c = 0;
  for (let t = 0; t < n; t++) {
    if (rand() < 0.1) c = rand() < 0.6 ? 0 : rand() < 0.5 ? 1 : 2;
    label.push(c);
  }
  const x = label.map((l) => l + 0.8 * gauss(rand));
  const ds = buildDataset(table({ x, label }), { features: ['x'], task: 'classification', label: 'label', window: 4, horizon: 0 });
  const q = quantize(modelFor(ds, 4), ds);

  it('counts the baselines at the scored points and fills the confusion matrix', () => {
    const s = streamedMetrics(q, ds, { split: 'test' })!;
    if (s.task !== 'classification') throw new Error('expected classification');
    const start = Math.floor(n * (0.7 + 0.15));
    // warm-up 4: rows start+3 .. n-1 are scored
    const scored = Array.from({ length: n - start - 3 }, (_, k) => start + 3 + k);
    expect(s.points).toBe(scored.length);
    const counts = [0, 1, 2].map((k) => ds.train.y.filter((y) => y === k).length);
    const majority = counts.indexOf(Math.max(...counts));
    expect(s.baselines[0]).toEqual({
      name: `majority class (${majority})`,
      value: scored.filter((r) => label[r] === majority).length / scored.length,
    });
    expect(s.baselines[1]).toEqual({
      name: 'previous label',
      value: scored.filter((r) => label[r - 1] === label[r]).length / scored.length,
    });
    expect(s.confusion.flat().reduce((a, b) => a + b, 0)).toBe(scored.length);
    expect(s.confusion.reduce((a, row, i) => a + row[i]!, 0) / scored.length).toBe(s.int8);
    expect(s.perClass.map((p) => p.support)).toEqual([0, 1, 2].map((k) => scored.filter((r) => label[r] === k).length));
    expect(s.beats).toBe(s.int8 > Math.max(...s.baselines.map((b) => b.value)));
  });
});

describe('the deployment', () => {
  const rand = mulberry32(2);
  const v = Array.from({ length: 500 }, (_, t) => 10 + 3 * Math.sin(t / 5) + 0.2 * gauss(rand));
  const ds = buildDataset(table({ v }), { features: ['v'], task: 'regression', targets: ['v'], window: 8, horizon: 1 });
  const float = modelFor(ds, 6);

  it('auto: both run on the validation series, the better chosen (a window must be 1% better); asked: as asked', () => {
    const auto = quantizeStep(float, ds, { weightScale: 'per-row', floatModelSha256: 't' });
    const d = auto.report.deployment!;
    expect(d.reason).toBe('validation');
    expect(d.candidates.map((c) => c.deployment)).toEqual(['stream', 'window']);
    const [stream, window] = d.candidates.map((c) => c.validation) as [number, number];
    expect(d.deployment).toBe(window < stream * 0.99 ? 'window' : 'stream');
    expect(auto.model.deployment === 'window').toBe(d.deployment === 'window');
    expect(d.stepsPerReading).toBe(d.deployment === 'window' ? 8 : 1);
    const asked = quantizeStep(float, ds, { weightScale: 'per-row', floatModelSha256: 't', deploy: 'window' });
    expect(asked.model.deployment).toBe('window');
    expect(asked.report.deployment).toMatchObject({ deployment: 'window', reason: 'asked', candidates: [] });
    // The window deployment streams what the reset windows compute, at the same points. Not to the bit: the
    // windows quantize float32 normalized inputs, the device (and the streamed figure) its real readings.
    expect(Math.abs(asked.report.streamed!.int8 / asked.report.metrics.int8 - 1)).toBeLessThan(1e-4);
    expect(asked.report.streamed!.otherDeployment!.deployment).toBe('stream');
  });

  it('a streaming model is calibrated on whole training series: its cell range covers what a stream reaches', () => {
    const s = quantizeStep(float, ds, { weightScale: 'per-row', floatModelSha256: 't', deploy: 'stream' }).model;
    const w = quantizeStep(float, ds, { weightScale: 'per-row', floatModelSha256: 't', deploy: 'window' }).model;
    const cell = (m: QuantizedModel) => m.calibration.find((r) => r.name === 'cell')!;
    expect(cell(s).max).toBeGreaterThanOrEqual(cell(w).max);
    expect(cell(s).min).toBeLessThanOrEqual(cell(w).min);
  });

  it('a many-to-many model cannot be deployed as a window', () => {
    const mm = buildDataset(table({ v }), {
      features: ['v'],
      task: 'regression',
      targets: ['v'],
      window: 8,
      horizon: 1,
      sequence: 'many-to-many',
    });
    expect(() =>
      quantizeStep({ ...modelFor(mm, 6), sequence: 'many-to-many' }, mm, {
        weightScale: 'per-row',
        floatModelSha256: 't',
        deploy: 'window',
      }),
    ).toThrow(UserError);
  });
});

describe('the int8 budget', () => {
  // Test readings far above anything in training: they saturate the int8 input.
  const v = Array.from({ length: 400 }, (_, t) => (t < 340 ? Math.sin(t / 3) : 40 + Math.sin(t / 3)));
  const ds = buildDataset(table({ v }), { features: ['v'], task: 'regression', targets: ['v'], window: 5, horizon: 1 });
  const q = quantize(modelFor(ds, 8), ds);

  it('counts the test readings outside the int8 input range', () => {
    expect(inputsOutsideRange(q, ds)).toBe(1);
  });

  it(`warns past ${100 * INT8_BUDGET}% with the share outside and what to try; silent within it`, () => {
    const streamed = streamedMetrics(q, ds, { split: 'test', float: modelFor(ds, 8) })!;
    const over = int8Check(q, ds, { ...streamed, float: 1, int8: 1.05 }, { float: 1, int8: 1 })!;
    expect(over).toMatchObject({ on: 'streamed', relativeChange: expect.closeTo(0.05, 12), budget: INT8_BUDGET, inputsOutsideRange: 1 });
    expect(over.advice.join(' ')).toMatch(/100\.0% of the test readings lie outside the int8 input range.*--input-percentile 100.*--qat/);
    expect(int8Check(q, ds, { ...streamed, float: 1, int8: 1.02 }, { float: 1, int8: 1.5 })).toBeUndefined();
  });
});
