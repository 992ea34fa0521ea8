/**
 * --class-weights balanced: w_c = n / (C · n_c) over the training targets,
 * and the loss weighs each target's cross-entropy by its class's weight.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type Tf } from '../../trainer/backend.ts';
import { balancedClassWeights, lossFn } from '../../trainer/train.ts';
import { buildDataset } from '../../data/windows.ts';
import { table } from './helpers.ts';

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await initBackend('wasm'));
});

describe('balanced class weights', () => {
  // 90 rows of class 0 for every 10 of class 1, 20 of class 2.
  const label = Array.from({ length: 1200 }, (_, t) => (t % 120 < 90 ? 0 : t % 120 < 100 ? 1 : 2));
  const ds = buildDataset(table({ x: label.map((l, t) => l + Math.sin(t)), label }), {
    features: ['x'],
    task: 'classification',
    label: 'label',
    window: 3,
    horizon: 0,
  });

  it('each class carries the same total weight', () => {
    const w = balancedClassWeights(ds);
    const counts = [0, 1, 2].map((c) => ds.train.y.filter((y) => y === c).length);
    expect(w.map((wc, c) => wc * counts[c]!)).toEqual(
      counts.map(() => ds.train.y.length / 3).map((v, c) => expect.closeTo(v, 9) as unknown as number),
    );
    expect(w[1]).toBeGreaterThan(w[2]!);
    expect(w[2]).toBeGreaterThan(w[0]!);
  });

  it('softmax: the loss is Σ w_y · CE / (targets with w ≠ 0); sigmoid: w1·y + w0·(1 − y)', async () => {
    const logits = tf.tensor2d([
      [2, 0, -1],
      [0.5, 0.2, 0.1],
      [-1, 3, 0],
    ]);
    const labels = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3);
    const w = [0.5, 4, 2];
    const loss = (lossFn(tf, { ...ds }, 'softmax', w) as (a: unknown, b: unknown) => ReturnType<Tf['scalar']>)(labels, logits);
    const ce = (row: number[], y: number) => Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[y]!;
    const expected = (0.5 * ce([2, 0, -1], 0) + 2 * ce([0.5, 0.2, 0.1], 2) + 4 * ce([-1, 3, 0], 1)) / 3;
    expect((await loss.data())[0]).toBeCloseTo(expected, 5);
    const two = { ...ds, classLabels: [0, 1] };
    const y = tf.tensor2d([[1], [0]]);
    const z = tf.tensor2d([[0.3], [-2]]);
    const bce = (zz: number, yy: number) => Math.max(zz, 0) - zz * yy + Math.log(1 + Math.exp(-Math.abs(zz)));
    const sig = (lossFn(tf, two, 'sigmoid', [1, 3]) as (a: unknown, b: unknown) => ReturnType<Tf['scalar']>)(y, z);
    expect((await sig.data())[0]).toBeCloseTo((3 * bce(0.3, 1) + 1 * bce(-2, 0)) / 2, 5);
  });
});
