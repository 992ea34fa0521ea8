/**
 * Embedding input (NUMERICS.md §3a): token ids looked up in an int8 table.
 * The float reference (table rows, padding left out) against TensorFlow.js'
 * masked Embedding; the quantized table; the token step in the simulator
 * (padding is no step, bad ids read as the unknown token); and the generated
 * code against the simulator on every engine, bit for bit, for the int8
 * steps (stepQ) and for token ids (step), special ids included.
 */
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../trainer/backend.ts';
import { predictFloat } from '../../trainer/train.ts';
import { floatPredictWindow } from '../../reference/float-reference.ts';
import { embedWindows, windowSteps } from '../../core/embedding.ts';
import { Simulator } from '../../reference/simulator.ts';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { readingEngines } from '../helpers/reading-engines.ts';
import { checkParity } from '../../parity/parity.ts';
import { parseReadingTrace, readingDriverSource, simulateReadings, type ReadingSegments } from '../../parity/reading-driver.ts';
import { decodeArtifact, encodeFloatModel, encodeQuantizedModel } from '../../core/artifact.ts';
import { mulberry32, randomFloatModel, randomQuantizedModel, randomSegments, randomTokenWindows } from '../../parity/random-model.ts';
import type { CellKind, QuantizedModel } from '../../core/model.ts';
import { denseWindows } from '../../data/window-set.ts';

