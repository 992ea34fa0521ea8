/**
 * Bidirectional and reverse layers, and window models (NUMERICS.md §5h). The
 * window simulator is checked against an independent composition: each
 * direction run as its own streaming single-layer model over the last
 * `window` inputs (reversed for the backward one and for a reverse layer;
 * the last input alone for the backward one of a 'last-step' readout),
 * merged by hand. The float stack is checked
 * against TensorFlow.js' Bidirectional wrapper.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../reference/simulator.ts';
import { HIDDEN_FRAC_BITS, roundShift, saturateInt8 } from '../../core/fixed-point.ts';
import { layerOutputSize, type MergeMode, type QuantRecurrentLayer, type QuantizedModel } from '../../core/model.ts';
import { randomFloatModel, randomQuantizedModel, randomSegments, randomWindows } from '../../parity/random-model.ts';
import { initBackend } from '../../trainer/backend.ts';
import { predictFloat } from '../../trainer/train.ts';
import { floatPredictWindow } from '../../reference/float-reference.ts';
import { denseWindows } from '../../data/window-set.ts';

/** One direction as a streaming one-layer model with int8 inputs of the given scale. */
function direction(q: QuantizedModel, layer: QuantRecurrentLayer, inputScale: number | undefined): Simulator {
  const { backward: _b, merge: _m, reverse: _r, readout: _o, ...forwardOnly } = layer;
  return new Simulator({
    ...q,
    featureNames: Array.from({ length: layer.inputSize }, (_, i) => `in${i}`),
    inputScales: inputScale === undefined ? q.inputScales : new Array<number>(layer.inputSize).fill(inputScale),
    layers: [forwardOnly],
    head: { inputSize: layer.units, outputSize: 1, weightsQ: new Int8Array(layer.units), accScale: 1, biasQ: new Int32Array(1) },
  });
}

const merge = (mode: MergeMode | undefined, f: Int8Array, b: Int8Array): Int8Array => {
  if (mode === 'sum') return Int8Array.from(f, (v, u) => saturateInt8(roundShift(v + b[u], 1)));
  const out = new Int8Array(f.length + b.length);
  out.set(f);
  out.set(b, f.length);
  return out;
};

/** The head input of a window model computed by hand from streaming direction runs. */
function byHand(q: QuantizedModel, inputs: Int8Array[]): Int8Array {
  let seq: Int8Array[] = inputs;
  let top: Int8Array = new Int8Array(0);
  q.layers.forEach((layer, l) => {
    const scale = l === 0 ? undefined : 2 ** -HIDDEN_FRAC_BITS;
    const run = (sim: Simulator, order: number[]) => {
      const out: Int8Array[] = new Array(seq.length);
      sim.reset();
      for (const t of order) {
        sim.stepQ(seq[t]);
        out[t] = Int8Array.from(sim.state.hQ7);
      }
      return out;
    };
    const order = seq.map((_, t) => t);
    if (layer.reverse) {
      // a reverse layer: its own weights over the window last step first; the head reads h after step 0
      seq = run(direction(q, layer, scale), order.slice().reverse());
      top = seq[0];
      return;
    }
    const forward = run(direction(q, layer, scale), order);
    if (!layer.backward) {
      seq = forward;
      top = forward[forward.length - 1];
      return;
    }
    const last = seq.length - 1;
    if (layer.readout === 'last-step') {
      // the output at the last step: the backward direction after one step, on the last input alone
      const backwardOnce = run(direction(q, layer.backward, scale), [last]);
      top = merge(layer.merge, forward[last], backwardOnce[last]);
      return;
    }
    const backward = run(direction(q, layer.backward, scale), order.slice().reverse());
    seq = forward.map((f, t) => merge(layer.merge, f, backward[t]));
    top = merge(layer.merge, forward[last], backward[0]);
  });
  return top;
}

