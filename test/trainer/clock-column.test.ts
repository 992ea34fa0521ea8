import { describe, expect, it } from 'vitest';
import { buildDataset, splitRange, type SplitName } from '../../data/windows.ts';
import { windowStartClocks, withClockColumn } from '../../trainer/clock-column.ts';
import { clockCycle } from '../../core/clock.ts';
import { AppReplay } from '../../firmware/app-replay.ts';
import { defaultAppRules } from '../../firmware/app-config.ts';
import { Simulator } from '../../reference/simulator.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { table } from './helpers.ts';
import { randomFloatModel, randomQuantizedModel, randomWindows } from '../../parity/random-model.ts';
import { denseWindows } from '../../data/window-set.ts';
import { quantizeModel } from '../../quantize/quantize.ts';
import { compareOnWindows } from '../../pipeline/quantize.ts';
import { floatPredictWindow } from '../../reference/float-reference.ts';

const range = (n: number, f: (i: number) => number = (i) => i): number[] => Array.from({ length: n }, (_, i) => f(i));

// Two series (group g) of 61 and 47 rows: their split ranges start at rows the cycle does not divide.
const sizes = [61, 47];
const g = sizes.flatMap((n, i) => range(n, () => i));
const a = g.map((_, r) => Math.sin(r / 3));
const spec = {
  features: ['a'],
  task: 'regression' as const,
  targets: ['a'],
  group: 'g',
  window: 7,
  horizon: 2,
  split: { train: 0.6, validation: 0.2 },
};

/**
 * The device's counter before each row of each series' `split` rows, as the
 * streamed evaluation runs it (pipeline/streamed-eval.ts): the app's rules
 * around the simulator, reset, then every row of the split from its first.
 */
function deviceClocks(q: QuantizedModel, name: SplitName): Map<number, number> {
  const ds = buildDataset(table({ a, g }), spec);
  const clocks = new Map<number, number>();
  for (const s of ds.series!) {
    const sim = new Simulator(q);
    const app = new AppReplay(q, defaultAppRules(q), sim);
    const [lo, hi] = splitRange(s.segment, name);
    for (let row = lo; row < hi; row++) {
      clocks.set(row, sim.clocks[0]!);
      expect(app.feed([s.x[row - s.segment.start]!])).toBe(true);
    }
  }
  return clocks;
}

describe('clockwork windows train at the clock the device has at their rows', () => {
  const q = randomQuantizedModel({ seed: 5, inputSize: 1, units: 8, cell: 'clockwork' });
  const periods = q.layers[0]!.clockPeriods!;
  const ds = buildDataset(table({ a, g }), spec);

  it.each(['train', 'validation', 'test'] as const)('%s: every step of every window', (name) => {
    const split = ds[name];
    const device = deviceClocks(q, name);
    const starts = windowStartClocks(ds, split, periods);
    const x = withClockColumn(new Float32Array(split.n * spec.window), split.n, spec.window, 1, starts, periods);
    expect(split.n).toBeGreaterThan(2);
    for (let k = 0; k < split.n; k++) {
      const first = split.endRows[k]! - spec.window + 1;
      for (let w = 0; w < spec.window; w++) expect(x[(k * spec.window + w) * 2 + 1], `window ${k} step ${w}`).toBe(device.get(first + w));
    }
  });

  it('the phases differ between windows and series (a test that could fail)', () => {
    const starts = windowStartClocks(ds, ds.validation, periods);
    expect(clockCycle(periods)).toBeGreaterThan(1);
    expect(new Set(starts).size).toBeGreaterThan(1);
    // a clock counted from the segment's first row instead of the split's would disagree with the device
    const device = deviceClocks(q, 'validation');
    const fromSegment = ds.validation.endRows.map((end) => {
      const seg = ds.segments.find((s) => end >= s.start && end < s.end)!;
      return (end - spec.window + 1 - seg.start) % clockCycle(periods);
    });
    expect(Array.from(fromSegment).some((c, k) => c !== device.get(ds.validation.endRows[k]! - spec.window + 1))).toBe(true);
  });
});

describe("quantize's float-vs-int8 windows run from the training clocks", () => {
  it('each window of compareOnWindows starts at its clock, in both models', () => {
    const float = randomFloatModel({ seed: 9, inputSize: 2, units: 8, cell: 'clockwork', weightRange: 0.8 });
    const n = 12;
    const x = randomWindows(9, n, float.window, 2);
    const windows = denseWindows(x, float.window * 2);
    const q = quantizeModel(float, { weightScale: 'per-row', calibrationX: windows, floatModelSha256: '' });
    const split = { x: windows, y: new Float32Array(n), n, rawTargets: new Float64Array(n), endRows: new Uint32Array(n) };
    const L = clockCycle(float.layers[0]!.clockPeriods!);
    const starts = Int32Array.from({ length: n }, (_, k) => k % L);
    const { floatOut, intOut } = compareOnWindows(float, q, split, starts);
    const atZero = compareOnWindows(float, q, split);
    for (let k = 0; k < n; k++) {
      const y = floatPredictWindow(float.layers, float.head, x, k * float.window * 2, float.window, undefined, starts[k]);
      expect(floatOut[k]).toBeCloseTo(y[0]!, 12);
      expect(Math.abs(intOut[k]! - floatOut[k]!)).toBeLessThan(0.1);
    }
    // a clock ignored would give other outputs
    expect(Array.from(floatOut).some((v, k) => Math.abs(v - atZero.floatOut[k]!) > 1e-3)).toBe(true);
  });
});
