/**
 * The host float reference (reference/float-reference.ts) computes what the
 * trainer's TensorFlow.js model computes: same weights, same windows, outputs
 * within 1e-5. This also pins the gate order (i, f, g, o) and the kernel
 * layouts between the trainer and everything after it, for every cell kind.
 */
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../trainer/backend.ts';
import { predictFloat } from '../../trainer/train.ts';
import { floatPredictWindow } from '../../reference/float-reference.ts';
import { randomFloatModel, randomWindows } from '../../parity/random-model.ts';
import { CELL_KINDS, gateCount } from '../../core/model.ts';
import { clockCycle } from '../../core/clock.ts';
import { denseWindows } from '../../data/window-set.ts';

describe('float reference vs TensorFlow.js', () => {
  it.each(
    CELL_KINDS.flatMap((cell) => [
      { cell, inputSize: 1, units: 1, outputSize: 1 },
      { cell, inputSize: 3, units: 8, outputSize: 2 },
      { cell, inputSize: 2, units: 17, outputSize: 3 },
    ]),
  )('$cell agrees within 1e-5 for $inputSize inputs x $units units -> $outputSize', async ({ cell, inputSize, units, outputSize }) => {
    const { tf } = await initBackend('auto');
    const model = randomFloatModel({ seed: units, inputSize, units, outputSize, weightRange: 0.8, cell });
    const n = 16;
    const x = randomWindows(units, n, model.window, inputSize);
    // clockwork: windows start at various clocks (trainer/clock-column.ts), the trainer's and the reference's the same
    const periods = model.layers[0].clockPeriods;
    const starts = periods ? Int32Array.from({ length: n }, (_, w) => (3 * w) % clockCycle(periods)) : undefined;
    const windows = denseWindows(x, model.window * inputSize);
    const tfOut = predictFloat(tf, model.layers, model.head, windows, model.window, inputSize, 'many-to-one', undefined, starts);
    let worst = 0;
    for (let w = 0; w < n; w++) {
      const y = floatPredictWindow(model.layers, model.head, x, w * model.window * inputSize, model.window, undefined, starts?.[w]);
      for (let k = 0; k < outputSize; k++) worst = Math.max(worst, Math.abs(y[k] - tfOut[w * outputSize + k]));
    }
    expect(worst).toBeLessThan(1e-5);
    if (periods && units === 8) expect(clockCycle(periods)).toBeGreaterThan(1);
    // (a single module of period 1 runs at every step: no clock to be off; 8 units make 4 modules, a cycle past 1)
    if (periods && clockCycle(periods) > 1) {
      // And a clock one step off would not pass: the trainer then runs other modules at other steps.
      const shifted = starts!.map((s) => s + 1);
      const off = predictFloat(tf, model.layers, model.head, windows, model.window, inputSize, 'many-to-one', undefined, shifted);
      expect(Math.max(...Array.from(off, (v, i) => Math.abs(v - tfOut[i]!)))).toBeGreaterThan(1e-3);
    }
    if (gateCount(cell) === 1) return;
    // And a different gate order would not pass: swap the columns of the first and last gates of the
    // top layer (a depth-gated stack's: its input and depth gates).
    const swapped = structuredClone(model);
    const top = swapped.layers[swapped.layers.length - 1];
    const cols = gateCount(cell) * units;
    const last = (gateCount(cell) - 1) * units;
    for (const [m, rows] of [
      [top.kernel, top.inputSize],
      [top.recurrentKernel, units],
    ] as const) {
      for (let r = 0; r < rows; r++) {
        for (let u = 0; u < units; u++) {
          const a = r * cols + u;
          const b = r * cols + last + u;
          [m[a], m[b]] = [m[b], m[a]];
        }
      }
    }
    let swappedWorst = 0;
    for (let w = 0; w < n; w++) {
      const y = floatPredictWindow(swapped.layers, swapped.head, x, w * model.window * inputSize, model.window);
      for (let k = 0; k < outputSize; k++) swappedWorst = Math.max(swappedWorst, Math.abs(y[k] - tfOut[w * outputSize + k]));
    }
    expect(swappedWorst).toBeGreaterThan(10 * 1e-5);
  });
});
