/**
 * The MNIST example, small: the split is deterministic, class-balanced
 * and disjoint; the command runs end to end (train, quantize, codegen,
 * parity) with a tiny model and prints its one-line JSON summary. The full
 * example (LSTM 128 on all 10,000 digits) is `lstm-mcu example mnist`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnistDataset } from '../../data/mnist.ts';
import { runCli } from '../helpers/run-cli.ts';
import { windowRange, type Windows } from '../../data/window-set.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-mnist-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('mnist data', () => {
  it('every digit, 80/10/10 per class, disjoint, deterministic, normalized on training rows', () => {
    const a = loadMnistDataset({ seed: 1 });
    expect(a.dataset.train.n + a.dataset.validation.n + a.dataset.test.n).toBe(10000);
    for (const split of [a.dataset.train, a.dataset.validation, a.dataset.test]) {
      const counts = new Array(10).fill(0);
      for (const y of split.y) counts[y]++;
      expect(Math.min(...counts)).toBeGreaterThan(0.7 * (split.n / 10));
    }
    expect(a.dataset.window).toBe(28);
    expect(a.dataset.featureNames.length).toBe(28);
    const testX = (d: { dataset: { test: { x: Windows; n: number } } }) => windowRange(d.dataset.test.x, 0, d.dataset.test.n);
    expect(testX(loadMnistDataset({ seed: 1 }))).toEqual(testX(a));
    expect(testX(loadMnistDataset({ seed: 2 }))).not.toEqual(testX(a));
    // No test digit is also a training digit (compare the images).
    const key = (x: Windows, k: number) => Array.from(x.at(k), (v) => v.toFixed(3)).join(',');
    const train = new Set(Array.from({ length: a.dataset.train.n }, (_, k) => key(a.dataset.train.x, k)));
    let shared = 0;
    for (let k = 0; k < a.dataset.test.n; k++) if (train.has(key(a.dataset.test.x, k))) shared++;
    expect(shared).toBeLessThan(5); // the package itself holds a few duplicate images
  });
});

describe('lstm-mcu example mnist (tiny)', () => {
  it('trains, quantizes, generates and checks parity; the summary reports accuracy float and int8', async () => {
    const r = await runCli(
      [
        'example',
        'mnist',
        '--per-class',
        '40',
        '--units',
        '8',
        '--epochs',
        '2',
        '--calibration',
        '100',
        '--parity-windows',
        '3',
        '--out',
        path.join(tmp, 'out'),
        '--json',
        '--quiet',
      ],
      tmp,
    );
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.metrics.name).toBe('accuracy');
    expect(s.metrics.float).toBeGreaterThanOrEqual(0);
    expect(s.metrics.float).toBeLessThanOrEqual(1);
    expect(Number.isFinite(s.metrics.int8)).toBe(true);
    expect(s.parity.mismatches).toBe(0);
    expect(s.weightBytes).toBe(4 * 8 * (28 + 8) + 10 * 8 + 10 * 4 + 2 * 4 * 8 * 4);
    for (const f of ['model.float.pb', 'model.q.pb', 'model.espruino.js', 'model.es5.js', 'summary.json'])
      expect(fs.existsSync(path.join(tmp, 'out', f))).toBe(true);
    // The float model records where its digits came from: `quantize` rebuilds them.
    const q = await runCli(
      [
        'quantize',
        path.join(tmp, 'out', 'model.float.pb'),
        '--out',
        path.join(tmp, 'again.q.pb'),
        '--report',
        path.join(tmp, 'again.json'),
        '--json',
      ],
      tmp,
    );
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout.trim().split('\n').pop()!).metrics.name).toBe('accuracy');
  }, 300_000);
});
