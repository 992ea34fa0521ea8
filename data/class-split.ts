/**
 * The examples' split: each class's samples shuffled with a seeded PRNG and
 * cut 80 / 10 / 10 into train / validation / test, so every split has every
 * class in its natural share.
 */
import { permutation } from '../core/prng.ts';
import { UserError } from '../core/errors.ts';
import type { Split } from './windows.ts';
import { denseWindows } from './window-set.ts';

export type SplitName = 'train' | 'validation' | 'test';

/**
 * `sizes[label]` samples of each class; at most `perClass` of each are kept
 * (the first of its shuffled order). Classes are shuffled in label order,
 * all from the one `rand`. `what` names the samples in the error.
 */
export function splitPerClass(
  sizes: readonly number[],
  perClass: number | undefined,
  rand: () => number,
  what: string,
): Record<SplitName, { label: number; index: number }[]> {
  const parts: Record<SplitName, { label: number; index: number }[]> = { train: [], validation: [], test: [] };
  sizes.forEach((size, label) => {
    const order = permutation(size, rand);
    const count = Math.min(size, perClass ?? size);
    const a = Math.floor(count * 0.8);
    const b = Math.floor(count * 0.9);
    for (let i = 0; i < count; i++) parts[i < a ? 'train' : i < b ? 'validation' : 'test'].push({ label, index: order[i]! });
  });
  if (parts.test.length === 0 || parts.validation.length === 0)
    throw new UserError(`too few ${what} per class for a validation and a test set (use at least 10)`);
  return parts;
}

/**
 * A split of whole-sequence samples (class index = label value): `fill`
 * writes sample k's `width` input values ([window][features]) into `x`.
 */
export function labelledSplit(
  items: readonly { label: number; index: number }[],
  width: number,
  fill: (item: { label: number; index: number }, x: Float32Array) => void,
): Split {
  const n = items.length;
  const x = new Float32Array(n * width);
  const y = new Float32Array(n);
  const rawTargets = new Float64Array(n);
  items.forEach((item, k) => {
    fill(item, x.subarray(k * width, (k + 1) * width));
    y[k] = item.label;
    rawTargets[k] = item.label;
  });
  return { x: denseWindows(x, width, n), y, n, rawTargets, endRows: new Uint32Array(n) };
}
