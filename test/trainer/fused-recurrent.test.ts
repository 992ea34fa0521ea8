/**
 * The fused recurrent kernel (trainer/wasm/recurrent.wasm, trainer/fused-layer.ts)
 * against TensorFlow.js' own layers: outputs, every gradient, and whole
 * training runs; and the committed .wasm against a fresh build of its source.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { initBackend, type Tf } from '../../trainer/backend.ts';
import { fusedRecurrentLayer } from '../../trainer/fused-layer.ts';
import { extraLength, forward, isFusedCell, type FusedCell } from '../../trainer/fused-recurrent.ts';
import { customRnnLayer, isCustomCell } from '../../trainer/cells.ts';
import { CELL_KINDS, gateCount, hasClock, type MergeMode } from '../../core/model.ts';
import { trainLstm, type TrainOptions } from '../../trainer/train.ts';
import { buildDataset } from '../../data/windows.ts';
import { loadSpamDataset } from '../../data/spam.ts';
import { UserError } from '../../core/errors.ts';
import { readFloatModel } from '../../core/artifact.ts';
import { runCli } from '../helpers/run-cli.ts';
import { table } from './helpers.ts';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Layer = import('@tensorflow/tfjs').layers.Layer;

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await initBackend('wasm'));
});

const ROOT = path.resolve(__dirname, '../..');

/** tfjs' layer for a fused cell, configured as trainer/train.ts configures it (in tfjs' Bidirectional wrapper with `merge`). */
function tfjsLayer(cell: FusedCell, units: number, returnSequences: boolean, merge?: MergeMode): Layer {
  const layer = isCustomCell(cell)
    ? customRnnLayer(tf, cell, { units, returnSequences })
    : cell === 'lstm'
      ? tf.layers.lstm({ units, recurrentActivation: 'sigmoid', returnSequences, unitForgetBias: false })
      : cell === 'gru'
        ? tf.layers.gru({ units, recurrentActivation: 'sigmoid', returnSequences })
        : tf.layers.simpleRNN({ units, returnSequences });
  return merge
    ? tf.layers.bidirectional({ layer: layer as unknown as Parameters<Tf['layers']['bidirectional']>[0]['layer'], mergeMode: merge })
    : layer;
}

interface Case {
  cell: FusedCell;
  B: number;
  T: number;
  F: number;
  H: number;
  returnSequences: boolean;
  merge?: MergeMode;
  seed: number;
}

/**
 * A case's seeded input x and output weights r, with its seeded weights set on
 * `layer` (per direction: kernel, recurrent kernel, bias, and the fourth tensor
 * of the peephole and reset-after cells). Call inside tf.tidy.
 */
function caseTensors(layer: Layer, c: Case): { x: Tensor; r: Tensor } {
  const G = gateCount(c.cell);
  const E = extraLength(c.cell, c.H);
  const x = tf.randomNormal([c.B, c.T, c.F], 0, 1, 'float32', c.seed);
  const weights = (c.merge ? [0, 10] : [0]).flatMap((d) => [
    tf.randomNormal([c.F, G * c.H], 0, 0.6, 'float32', c.seed + d + 1),
    tf.randomNormal([c.H, G * c.H], 0, 0.6, 'float32', c.seed + d + 2),
    tf.randomNormal([G * c.H], 0, 0.6, 'float32', c.seed + d + 3),
    ...(E ? [tf.randomNormal([E], 0, 0.6, 'float32', c.seed + d + 5)] : []),
  ]);
  const width = c.merge === 'concat' ? 2 * c.H : c.H;
  const r = tf.randomNormal(c.returnSequences ? [c.B, c.T, width] : [c.B, width], 0, 1, 'float32', c.seed + 4);
  layer.apply(x);
  layer.setWeights(weights);
  return { x, r };
}

