import { describe, expect, it } from 'vitest';
import { accuracy, argmax, persistenceRmse, rmse, rmsePerTarget } from '../../data/metrics.ts';
import { buildDataset } from '../../data/windows.ts';
import { table } from '../trainer/helpers.ts';

describe('metrics', () => {
  it('argmax picks the first maximum of a row', () => {
    expect(argmax([1, 3, 2])).toBe(1);
    expect(argmax([5, 5, 1])).toBe(0);
    expect(argmax([0, 1, 9, 8, 7, 6], 1, 3)).toBe(0);
    expect(argmax([-3, -1, -2])).toBe(1);
  });

  it('rmse is in target units', () => {
    const norm = { mean: [20, 0], std: [2, 10] };
    // normalized errors: target 0: [0.5, -0.5] -> 1 unit each; target 1: [0.1, 0.3] -> 1 and 3 units
    const pred = [0.5, 0.1, -0.5, 0.3];
    const truth = [0, 0, 0, 0];
    expect(rmsePerTarget(pred, truth, norm)).toEqual([1, Math.sqrt(5)]);
    expect(rmse(pred, truth, norm)).toBeCloseTo(Math.sqrt(3), 12);
    expect(rmse([1, 2], [1, 2], { mean: [3], std: [4] })).toBe(0);
    expect(() => rmse([1], [1, 2], norm)).toThrow();
  });

  it('accuracy compares argmax of logits with class indices', () => {
    const logits = [2, 1, 0, /**/ 0, 3, 1, /**/ 0, 0, 1, /**/ 9, 0, 0];
    expect(accuracy(logits, [0, 1, 2, 1], 3)).toBe(0.75);
  });

  it('persistence baseline predicts the last value of the window', () => {
    const n = 40;
    const a = Array.from({ length: n }, (_, i) => i * i * 0.1);
    const ds = buildDataset(table({ a }), { features: ['a'], task: 'regression', targets: ['a'], window: 2, horizon: 1 });
    const s = ds.test;
    let ss = 0;
    for (const t of s.endRows) ss += (a[t + 1]! - a[t]!) ** 2;
    // the last value is recovered from float32 normalized x: equal up to float32 rounding
    expect(Math.abs(persistenceRmse(ds, s)! / Math.sqrt(ss / s.n) - 1)).toBeLessThan(1e-5);
  });
});
