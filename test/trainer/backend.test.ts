import { describe, expect, it } from 'vitest';
import * as tfjs from '@tensorflow/tfjs';
import { currentBackend, initBackend } from '../../trainer/backend.ts';
import { UserError } from '../../core/errors.ts';

describe('initBackend', () => {
  it("'auto' resolves to wasm here (tfjs-node is not installed)", async () => {
    const { tf, backend } = await initBackend();
    expect(backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.tensor1d([1, 2]).sum().arraySync()).toBe(3);
  });

  it('can be called many times, also concurrently', async () => {
    const all = await Promise.all([initBackend('auto'), initBackend('wasm'), initBackend(), initBackend('auto')]);
    expect(all.map((b) => b.backend)).toEqual(['wasm', 'wasm', 'wasm', 'wasm']);
    expect(all.every((b) => b.tf === tfjs)).toBe(true);
    expect((await currentBackend()).backend).toBe('wasm');
  });

  it("uses 'cpu' only when asked, and can switch back", async () => {
    expect((await initBackend('cpu')).backend).toBe('cpu');
    expect((await currentBackend()).backend).toBe('cpu');
    expect((await initBackend('auto')).backend).toBe('wasm');
  });

  it("'node' without tfjs-node is a user error", async () => {
    await expect(initBackend('node')).rejects.toThrow(UserError);
    await expect(initBackend('node')).rejects.toThrow(/@tensorflow\/tfjs-node/);
    // a failed request leaves the previous backend working
    expect((await initBackend()).backend).toBe('wasm');
  });
});
