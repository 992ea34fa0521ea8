/**
 * The report's data is the run's own figures: the streamed forecasts are the
 * values the streamed RMSEs and baselines are made of, the confusion matrices
 * are the ones the command counted, the output errors are those of the
 * quantize report's `output (normalized)` error, and the ranges and memory are
 * the quantized model's and codegen's.
 */
import { describe, expect, it } from 'vitest';
import { CLOSE_UP_POINTS, FLOAT_LINE, INT8_LINE, OBSERVED, confusionData, forecastData, isMissing, lossData } from '../../report/gather.ts';
import { errorData, histogram, memoryData, rangeData } from '../../report/gather-device.ts';
import { MAX_CHART_POINTS, keptIndices, strideFor, thinnedText } from '../../report/downsample.ts';
import { estimateRam } from '../../codegen/ram-estimate.ts';
import { parseBoard } from '../../codegen/boards.ts';
import { classificationRun, regressionRun, windowClassifierRun } from './fixtures.ts';

const rmse = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length);
const strided = (values: number[], T: number, k: number) => values.filter((_, i) => i % T === k);

describe('forecasts: the streamed test series', () => {
  // 2 × 4,000 readings: more points than a chart draws, so the series is thinned.
  const run = regressionRun(4000);
  const s = run.details.streamedSeries!;
  const streamed = run.report.streamed!;

  it('holds the values the streamed RMSEs and baselines are made of', () => {
    expect(streamed.task).toBe('regression');
    expect(s.series.length).toBe(streamed.points);
    expect(rmse(s.int8, s.observed)).toBeCloseTo(streamed.int8, 12);
    expect(rmse(s.float, s.observed)).toBeCloseTo(streamed.float!, 12);
    expect(s.baselines.map((b) => b.name)).toEqual(streamed.baselines.map((b) => b.name));
    expect(s.baselines.length).toBe(2);
    s.baselines.forEach((b, i) => expect(rmse(b.values, s.observed)).toBeCloseTo(streamed.baselines[i]!.value, 12));
  });

  it('draws every kept point of every line, per target, and a close-up of the first series', () => {
    const d = forecastData(run);
    if (isMissing(d)) throw new Error(d.missing);
    expect(d.map((t) => t.target)).toEqual(['v', 'w']);
    const P = s.series.length;
    expect(P).toBeGreaterThan(MAX_CHART_POINTS);
    const kept = keptIndices(P);
    expect(kept.length).toBeLessThanOrEqual(MAX_CHART_POINTS);
    d.forEach((t, k) => {
      expect(t.lines).toEqual([OBSERVED, INT8_LINE, FLOAT_LINE, ...streamed.baselines.map((b) => b.name)]);
      const line = (name: string) => t.rows.filter((r) => r.line === name);
      expect(line(INT8_LINE).map((r) => r.value)).toEqual(kept.map((p) => strided(s.int8, 2, k)[p]));
      expect(line(OBSERVED).map((r) => r.value)).toEqual(kept.map((p) => strided(s.observed, 2, k)[p]));
      expect(line(FLOAT_LINE).map((r) => r.point)).toEqual(kept);
      const close = t.closeUp.filter((r) => r.line === INT8_LINE);
      expect(close.map((r) => r.point)).toEqual(Array.from({ length: CLOSE_UP_POINTS }, (_, p) => p));
      expect(close.map((r) => r.value)).toEqual(strided(s.int8, 2, k).slice(0, CLOSE_UP_POINTS));
      expect(t.series).toBe(2);
    });
  });

  it('leaves the section out for a classifier, with the reason', () => {
    const d = forecastData(classificationRun());
    expect(isMissing(d) && d.missing).toMatch(/classifier/);
  });
});

describe('confusion matrices', () => {
  it('streamed: the int8 matrix the command counted, the float one at the same points', () => {
    const run = classificationRun();
    const s = run.report.streamed!;
    if (s.task !== 'classification') throw new Error('expected classification');
    const d = confusionData(run);
    if (isMissing(d)) throw new Error(d.missing);
    expect(d.on).toBe('streamed test series');
    const [int8, float] = d.matrices;
    expect(int8!.cells.map((c) => c.count)).toEqual(s.confusion.flat());
    expect(int8!.accuracy).toBeCloseTo(s.int8, 12);
    expect(float!.model).toBe('float');
    expect(float!.cells.reduce((a, c) => a + c.count, 0)).toBe(s.points);
    expect(float!.accuracy).toBeCloseTo(s.float!, 12);
  });

  it('independent windows: the window classes, float from the same test windows', () => {
    const run = windowClassifierRun();
    const d = confusionData(run);
    if (isMissing(d)) throw new Error(d.missing);
    expect(d.on).toBe('test windows');
    expect(d.matrices[0]!.cells.map((c) => c.count)).toEqual(run.report.windowClasses!.confusion.flat());
    expect(d.matrices[0]!.accuracy).toBeCloseTo(run.report.metrics.int8, 12);
    expect(d.matrices[1]!.accuracy).toBeCloseTo(run.report.metrics.float, 12);
  });

  it('leaves the section out for a regression model', () => {
    expect(isMissing(confusionData(regressionRun(200)))).toBe(true);
  });
});

