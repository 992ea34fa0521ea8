/**
 * The benchmark's float baseline computes the same model as the float
 * reference (within float32 rounding), so the speed ratios compare like with like.
 */
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { floatBaselineSource, floorSource } from '../../bench/float-baseline.ts';
import { fakeEspruinoGlobals } from '../../parity/engines.ts';
import { floatPredictWindow } from '../../reference/float-reference.ts';
import { randomFloatModel, randomWindows } from '../../parity/random-model.ts';

describe.each(['lstm', 'gru'] as const)('float baseline, %s', (cell) => {
  it('matches the float reference within 1e-4', () => {
    const m = randomFloatModel({ seed: 5, inputSize: 3, units: 6, outputSize: 2, cell });
    const x = randomWindows(5, 1, m.window, 3);
    const context: Record<string, { step(x: number[]): Float32Array }> = {};
    vm.runInNewContext(floatBaselineSource(m, 'baseline'), context);
    let y: Float32Array = new Float32Array(2);
    for (let t = 0; t < m.window; t++) y = context.baseline.step(Array.from(x.subarray(t * 3, t * 3 + 3)));
    const want = floatPredictWindow(m.layers, m.head, x, 0, m.window);
    for (let k = 0; k < 2; k++) expect(Math.abs(y[k] - want[k])).toBeLessThan(1e-4);
  });
});

describe('the floor and the least LSTM step (bench/float-baseline.ts)', () => {
  // The last sum each returns is the head row's dot product: the E.convolve path (with the stand-in E)
  // and the loop path must give the same integer, and the least step must run its cell update without error.
  it.each([false, true])('cell update %s: the same dot products with and without E', (cellBound) => {
    const run = (withE: boolean) => {
      const context: Record<string, unknown> = withE ? { ...fakeEspruinoGlobals() } : {};
      vm.runInNewContext(floorSource(3, 6, 4, 1, 'FLOOR', cellBound), context);
      return (context.FLOOR as { step(): number }).step();
    };
    const native = run(true);
    expect(Number.isInteger(native)).toBe(true);
    expect(native).not.toBe(0);
    expect(native).toBe(run(false));
  });
});