describe('float reference vs TensorFlow.js with a masked embedding', () => {
  it.each([
    { cell: 'lstm' as CellKind, stacked: false },
    { cell: 'gru' as CellKind, stacked: false },
    { cell: 'rnn' as CellKind, stacked: false },
    { cell: 'peephole' as CellKind, stacked: false },
    { cell: 'gru-reset-after' as CellKind, stacked: true },
  ])('$cell (stacked: $stacked) agrees within 1e-5, padding left out', async ({ cell, stacked }) => {
    const { tf } = await initBackend('auto');
    const V = 23;
    const model = randomFloatModel({
      seed: 7,
      inputSize: 5,
      units: 6,
      outputSize: 2,
      weightRange: 0.8,
      cell,
      vocabulary: V,
      window: 9,
      ...(stacked ? { stacked: [{ cell: 'lstm', units: 4 }] } : {}),
    });
    const n = 12;
    const ids = randomTokenWindows(3, n, model.window, V);
    // One window with padding in the middle too: masked steps are skipped wherever they are.
    ids[model.window + 4] = 0;
    const tfOut = predictFloat(
      tf,
      model.layers,
      model.head,
      denseWindows(ids, model.window, n),
      model.window,
      1,
      'many-to-one',
      model.embedding,
    );
    const { x, padding } = embedWindows(model.embedding!, ids);
    let worst = 0;
    let paddingEffect = 0;
    for (let w = 0; w < n; w++) {
      const run = windowSteps(x, padding, w, model.window, 5);
      const y = floatPredictWindow(model.layers, model.head, run.x, 0, run.steps);
      // Padding rows fed as ordinary steps would give another answer: the mask matters.
      const unmasked = floatPredictWindow(model.layers, model.head, windowSteps(x, undefined, w, model.window, 5).x, 0, model.window);
      for (let k = 0; k < 2; k++) {
        worst = Math.max(worst, Math.abs(y[k] - tfOut[w * 2 + k]));
        paddingEffect = Math.max(paddingEffect, Math.abs(unmasked[k] - tfOut[w * 2 + k]));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    expect(paddingEffect).toBeGreaterThan(1e-3);
  });
});

describe('the quantized embedding table', () => {
  const float = randomFloatModel({ seed: 11, inputSize: 4, units: 5, vocabulary: 30 });
  const q = randomQuantizedModel({ seed: 11, inputSize: 4, units: 5, vocabulary: 30 });
  const e = q.embedding!;

  it('covers each column exactly (largest |value| -> ±127) and rounds every entry to the nearest step', () => {
    expect(q.inputScales).toHaveLength(4);
    for (let d = 0; d < 4; d++) {
      let m = 0;
      for (let t = 1; t < 30; t++) m = Math.max(m, Math.abs(float.embedding!.table[t * 4 + d]));
      expect(q.inputScales[d]).toBeCloseTo(m / 127, 12);
      for (let t = 1; t < 30; t++) {
        expect(Math.abs(e.tableQ[t * 4 + d] * q.inputScales[d] - float.embedding!.table[t * 4 + d])).toBeLessThanOrEqual(
          q.inputScales[d] / 2 + 1e-9,
        );
      }
    }
    // The padding row is never read: stored as zeros.
    expect(Array.from(e.tableQ.subarray(0, 4))).toEqual([0, 0, 0, 0]);
  });

  it('round-trips through both artifacts, and a bad embedding is refused with one line', () => {
    const back = decodeArtifact(encodeQuantizedModel(q), 'q.pb');
    expect(back.kind === 'quantized' && back.model.embedding).toEqual(e);
    const f = decodeArtifact(encodeFloatModel(float), 'f.pb');
    expect(f.kind === 'float' && f.model.embedding).toEqual(float.embedding);
    expect(() => encodeQuantizedModel({ ...q, embedding: { ...e, unknownToken: 0 } })).toThrow(
      /embedding\.unknownToken is 0; expected an integer in 1\.\.29/,
    );
    expect(() => encodeQuantizedModel({ ...q, embedding: { ...e, tableQ: e.tableQ.subarray(4) } })).toThrow(
      /embedding\.tableQ has 116 values; expected 120/,
    );
    expect(() => encodeFloatModel({ ...float, featureNames: ['a', 'b'] })).toThrow(/featureNames has 2 entries/);
  });
});

describe('token steps in the simulator', () => {
  const q = randomQuantizedModel({ seed: 12, inputSize: 3, units: 4, outputSize: 2, vocabulary: 10 });
  const e = q.embedding!;

  it('steps on the table row of the token', () => {
    const a = new Simulator(q);
    const b = new Simulator(q);
    for (const id of [3, 7, 9, 2]) {
      expect(Array.from(a.step([id]))).toEqual(Array.from(b.dequantizeOutput(b.stepQ(e.tableQ.subarray(id * 3, id * 3 + 3)))));
      expect(Array.from(a.state.hQ7)).toEqual(Array.from(b.state.hQ7));
    }
  });

  it('leaves state and outputs as they are on padding (token 0)', () => {
    const sim = new Simulator(q);
    sim.step([5]);
    sim.step([6]);
    const before = { y: Array.from(sim.outputAcc), h: Array.from(sim.state.hQ7), c: Array.from(sim.state.cellQ) };
    const y = sim.step([0]);
    expect({ y: Array.from(sim.outputAcc), h: Array.from(sim.state.hQ7), c: Array.from(sim.state.cellQ) }).toEqual(before);
    expect(Array.from(y)).toEqual(Array.from(sim.dequantizeOutput(before.y)));
  });

  it('reads any id that is not an integer in [0, V) as the unknown token', () => {
    const expected = new Simulator(q);
    expected.step([4]);
    const want = Array.from(expected.step([e.unknownToken]));
    for (const id of [NaN, undefined, -1, 2.5, 10, 1e300, Infinity, -Infinity, '3']) {
      const sim = new Simulator(q);
      sim.step([4]);
      expect(Array.from(sim.step([id as number])), String(id)).toEqual(want);
    }
  });
});

/** Token segments with every kind of id: ordinary, padding, unknown, out of range, not integers, not numbers. */
function tokenSegments(V: number, seed: number): ReadingSegments {
  const rnd = mulberry32(seed);
  const special = [0, 0, 1, V - 1, V, -1, 2.5, NaN, undefined, Infinity, -Infinity, 1e300, -0];
  const step = () => [rnd() < 0.25 ? special[Math.floor(rnd() * special.length)] : 1 + Math.floor(rnd() * (V - 1))];
  return [[[0], [0], ...Array.from({ length: 30 }, step)], Array.from({ length: 12 }, step)];
}

describe.each([
  { name: 'LSTM', spec: { seed: 21, inputSize: 4, units: 6, outputSize: 1, vocabulary: 40 } },
  { name: 'GRU', spec: { seed: 22, inputSize: 3, units: 5, outputSize: 2, vocabulary: 17, cell: 'gru' as CellKind } },
  {
    name: 'CIFG -> simple RNN',
    spec: {
      seed: 23,
      inputSize: 5,
      units: 4,
      outputSize: 1,
      vocabulary: 9,
      cell: 'cifg' as CellKind,
      stacked: [{ cell: 'rnn' as CellKind, units: 3 }],
    },
  },
  {
    name: 'bidirectional LSTM (window)',
    spec: { seed: 24, inputSize: 3, units: 4, outputSize: 1, vocabulary: 12, window: 5, bidirectional: 'concat' as const },
  },
])('generated code with an embedding, $name', ({ spec }) => {
  const q: QuantizedModel = randomQuantizedModel(spec);
  const segments = tokenSegments(spec.vocabulary, spec.seed);
  const expected = simulateReadings(q, segments);

  it('padding steps change nothing in the simulator trace', () => {
    const flat = segments.flat();
    expected.forEach((s, k) => {
      if (k > 0 && flat[k][0] === 0 && expected[k - 1].segment === s.segment) expect(s).toEqual({ ...expected[k - 1], t: s.t });
    });
  });

  for (const target of TARGETS) {
    it(`${target}: step([id]) and stepQ match the simulator bit for bit on every engine`, async () => {
      const code = emitModule(q, { target, globalName: 'lstmModel', modelSha256: '', generatorVersion: 'test' });
      const engines = readingEngines(target);
      for (const engine of engines) {
        const actual = parseReadingTrace(await engine.run(code + readingDriverSource('lstmModel', segments)), engine.name);
        expect(actual, `${target} on ${engine.name}`).toEqual(expected);
      }
      const results = await checkParity(
        q,
        [{ target, code, globalName: 'lstmModel' }],
        engines,
        randomSegments(spec.seed, spec.inputSize, [20, 7], 0.1),
      );
      for (const r of results) expect(r.mismatch, r.message).toBeUndefined();
    });
  }
});