describe('window models', () => {
  it.each([
    ['concat', { cell: 'lstm' as const, bidirectional: 'concat' as const }],
    ['sum', { cell: 'gru-reset-after' as const, bidirectional: 'sum' as const }],
    [
      'a sum layer under a concat layer under a forward layer',
      {
        cell: 'peephole' as const,
        bidirectional: 'sum' as const,
        stacked: [
          { cell: 'cifg' as const, units: 4, bidirectional: 'concat' as const },
          { cell: 'rnn' as const, units: 3 },
        ],
      },
    ],
    ['concat, read at the last step', { cell: 'gru' as const, bidirectional: 'concat' as const, readout: 'last-step' as const }],
    [
      'a sum layer read at the last step over a concat layer',
      {
        cell: 'lstm' as const,
        bidirectional: 'concat' as const,
        readout: 'last-step' as const,
        stacked: [{ cell: 'peephole' as const, units: 4, bidirectional: 'sum' as const }],
      },
    ],
    ['reverse', { cell: 'gru' as const, reverse: true }],
    [
      'a reverse layer under a forward layer under a reverse layer',
      {
        cell: 'lstm' as const,
        reverse: true,
        stacked: [
          { cell: 'rnn' as const, units: 4 },
          { cell: 'gru-reset-after' as const, units: 3, reverse: true },
        ],
      },
    ],
    [
      'a reverse layer over a concat layer',
      { cell: 'cifg' as const, bidirectional: 'concat' as const, stacked: [{ cell: 'peephole' as const, units: 4, reverse: true }] },
    ],
  ])('%s: every step equals the directions run by hand over the last window inputs', (_name, spec) => {
    const q = randomQuantizedModel({ seed: 31, inputSize: 3, units: 5, outputSize: 2, window: 6, ...spec });
    const sim = new Simulator(q);
    for (const segment of randomSegments(31, 3, [15, 4], 0.2)) {
      sim.reset();
      segment.forEach((xq, t) => {
        const y = Array.from(sim.stepQ(xq));
        const top = byHand(q, segment.slice(Math.max(0, t + 1 - q.window), t + 1));
        const width = layerOutputSize(q.layers[q.layers.length - 1]);
        expect(top.length).toBe(width);
        const want = Array.from({ length: q.head.outputSize }, (_, k) => {
          let acc = q.head.biasQ[k];
          for (let j = 0; j < width; j++) acc += q.head.weightsQ[k * width + j] * top[j];
          return acc;
        });
        expect(y, `step ${t}`).toEqual(want);
      });
    }
  });

  it('feedQ (inputs join the window without a step) then one stepQ equals stepping every input', () => {
    const q = randomQuantizedModel({ seed: 33, inputSize: 3, units: 5, outputSize: 2, window: 6, cell: 'gru', bidirectional: 'concat' });
    const [segment] = randomSegments(33, 3, [9], 0.2);
    const stepped = new Simulator(q);
    const fed = new Simulator(q);
    segment.forEach((xq, t) => {
      stepped.stepQ(xq);
      if (t < segment.length - 1) fed.feedQ(xq);
    });
    expect(Array.from(fed.stepQ(segment[segment.length - 1]))).toEqual(Array.from(stepped.outputAcc));
    expect(Array.from(fed.state.hQ7)).toEqual(Array.from(stepped.state.hQ7));
    expect(() => new Simulator(randomQuantizedModel({ seed: 33, inputSize: 3, units: 5 })).feedQ([1, 2, 3])).toThrow(/only window/);
  });

  it("the float stack computes what TensorFlow.js' Bidirectional computes (within 1e-5), concat and sum, custom cells", async () => {
    const { tf } = await initBackend('auto');
    for (const [cell, mergeMode] of [
      ['gru-reset-after', 'concat'],
      ['peephole', 'sum'],
      ['lstm', 'concat'],
    ] as const) {
      const model = randomFloatModel({
        seed: 12,
        inputSize: 3,
        units: 4,
        outputSize: 2,
        weightRange: 0.8,
        cell,
        bidirectional: mergeMode,
        stacked: [{ cell, units: 3, bidirectional: mergeMode }],
      });
      const n = 10;
      const x = randomWindows(12, n, model.window, 3);
      const tfOut = predictFloat(tf, model.layers, model.head, denseWindows(x, model.window * 3), model.window, 3);
      let worst = 0;
      for (let w = 0; w < n; w++) {
        const y = floatPredictWindow(model.layers, model.head, x, w * model.window * 3, model.window);
        for (let k = 0; k < 2; k++) worst = Math.max(worst, Math.abs(y[k] - tfOut[w * 2 + k]));
      }
      expect(worst, `${cell} ${mergeMode}`).toBeLessThan(1e-5);
      // Swapping the two directions' weights would not pass.
      const swapped = structuredClone(model);
      const [f, b] = [swapped.layers[0], swapped.layers[0].backward!];
      swapped.layers[0] = { ...b, backward: { ...f }, merge: mergeMode };
      let swappedWorst = 0;
      for (let w = 0; w < n; w++) {
        const y = floatPredictWindow(swapped.layers, swapped.head, x, w * model.window * 3, model.window);
        for (let k = 0; k < 2; k++) swappedWorst = Math.max(swappedWorst, Math.abs(y[k] - tfOut[w * 2 + k]));
      }
      expect(swappedWorst).toBeGreaterThan(10 * 1e-5);
    }
  });
});
