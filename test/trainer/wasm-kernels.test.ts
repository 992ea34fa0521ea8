/**
 * The kernel trainer/wasm-kernels.ts adds to the WebAssembly backend:
 * UnsortedSegmentSum (the gradient of an embedding lookup), against sums
 * written out here, and the gradient of a gather through it.
 */
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../trainer/backend.ts';
import { mulberry32 } from '../../core/prng.ts';

describe('UnsortedSegmentSum on the wasm backend', () => {
  it('adds the rows of each segment id; ids out of range add nothing', async () => {
    const { tf, backend } = await initBackend('wasm');
    expect(backend).toBe('wasm');
    const rnd = mulberry32(5);
    const rows = 40;
    const inner = [3, 2];
    const x = Float32Array.from({ length: rows * 6 }, () => rnd() * 2 - 1);
    const ids = Int32Array.from({ length: rows }, () => Math.floor(rnd() * 9) - 1); // -1 and 7, 8 are out of range for 7 segments
    const got = tf.unsortedSegmentSum(tf.tensor3d(x, [rows, ...inner] as [number, number, number]), tf.tensor1d(ids, 'int32'), 7);
    expect(got.shape).toEqual([7, 3, 2]);
    const want = new Float64Array(7 * 6);
    for (let i = 0; i < rows; i++) if (ids[i]! >= 0 && ids[i]! < 7) for (let j = 0; j < 6; j++) want[ids[i]! * 6 + j] += x[i * 6 + j]!;
    const g = got.dataSync();
    for (let k = 0; k < want.length; k++) expect(g[k]).toBeCloseTo(want[k]!, 5);
    const ints = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([2, 0, 2, 5], 'int32'), 3);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([2, 0, 4]);
  });

  it('gives the gradient of an embedding lookup: each table row gets the sum of its uses', async () => {
    const { tf } = await initBackend('wasm');
    const table = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const ids = tf.tensor1d([2, 0, 2, 2], 'int32');
    const weights = tf.tensor2d([1, 10, 100, 1000, 0.5, 0.25, 2, 4], [4, 2]);
    const grad = tf.grad((t: import('@tensorflow/tfjs').Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))(table);
    expect(Array.from(grad.dataSync())).toEqual([100, 1000, 0, 0, 3.5, 14.25]);
  });
});
