/**
 * The benchmark's float baseline computes the same model as the float
 * reference (within float32 rounding), so the speed ratios compare like with like.
 */
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { floatBaselineSource } from '../bench/float-baseline.ts';
import { floatPredictWindow } from '../runtime/float-reference.ts';
import { randomFloatModel, randomWindows } from './fixtures/random-model.ts';

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