describe('int8 − float per output', () => {
  it('is the error the quantize report measures, in target units', () => {
    const run = regressionRun(300);
    const d = errorData(run);
    const normalized = run.report.tensorErrors.find((e) => e.name === 'output (normalized)')!;
    const maxNormalized = Math.max(...d.maxAbs.map((m, k) => m / run.dataset.outputNorm.std[k]!));
    expect(maxNormalized).toBeCloseTo(normalized.maxAbs, 12);
    expect(d.count).toBe(run.dataset.test.n);
    expect(d.unit).toBe('target units');
    for (const output of d.outputs) {
      expect(d.histogram.filter((b) => b.output === output).reduce((a, b) => a + b.count, 0)).toBe(d.count);
    }
    const { float, int8 } = run.details.windowOutputs;
    const first = d.rows.filter((r) => r.output === 'w').slice(0, 3);
    first.forEach((r) =>
      expect(r.error).toBeCloseTo((int8[r.index * 2 + 1]! - float[r.index * 2 + 1]!) * run.dataset.outputNorm.std[1]!, 12),
    );
  });

  it('a classifier: the logits of each class', () => {
    const d = errorData(windowClassifierRun());
    expect(d.unit).toBe('logits');
    expect(d.outputs).toHaveLength(10);
  });

  it('the histogram counts every value once, the largest in the last bin', () => {
    const bins = histogram(Float64Array.from([0, 1, 2, 3, 4, 4]), 4);
    expect(bins.map((b) => b.count)).toEqual([1, 1, 1, 3]);
    expect(bins[0]!.start).toBe(0);
    expect(bins[3]!.end).toBe(4);
    expect(histogram(Float64Array.from([2, 2]), 4)).toEqual([{ start: 2, end: 3, count: 2 }]);
  });
});

describe('training, ranges and memory', () => {
  it('the losses are the history, the kept epoch marked', () => {
    const run = windowClassifierRun();
    const d = lossData(run);
    if (isMissing(d)) throw new Error(d.missing);
    expect(d.rows.filter((r) => r.split === 'training').map((r) => r.loss)).toEqual(run.history!.loss);
    expect(d.rows.filter((r) => r.split === 'validation').map((r) => r.loss)).toEqual(run.history!.valLoss);
    expect(d.kept).toBe(3);
    expect(lossData(classificationRun())).toEqual({ missing: 'no history in this test' });
  });

  it("the ranges are the quantized model's calibration", () => {
    const run = regressionRun(200);
    const d = rangeData(run);
    expect(d.rows.map(({ name, min, max }) => ({ name, min, max }))).toEqual(run.q.calibration);
    expect(d.rows.find((r) => r.name === 'input.v')!.group).toBe('input');
    expect(d.layers[0]).toContain(`gate shift ${run.report.scheme.layers[0]!.gateShift}`);
  });

  it("the memory is codegen's budget on the board, the bytes the RAM estimate's", () => {
    const run = regressionRun(200);
    const d = memoryData(run);
    expect(d.budget.board.id).toBe('puckjs');
    expect(d.budget.placements.map((p) => p.weights)).toEqual(['ram', 'flash']);
    const ram = estimateRam(run.q);
    expect(d.bytes).toEqual([
      { part: 'weights', bytes: ram.weightBytes },
      { part: 'tables', bytes: ram.tableBytes },
      { part: 'state', bytes: ram.stateBytes },
    ]);
    expect(d.budget.weightBytes).toBe(ram.weightBytes);
    // JerryScript: bytes of its heap, the weights in RAM only.
    const jerry = memoryData({ ...run, board: parseBoard('jerryscript:64') });
    expect(jerry.budget.unit).toBe('bytes');
    expect(jerry.budget.placements.map((p) => p.weights)).toEqual(['ram']);
    expect(jerry.budget.budget + jerry.budget.appReserve).toBe(64 * 1024);
  });
});

describe('thinning', () => {
  it('keeps at most the maximum, every k-th point, and says so', () => {
    expect(strideFor(1000, 1000)).toBe(1);
    expect(strideFor(1001, 1000)).toBe(2);
    expect(keptIndices(2501, 1000)).toEqual(Array.from({ length: 834 }, (_, i) => 3 * i));
    expect(keptIndices(2000)).toHaveLength(667);
    expect(thinnedText(MAX_CHART_POINTS)).toBe('');
    expect(thinnedText(2501, 1000)).toBe(' (every 3rd of 2,501 points drawn)');
    expect(thinnedText(1442)).toBe(' (every 3rd of 1,442 points drawn)');
    expect(thinnedText(11000, 1000)).toBe(' (every 11th of 11,000 points drawn)');
    expect(thinnedText(2100, 1000)).toBe(' (every 3rd of 2,100 points drawn)');
    expect(thinnedText(12000, 1000)).toBe(' (every 12th of 12,000 points drawn)');
    expect(thinnedText(22000, 1000)).toBe(' (every 22nd of 22,000 points drawn)');
  });
});