/** Output and the gradients of Σ out·r with respect to x, kernel, recurrent kernel and bias. */
function outputAndGradients(layer: Layer, c: Case): Float32Array[] {
  return tf.tidy(() => {
    const { x, r } = caseTensors(layer, c);
    const out = layer.apply(x) as Tensor;
    const f = (xx: Tensor, ..._w: Tensor[]) => tf.sum(tf.mul(layer.apply(xx) as Tensor, r));
    const grads = tf.grads(f)([x, ...layer.trainableWeights.map((w) => w.read())]);
    return [out, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** max |a − b| relative to the largest |a| (at least 1). */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return d / scale;
}

/** What outputAndGradients returns, in order, for a case. */
const names = (c: Case): string[] => {
  const direction = [
    'd/dkernel',
    'd/drecurrentKernel',
    'd/dbias',
    ...(extraLength(c.cell, c.H) ? [c.cell === 'peephole' ? 'd/dpeephole' : 'd/drecurrentBias'] : []),
  ];
  return ['output', 'd/dx', ...direction, ...(c.merge ? direction.map((n) => `backward ${n}`) : [])];
};

function compare(c: Case): number[] {
  const want = outputAndGradients(tfjsLayer(c.cell, c.H, c.returnSequences, c.merge), c);
  const got = outputAndGradients(
    fusedRecurrentLayer(tf, {
      cell: c.cell,
      units: c.H,
      returnSequences: c.returnSequences,
      firstLayer: false,
      ...(c.merge ? { merge: c.merge } : {}),
    }),
    c,
  );
  expect(got.map((g) => g.length)).toEqual(want.map((w) => w.length));
  return want.map((w, i) => relativeDifference(w, got[i]!));
}

describe('fused recurrent layer against tfjs layers', () => {
  it.each([
    { cell: 'lstm', B: 8, T: 6, F: 3, H: 16, returnSequences: false, seed: 1 },
    { cell: 'lstm', B: 5, T: 7, F: 5, H: 13, returnSequences: true, seed: 2 },
    { cell: 'gru', B: 8, T: 6, F: 3, H: 16, returnSequences: false, seed: 3 },
    { cell: 'gru', B: 9, T: 4, F: 2, H: 11, returnSequences: true, seed: 4 },
    { cell: 'rnn', B: 8, T: 6, F: 3, H: 16, returnSequences: false, seed: 5 },
    { cell: 'rnn', B: 3, T: 5, F: 7, H: 9, returnSequences: true, seed: 6 },
    { cell: 'lstm', B: 6, T: 5, F: 3, H: 8, returnSequences: false, merge: 'concat', seed: 7 },
    { cell: 'gru', B: 5, T: 6, F: 2, H: 7, returnSequences: true, merge: 'concat', seed: 8 },
    { cell: 'rnn', B: 4, T: 4, F: 3, H: 6, returnSequences: false, merge: 'sum', seed: 9 },
    { cell: 'lstm', B: 7, T: 3, F: 4, H: 5, returnSequences: true, merge: 'sum', seed: 10 },
    { cell: 'peephole', B: 8, T: 6, F: 3, H: 16, returnSequences: false, seed: 11 },
    { cell: 'peephole', B: 5, T: 5, F: 2, H: 7, returnSequences: true, merge: 'concat', seed: 12 },
    { cell: 'cifg', B: 8, T: 6, F: 3, H: 16, returnSequences: false, seed: 13 },
    { cell: 'cifg', B: 3, T: 4, F: 5, H: 9, returnSequences: true, seed: 14 },
    { cell: 'gru-reset-after', B: 8, T: 6, F: 3, H: 16, returnSequences: false, seed: 15 },
    { cell: 'gru-reset-after', B: 6, T: 5, F: 4, H: 10, returnSequences: true, merge: 'sum', seed: 16 },
  ] as Case[])(
    '$cell B$B T$T F$F H$H returnSequences=$returnSequences merge=$merge: output and every gradient within 2e-6 (relative)',
    (c) => {
      const diffs = compare(c);
      expect(diffs).toHaveLength(names(c).length);
      diffs.forEach((d, i) => expect(d, names(c)[i]).toBeLessThan(2e-6));
    },
  );

  // Two steps at least: tfjs' own layers fail to take the gradient of a one-step sequence (its unstack gradient).
  it('agrees on random shapes, including the kernel edges (one row, row counts not a multiple of 4, units not a multiple of 8)', () => {
    fc.assert(
      fc.property(
        fc.record({
          // the kernel has no clock: a clockwork layer trains as its TensorFlow.js cell (fusedRefusal); a depth-gated one is no FusedCell
          cell: fc.constantFrom<FusedCell>(...CELL_KINDS.filter(isFusedCell).filter((k) => !hasClock(k))),
          B: fc.integer({ min: 1, max: 9 }),
          T: fc.integer({ min: 2, max: 6 }),
          F: fc.integer({ min: 1, max: 6 }),
          H: fc.integer({ min: 1, max: 19 }),
          returnSequences: fc.boolean(),
          merge: fc.constantFrom<MergeMode | undefined>(undefined, undefined, 'concat', 'sum'),
          seed: fc.integer({ min: 1, max: 1000 }),
        }),
        (c) => {
          const diffs = compare(c);
          diffs.forEach((d, i) => expect(d, `${JSON.stringify(c)} ${names(c)[i]}`).toBeLessThan(2e-6));
        },
      ),
      { numRuns: 80, seed: 11 },
    );
  });

  it('as the first layer it skips the input gradient (zeros) and leaks no tensors', () => {
    const c: Case = { cell: 'lstm', B: 4, T: 3, F: 2, H: 5, returnSequences: false, seed: 9 };
    const before = tf.memory().numTensors;
    const [out, dx] = outputAndGradients(fusedRecurrentLayer(tf, { cell: 'lstm', units: 5, returnSequences: false, firstLayer: true }), c);
    const [wantOut] = outputAndGradients(tfjsLayer('lstm', 5, false), c);
    expect(relativeDifference(wantOut!, out!)).toBeLessThan(2e-6);
    expect(Array.from(dx!).every((v) => v === 0)).toBe(true);
    // the layers' own weights remain; nothing else
    expect(tf.memory().numTensors - before).toBe(6);
  });
});

/** A seeded dropout function like the trainer's: a fresh seed for every mask drawn. */
const seededDropout = (seed: number) => {
  let next = seed;
  return (x: Tensor, rate: number) => tf.dropout(x, rate, undefined, next++);
};

/**
 * [B][T] padding mask: window b starts with b mod (T + 1) padding steps, as
 * token windows do (window T: padding only), and every third step of the
 * odd windows is padding too (the kernel does not assume padding in front).
 */
const paddingMask = (B: number, T: number) =>
  tf.tensor2d(
    Array.from({ length: B * T }, (_, i) => {
      const [b, t] = [Math.floor(i / T), i % T];
      return t >= b % (T + 1) && !(b % 2 === 1 && t % 3 === 2) ? 1 : 0;
    }),
    [B, T],
    'bool',
  );

/** The scalar Σ out·r and its gradients (x, then every weight), with kwargs for the layer's call. */
function valueAndGradients(layer: Layer, c: Case, kwargs: Record<string, unknown>): Float32Array[] {
  return tf.tidy(() => {
    const { x, r } = caseTensors(layer, c);
    const f = (xx: Tensor, ..._w: Tensor[]) => tf.sum(tf.mul(layer.apply(xx, kwargs) as Tensor, r)) as import('@tensorflow/tfjs').Scalar;
    const { value, grads } = tf.valueAndGrads(f)([x, ...layer.trainableWeights.map((w) => w.read())]);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

describe('padding masks and dropout, against tfjs layers', () => {
  it.each([
    { cell: 'lstm', B: 6, T: 5, F: 3, H: 7, returnSequences: false, seed: 31 },
    { cell: 'gru', B: 7, T: 4, F: 2, H: 9, returnSequences: true, seed: 32 },
    { cell: 'rnn', B: 5, T: 6, F: 4, H: 5, returnSequences: false, seed: 33 },
    { cell: 'lstm', B: 6, T: 4, F: 3, H: 6, returnSequences: true, merge: 'concat', seed: 34 },
    { cell: 'gru', B: 5, T: 5, F: 2, H: 4, returnSequences: false, merge: 'sum', seed: 35 },
  ] as Case[])(
    '$cell returnSequences=$returnSequences merge=$merge with padding: padded steps keep the state; value and every gradient within 2e-6',
    (c) => {
      const mask = paddingMask(c.B, c.T);
      const want = valueAndGradients(tfjsLayer(c.cell, c.H, c.returnSequences, c.merge), c, { mask });
      const got = valueAndGradients(
        fusedRecurrentLayer(tf, {
          cell: c.cell,
          units: c.H,
          returnSequences: c.returnSequences,
          firstLayer: false,
          ...(c.merge ? { merge: c.merge } : {}),
        }),
        c,
        { mask },
      );
      want.forEach((w, i) => expect(relativeDifference(w, got[i]!), `${i}`).toBeLessThan(2e-6));
      // and the padding changes the answer (the mask is used)
      const unmasked = valueAndGradients(
        fusedRecurrentLayer(tf, {
          cell: c.cell,
          units: c.H,
          returnSequences: c.returnSequences,
          firstLayer: false,
          ...(c.merge ? { merge: c.merge } : {}),
        }),
        c,
        {},
      );
      expect(relativeDifference(want[0]!, unmasked[0]!)).toBeGreaterThan(1e-3);
      mask.dispose();
    },
  );

  // Not bidirectional: tfjs' Bidirectional builds its backward layer from the
  // forward one's config, which drops dropoutFunc, so that direction draws
  // unseeded masks (the fused layer draws both from the seeded function).
  it.each([
    { cell: 'lstm', B: 6, T: 5, F: 3, H: 7, returnSequences: false, seed: 41 },
    { cell: 'lstm', B: 5, T: 4, F: 4, H: 6, returnSequences: true, seed: 42 },
    { cell: 'rnn', B: 7, T: 5, F: 3, H: 5, returnSequences: true, seed: 43 },
  ] as Case[])(
    '$cell returnSequences=$returnSequences merge=$merge, dropout 0.3 and recurrent dropout 0.4 while training: the same masks as tfjs, value and every gradient within 2e-6',
    (c) => {
      const rate = 0.3;
      const recurrentRate = 0.4;
      const mask = paddingMask(c.B, c.T);
      const inner =
        c.cell === 'lstm'
          ? tf.layers.lstm({
              units: c.H,
              recurrentActivation: 'sigmoid',
              returnSequences: c.returnSequences,
              unitForgetBias: false,
              dropout: rate,
              recurrentDropout: recurrentRate,
              dropoutFunc: seededDropout(7),
            })
          : tf.layers.simpleRNN({
              units: c.H,
              returnSequences: c.returnSequences,
              dropout: rate,
              recurrentDropout: recurrentRate,
              dropoutFunc: seededDropout(7),
            });
      const reference = c.merge
        ? tf.layers.bidirectional({ layer: inner as unknown as Parameters<Tf['layers']['bidirectional']>[0]['layer'], mergeMode: c.merge })
        : inner;
      const fused = fusedRecurrentLayer(tf, {
        cell: c.cell,
        units: c.H,
        returnSequences: c.returnSequences,
        firstLayer: false,
        ...(c.merge ? { merge: c.merge } : {}),
        dropout: { rate, recurrentRate, func: seededDropout(7) },
      });
      const want = valueAndGradients(reference, c, { training: true, mask });
      const got = valueAndGradients(fused, c, { training: true, mask });
      want.forEach((w, i) => expect(relativeDifference(w, got[i]!), `${i}`).toBeLessThan(2e-6));
      // not training: no dropout, as without it
      const plain = valueAndGradients(
        fusedRecurrentLayer(tf, {
          cell: c.cell,
          units: c.H,
          returnSequences: c.returnSequences,
          firstLayer: false,
          ...(c.merge ? { merge: c.merge } : {}),
        }),
        c,
        { mask },
      );
      const evaluation = valueAndGradients(fused, c, { mask });
      expect(relativeDifference(plain[0]!, evaluation[0]!)).toBeLessThan(2e-6);
      expect(relativeDifference(plain[0]!, got[0]!)).toBeGreaterThan(1e-3);
      mask.dispose();
    },
  );
});

describe('the fused kernel on bad input', () => {
  it('a batch beyond what WebAssembly can address is refused in one line naming the way out; a wrong-sized input is an error', () => {
    // gates alone: 4096 steps x 64 windows x 4 x 1024 floats = 4.3 GB
    const [T, B, F, H] = [4096, 64, 1, 1024];
    const w = { kernel: new Float32Array(F * 4 * H), recurrentKernel: new Float32Array(H * 4 * H), bias: new Float32Array(4 * H) };
    const big = () => forward({ cell: 'lstm', T, B, F, H }, new Float32Array(T * B * F), w);
    expect(big).toThrow(UserError);
    expect(big).toThrow(
      /^the fused lstm kernel needs \d+ MiB for a batch of 64 windows x 4096 steps x 1024 units, more than WebAssembly can address \(4 GiB\): use a smaller --batch-size, or --recurrent-kernel tfjs$/,
    );
    const small = { kernel: new Float32Array(3 * 8), recurrentKernel: new Float32Array(2 * 8), bias: new Float32Array(8) };
    expect(() => forward({ cell: 'lstm', T: 4, B: 2, F: 3, H: 2 }, new Float32Array(23), small)).toThrow(
      /x has 23 values, expected 2 x 4 x 3/,
    );
    expect(() => forward({ cell: 'gru', T: 4, B: 2, F: 3, H: 2 }, new Float32Array(24), small)).toThrow(
      /weights do not match 3 inputs and 2 units/,
    );
  });
});

const series = () => {
  const a = Array.from({ length: 360 }, (_, i) => Math.sin(i / 5) + 0.2 * Math.cos(i * 1.3));
  const b = Array.from({ length: 360 }, (_, i) => Math.cos(i / 7));
  return buildDataset(table({ a, b }), { features: ['a', 'b'], task: 'regression', targets: ['a'], window: 10, horizon: 1 });
};
const opts = (o: Partial<TrainOptions>): TrainOptions => ({
  units: 6,
  epochs: 3,
  batchSize: 32,
  learningRate: 0.01,
  patience: 0,
  seed: 4,
  ...o,
});

describe('training with the fused kernel', () => {
  it.each([
    ['lstm', 1, undefined],
    ['gru', 2, undefined],
    ['rnn', 2, undefined],
    ['lstm', 2, 'concat'],
    ['gru', 1, 'sum'],
    ['peephole', 1, undefined],
    ['cifg', 2, undefined],
    ['gru-reset-after', 1, 'concat'],
  ] as const)(
    '%s x%i bidirectional %s: three epochs give the weights and losses tfjs layers give (within float rounding)',
    async (cell, layers, bidirectional) => {
      const ds = series();
      const before = tf.memory().numTensors;
      const fused = await trainLstm(ds, opts({ cell, layers, bidirectional, recurrentKernel: 'fused' }));
      expect(tf.memory().numTensors).toBe(before);
      const reference = await trainLstm(ds, opts({ cell, layers, bidirectional, recurrentKernel: 'tfjs' }));
      expect(fused.recurrentKernel).toBe('fused');
      expect(reference.recurrentKernel).toBe('tfjs');
      fused.history.loss.forEach((l, e) =>
        expect(Math.abs(l - reference.history.loss[e]!) / reference.history.loss[e]!).toBeLessThan(1e-3),
      );
      for (let l = 0; l < layers; l++) {
        const tensors: ('kernel' | 'recurrentKernel' | 'bias' | 'peephole' | 'recurrentBias')[] = ['kernel', 'recurrentKernel', 'bias'];
        if (cell === 'peephole') tensors.push('peephole');
        if (cell === 'gru-reset-after') tensors.push('recurrentBias');
        for (const k of tensors) {
          expect(relativeDifference(reference.layers[l]![k]!, fused.layers[l]![k]!), `layer ${l} ${k}`).toBeLessThan(1e-3);
          if (bidirectional)
            expect(
              relativeDifference(reference.layers[l]!.backward![k]!, fused.layers[l]!.backward![k]!),
              `layer ${l} backward ${k}`,
            ).toBeLessThan(1e-3);
        }
      }
      expect(relativeDifference(reference.head.kernel, fused.head.kernel)).toBeLessThan(1e-3);
      // and training moved the weights far more than that
      const start = await trainLstm(ds, opts({ cell, layers, epochs: 1, learningRate: 1e-9 }));
      expect(relativeDifference(start.layers[0]!.kernel, fused.layers[0]!.kernel)).toBeGreaterThan(1e-2);
    },
    120_000,
  );

  it('an embedding with padding, dropout, recurrent dropout and token dropout (the model of the spam example): the weights tfjs layers give', async () => {
    const { dataset } = loadSpamDataset({ vocabulary: 60, maxLength: 12, perClass: 24, seed: 5 });
    const o = {
      units: 5,
      epochs: 2,
      batchSize: 16,
      learningRate: 0.01,
      patience: 0,
      seed: 2,
      head: 'sigmoid' as const,
      embeddingDim: 4,
      dropout: 0.2,
      recurrentDropout: 0.2,
      tokenDropout: 0.2,
    };
    const before = tf.memory().numTensors;
    const fused = await trainLstm(dataset, { ...o, recurrentKernel: 'fused' });
    expect(tf.memory().numTensors).toBe(before);
    const reference = await trainLstm(dataset, { ...o, recurrentKernel: 'tfjs' });
    expect(fused.recurrentKernel).toBe('fused');
    for (const k of ['kernel', 'recurrentKernel', 'bias'] as const)
      expect(relativeDifference(reference.layers[0]![k], fused.layers[0]![k]), k).toBeLessThan(1e-3);
    expect(relativeDifference(reference.embedding!.table, fused.embedding!.table)).toBeLessThan(1e-3);
    fused.history.loss.forEach((l, e) => expect(Math.abs(l - reference.history.loss[e]!) / reference.history.loss[e]!).toBeLessThan(1e-3));
    // dropout changed the run (the masks are drawn and used)
    const without = await trainLstm(dataset, { ...o, dropout: 0, recurrentDropout: 0 });
    expect(relativeDifference(without.layers[0]!.kernel, fused.layers[0]!.kernel)).toBeGreaterThan(1e-3);
  }, 120_000);

  it('many-to-many: the head at every step', async () => {
    const a = Array.from({ length: 240 }, (_, i) => Math.sin(i / 4));
    const ds = buildDataset(table({ a }), {
      features: ['a'],
      task: 'regression',
      targets: ['a'],
      window: 8,
      horizon: 1,
      sequence: 'many-to-many',
    });
    const fused = await trainLstm(ds, opts({ recurrentKernel: 'fused', epochs: 2 }));
    const reference = await trainLstm(ds, opts({ recurrentKernel: 'tfjs', epochs: 2 }));
    expect(relativeDifference(reference.layers[0]!.recurrentKernel, fused.layers[0]!.recurrentKernel)).toBeLessThan(1e-3);
    expect(Math.abs(fused.bestValLoss - reference.bestValLoss) / reference.bestValLoss).toBeLessThan(1e-3);
  }, 120_000);

  it("'auto' uses it where it applies and tfjs layers elsewhere; 'fused' refuses what it cannot run", async () => {
    const ds = series();
    expect((await trainLstm(ds, opts({ epochs: 1 }))).recurrentKernel).toBe('fused');
    expect((await trainLstm(ds, opts({ epochs: 1, cell: 'peephole' }))).recurrentKernel).toBe('fused');
    expect((await trainLstm(ds, opts({ epochs: 1, bidirectional: 'concat' }))).recurrentKernel).toBe('fused');
    expect((await trainLstm(ds, opts({ epochs: 1, dropout: 0.1 }))).recurrentKernel).toBe('fused');
    expect((await trainLstm(ds, opts({ epochs: 1, cell: 'gru', dropout: 0.1 }))).recurrentKernel).toBe('tfjs');
    await expect(trainLstm(ds, opts({ recurrentKernel: 'fused', cell: 'gru', dropout: 0.2 }))).rejects.toThrow(UserError);
    await expect(trainLstm(ds, opts({ recurrentKernel: 'fused', cell: 'gru', dropout: 0.2 }))).rejects.toThrow(
      /fused: dropout of the gru cell trains with tfjs layers/,
    );
    await expect(trainLstm(ds, opts({ recurrentKernel: 'cuda' as 'auto' }))).rejects.toThrow(/unknown recurrent kernel 'cuda'/);
  }, 120_000);
});

describe('lstm-mcu train --recurrent-kernel', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-fused-'));
    const rows = ['a,b'];
    for (let t = 0; t < 200; t++) rows.push(`${Math.sin(t / 6).toFixed(4)},${Math.cos(t / 9).toFixed(4)}`);
    fs.writeFileSync(path.join(dir, 'series.csv'), rows.join('\n') + '\n');
  });
  const train = (extra: string[]) =>
    runCli(
      [
        'train',
        '--data',
        'series.csv',
        '--features',
        'a,b',
        '--target',
        'a',
        '--window',
        '6',
        '--units',
        '4',
        '--epochs',
        '1',
        '--quiet',
        ...extra,
      ],
      dir,
    );

  it('records the kernel in the provenance; an unknown kernel fails in one line and writes nothing', async () => {
    const kernelOf = (file: string) => JSON.parse(readFloatModel(path.join(dir, file)).model.provenance.options).recurrentKernel;
    const ok = await train(['--cell', 'peephole', '--out', 'm.float.pb']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(kernelOf('m.float.pb')).toBe('fused');
    const layers = await train(['--recurrent-kernel', 'tfjs', '--out', 't.float.pb']);
    expect(layers.code, layers.stderr).toBe(0);
    expect(kernelOf('t.float.pb')).toBe('tfjs');
    const unknown = await train(['--recurrent-kernel', 'cuda', '--out', 'u.float.pb']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/--recurrent-kernel/);
    expect(fs.existsSync(path.join(dir, 'u.float.pb'))).toBe(false);
    const help = await runCli(['train', '--help'], dir);
    expect(help.stdout).toMatch(/--recurrent-kernel <kind>/);
  }, 120_000);
});

describe('recurrent.wasm', () => {
  it('is the build of trainer/wasm/recurrent.ts (npm run build:kernels)', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-asc-')), 'recurrent.wasm');
    const script = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts['build:kernels'] as string;
    const args = script
      .split(/\s+/)
      .slice(1)
      .map((a) => (a === 'trainer/wasm/recurrent.wasm' ? out : a));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/assemblyscript/bin/asc.js'), ...args], { cwd: ROOT, stdio: 'pipe' });
    expect(Buffer.compare(fs.readFileSync(out), fs.readFileSync(path.join(ROOT, 'trainer/wasm/recurrent.wasm')))).toBe(0);
  }, 120_000);
});
