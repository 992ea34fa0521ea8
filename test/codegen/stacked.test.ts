/**
 * Stacked layers (NUMERICS.md §5g): layer l reads the hidden state layer l-1
 * has just written. Checked here against an independent composition: each
 * layer run as its own single-layer model, the int8 h of one fed as the
 * int8 input of the next. And the float stack against TensorFlow.js.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../reference/simulator.ts';
import { HIDDEN_FRAC_BITS } from '../../core/fixed-point.ts';
import { CELL_KINDS, readsCellBelow, type QuantizedModel } from '../../core/model.ts';
import { randomFloatModel, randomQuantizedModel, randomSegments, randomWindows } from '../../parity/random-model.ts';
import { initBackend } from '../../trainer/backend.ts';
import { predictFloat } from '../../trainer/train.ts';
import { floatPredictWindow } from '../../reference/float-reference.ts';
import { denseWindows } from '../../data/window-set.ts';

/** Layer l of a stacked model as a one-layer model (its head is never read). */
function singleLayer(q: QuantizedModel, l: number): QuantizedModel {
  const layer = q.layers[l];
  return {
    ...q,
    featureNames: Array.from({ length: layer.inputSize }, (_, i) => `in${i}`),
    inputScales: l === 0 ? q.inputScales : new Array<number>(layer.inputSize).fill(2 ** -HIDDEN_FRAC_BITS),
    layers: [layer],
    head: { inputSize: layer.units, outputSize: 1, weightsQ: new Int8Array(layer.units), accScale: 1, biasQ: new Int32Array(1) },
  };
}

describe('stacked layers', () => {
  // A depth-gated layer reads the cell state of the layer below, so it does not run as a model of its own (below).
  it.each(CELL_KINDS.filter((c) => !readsCellBelow(c)))(
    '%s under an LSTM and over a GRU: the stack equals the layers run one after another',
    (cell) => {
      const q = randomQuantizedModel({
        seed: 21,
        inputSize: 3,
        units: 7,
        outputSize: 2,
        cell: 'lstm',
        stacked: [
          { cell, units: 6 },
          { cell: 'gru', units: 4 },
        ],
      });
      const stack = new Simulator(q);
      const parts = q.layers.map((_, l) => new Simulator(singleLayer(q, l)));
      for (const segment of randomSegments(21, 3, [30, 12], 0.2)) {
        stack.reset();
        parts.forEach((p) => p.reset());
        for (const xq of segment) {
          const y = Array.from(stack.stepQ(xq));
          let input: ArrayLike<number> = xq;
          parts.forEach((p, l) => {
            p.stepQ(input);
            input = p.state.hQ7;
            expect(Array.from(stack.layerStates[l].hQ7), `layer ${l} h`).toEqual(Array.from(p.state.hQ7));
            expect(Array.from(stack.layerStates[l].cellQ), `layer ${l} c`).toEqual(Array.from(p.state.cellQ));
            expect(Array.from(stack.layerStates[l].gatesQ15), `layer ${l} gates`).toEqual(Array.from(p.state.gatesQ15));
          });
          // The head reads the top layer.
          const top = parts[parts.length - 1].state.hQ7;
          const head = q.head;
          const want = Array.from({ length: head.outputSize }, (_, k) => {
            let acc = head.biasQ[k];
            for (let j = 0; j < top.length; j++) acc += head.weightsQ[k * top.length + j] * top[j];
            return acc;
          });
          expect(y).toEqual(want);
        }
      }
      // The concatenated state is every layer's, layer 0 first.
      expect(stack.state.hQ7.length).toBe(7 + 6 + 4);
    },
  );

  it('depth-gated over an LSTM: the LSTM runs as it would alone, and the depth gate adds d ⊙ c_below to the upper cell (§5j)', () => {
    const q = randomQuantizedModel({ seed: 22, inputSize: 3, units: 6, outputSize: 2, cell: 'depth-gated' });
    expect(q.layers.map((l) => [l.cell, l.units, l.cellIntBits])).toEqual([
      ['lstm', 6, q.layers[0].cellIntBits],
      ['depth-gated', 6, q.layers[0].cellIntBits],
    ]);
    const stack = new Simulator(q);
    const bottom = new Simulator(singleLayer(q, 0));
    const K = q.layers[1].cellIntBits;
    const rs = (v: number, s: number) => Math.floor((v + 2 ** (s - 1)) / 2 ** s);
    let belowCounted = 0;
    for (const xq of randomSegments(22, 3, [40], 0.2)[0]) {
      const cPrev = Array.from(stack.layerStates[1].cellQ);
      stack.stepQ(xq);
      bottom.stepQ(xq);
      expect(Array.from(stack.layerStates[0].cellQ)).toEqual(Array.from(bottom.state.cellQ));
      expect(Array.from(stack.layerStates[0].hQ7)).toEqual(Array.from(bottom.state.hQ7));
      // c = sat16(roundShift(f·c, 15) + roundShift(i·g, 15+K) + roundShift(d·c_below, 15)), c_below the LSTM's c of this step
      const g = stack.layerStates[1].gatesQ15;
      const cBelow = stack.layerStates[0].cellQ;
      for (let u = 0; u < 6; u++) {
        const [i, f, cg, , d] = [0, 1, 2, 3, 4].map((k) => g[k * 6 + u]);
        const depthTerm = rs(d * cBelow[u], 15);
        const sum = rs(f * cPrev[u], 15) + rs(i * cg, 15 + K) + depthTerm;
        expect(stack.layerStates[1].cellQ[u]).toBe(Math.max(-32768, Math.min(32767, sum)));
        if (depthTerm !== 0) belowCounted++;
      }
    }
    expect(belowCounted).toBeGreaterThan(0);
  });

  it('the float stack computes what TensorFlow.js computes (mixed cells, within 1e-5)', async () => {
    const { tf } = await initBackend('auto');
    const model = randomFloatModel({
      seed: 9,
      inputSize: 3,
      units: 6,
      outputSize: 2,
      weightRange: 0.8,
      cell: 'peephole',
      stacked: [
        { cell: 'gru-reset-after', units: 5 },
        { cell: 'rnn', units: 4 },
      ],
    });
    const n = 12;
    const x = randomWindows(9, n, model.window, 3);
    const tfOut = predictFloat(tf, model.layers, model.head, denseWindows(x, model.window * 3), model.window, 3);
    let worst = 0;
    for (let w = 0; w < n; w++) {
      const y = floatPredictWindow(model.layers, model.head, x, w * model.window * 3, model.window);
      for (let k = 0; k < 2; k++) worst = Math.max(worst, Math.abs(y[k] - tfOut[w * 2 + k]));
    }
    expect(worst).toBeLessThan(1e-5);
    // And the comparison sees the upper layers: a change of 0.05 in one recurrent weight of the top layer shows.
    const changed = structuredClone(model);
    changed.layers[2].recurrentKernel[0] += 0.05;
    let changedWorst = 0;
    for (let w = 0; w < n; w++) {
      const y = floatPredictWindow(changed.layers, changed.head, x, w * model.window * 3, model.window);
      for (let k = 0; k < 2; k++) changedWorst = Math.max(changedWorst, Math.abs(y[k] - tfOut[w * 2 + k]));
    }
    expect(changedWorst).toBeGreaterThan(10 * 1e-5);
  });
});
