/**
 * The hand-made memory LSTM (examples/seed-004-memory.json): x2 = 1 adds x1 to
 * the memory, x2 = -1 clears it, x3 = 1 outputs it. The float cell, the
 * simulator and the generated code on every engine reproduce the example
 * sequence's outputs (rounded to the nearest integer, as the example states
 * them), and the generated code equals the simulator bit for bit.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHandmadeModel } from '../../importers/handmade.ts';
import { quantizeModel } from '../../quantize/quantize.ts';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { floatDense, floatRecurrentStep, newFloatState } from '../../reference/float-reference.ts';
import { readingEngines } from '../helpers/reading-engines.ts';
import { tokenNumber } from '../../parity/number-tokens.ts';
import { parseReadingTrace, readingDriverSource, simulateReadings } from '../../parity/reading-driver.ts';
import { UserError } from '../../core/errors.ts';

const file = new URL('../../examples/seed-004-memory.json', import.meta.url);
const text = fs.readFileSync(file, 'utf8');
const parsed = parseHandmadeModel(text, 'seed-004-memory.json');
const example = parsed.example!;
const q = quantizeModel(parsed.model, {
  weightScale: 'per-row',
  calibrationX: parsed.calibrationX,
  floatModelSha256: '',
});
/** A double from the IEEE bytes the reading driver reports. */
const fromToken = tokenNumber;

describe('the hand-made memory LSTM', () => {
  it('the example is the one the seed describes: add, clear, output', () => {
    expect(example.inputs.length).toBe(9);
    expect(example.outputs.map((o) => o[0])).toEqual([0, 0, 0, 0, 0, 7, 0, 0, 6]);
  });

  it('the float cell reproduces the example', () => {
    const { model } = parsed;
    const state = newFloatState(model.layers[0]);
    const got = example.inputs.map((x) => {
      floatRecurrentStep(
        model.layers[0],
        state,
        x.map((v, i) => (v - model.inputNorm.mean[i]) / model.inputNorm.std[i]),
      );
      return Math.round(floatDense(model.head, state.h)[0]);
    });
    expect(got).toEqual(example.outputs.map((o) => o[0]));
  });

  it('the int8 simulator reproduces the example', () => {
    const steps = simulateReadings(q, [example.inputs]);
    expect(steps.map((s) => Math.round(fromToken(s.y[0])))).toEqual(example.outputs.map((o) => o[0]));
  });

  for (const target of TARGETS) {
    it(`the ${target} code reproduces it on every engine, bit for bit with the simulator`, async () => {
      const code = emitModule(q, { target, globalName: 'memory', modelSha256: '', generatorVersion: 'test' });
      const expected = simulateReadings(q, [example.inputs]);
      for (const engine of readingEngines(target)) {
        const actual = parseReadingTrace(await engine.run(code + readingDriverSource('memory', [example.inputs])), engine.name);
        expect(actual, engine.name).toEqual(expected);
        expect(
          actual.map((s) => Math.round(fromToken(s.y[0]))),
          engine.name,
        ).toEqual(example.outputs.map((o) => o[0]));
      }
    });
  }

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['wrong format', JSON.stringify({ ...JSON.parse(text), format: 'v0' }), /format: expected "lstm-mcu\/handmade-v1"/],
    [
      'unknown cell',
      JSON.stringify({ ...JSON.parse(text), cell: 'tcn' }),
      /cell: expected one of lstm, peephole, cifg, gru, gru-reset-after, rnn/,
    ],
    [
      'unknown gate',
      JSON.stringify({ ...JSON.parse(text), gates: { ...JSON.parse(text).gates, peep: {} } }),
      /gates: unknown gate peep for a lstm/,
    ],
    [
      'short weight row',
      text.replace('[[0, 100, 0]], "U": [[0]], "b": [-10]', '[[0, 100]], "U": [[0]], "b": [-10]'),
      /gates\.input\.W\[0\]: expected 3 finite numbers/,
    ],
    ['zero std', text.replace('"std": [20, 1, 1]', '"std": [20, 0, 1]'), /inputNorm\.std: every std must be above 0/],
    [
      'peephole weights on a plain LSTM',
      JSON.stringify({ ...JSON.parse(text), gates: { ...JSON.parse(text).gates, input: { ...JSON.parse(text).gates.input, p: [1] } } }),
      /gates\.input\.p: peephole weights exist only on the input, forget and output gates of a peephole cell/,
    ],
    [
      'a recurrent bias on a plain LSTM',
      JSON.stringify({ ...JSON.parse(text), gates: { ...JSON.parse(text).gates, input: { ...JSON.parse(text).gates.input, bR: [1] } } }),
      /gates\.input\.bR: a recurrent bias exists only in a gru-reset-after cell/,
    ],
    [
      'ragged calibration',
      text.replace('[6, 1, 1]]\n  ]', '[6, 1, 1], [0, 0, 0]]\n  ]'),
      /calibration\[0\]: has 9 rows; every calibration sequence needs 10/,
    ],
  ])('refuses a file with %s, naming the place', (_name, bad, message) => {
    expect(() => parseHandmadeModel(bad, 'bad.json')).toThrow(UserError);
    expect(() => parseHandmadeModel(bad, 'bad.json')).toThrow(message);
  });

  it('reads peephole weights and a reset-after recurrent bias into the float layer', () => {
    const doc = JSON.parse(text);
    const peephole = parseHandmadeModel(
      JSON.stringify({
        ...doc,
        cell: 'peephole',
        gates: { ...doc.gates, forget: { ...doc.gates.forget, p: [0.5] }, output: { ...doc.gates.output, p: [-2] } },
      }),
      'p.json',
    );
    expect(Array.from(peephole.model.layers[0].peephole!)).toEqual([0, 0.5, -2]);
    const gate = { W: [[0, 0, 0]], U: [[1]], b: [0] };
    const gru = parseHandmadeModel(
      JSON.stringify({ ...doc, cell: 'gru-reset-after', gates: { update: gate, reset: gate, candidate: { ...gate, bR: [0.25] } } }),
      'g.json',
    );
    expect(Array.from(gru.model.layers[0].recurrentBias!)).toEqual([0, 0, 0.25]);
  });

  it('reads a clockwork cell with its periods, and refuses missing periods, a link from a faster module and periods elsewhere', () => {
    const doc = JSON.parse(text);
    // two modules of one unit: unit 0 every step, unit 1 every third step; unit 1 feeds unit 0, not the reverse
    const candidate = {
      W: [
        [1, 0, 0],
        [0, 1, 0],
      ],
      U: [
        [0.5, 0.25],
        [0, 0.5],
      ],
      b: [0, 0],
    };
    const clockwork = { ...doc, cell: 'clockwork', units: 2, clockPeriods: [1, 3], gates: { candidate }, head: { W: [[1, 1]], b: [0] } };
    const m = parseHandmadeModel(JSON.stringify(clockwork), 'c.json');
    expect(m.model.layers[0].clockPeriods).toEqual([1, 3]);
    expect(Array.from(m.model.layers[0].recurrentKernel)).toEqual([0.5, 0, 0.25, 0.5]);
    const refusal = (d: object) => () => parseHandmadeModel(JSON.stringify(d), 'c.json');
    expect(refusal({ ...clockwork, clockPeriods: undefined })).toThrow(
      'c.json: clockPeriods: expected a list of module periods, e.g. [1, 2, 4, 8]',
    );
    expect(refusal({ ...clockwork, clockPeriods: [3, 1] })).toThrow('c.json: clockPeriods: clock periods 3,1 must increase');
    const link = {
      ...candidate,
      U: [
        [0.5, 0.25],
        [0.125, 0.5],
      ],
    };
    expect(refusal({ ...clockwork, gates: { candidate: link } })).toThrow(
      'c.json: gates.candidate.U[1][0]: must be 0: a clockwork module reads only the h of modules at least as slow',
    );
    expect(refusal({ ...doc, clockPeriods: [1] })).toThrow(
      'c.json: clockPeriods: clock periods exist only in a clockwork cell, not a lstm',
    );
  });

  it('reads a depth-gated stack: an LSTM, then depth-gated layers whose depth gate may carry wc and wl (NUMERICS.md §5j)', () => {
    const doc = JSON.parse(text);
    const upper = { W: [[0.5]], U: [[0]], b: [0] };
    const depthGated = { input: upper, forget: upper, cell: upper, output: upper, depth: { ...upper, wc: [0.25], wl: [-1.5] } };
    const stack = { ...doc, cell: 'depth-gated', gates: undefined, layers: [{ gates: doc.gates }, { gates: depthGated }] };
    const parsed = parseHandmadeModel(JSON.stringify(stack), 'd.json');
    expect(parsed.model.layers.map((l) => [l.cell, l.inputSize, l.units])).toEqual([
      ['lstm', 3, 1],
      ['depth-gated', 1, 1],
    ]);
    expect(Array.from(parsed.model.layers[1].depthGate!)).toEqual([0.25, -1.5]);
    // it quantizes and runs like any stack
    const qd = quantizeModel(parsed.model, { weightScale: 'per-row', calibrationX: parsed.calibrationX, floatModelSha256: '' });
    expect(qd.layers[1].peepholeMultiplier.length).toBe(2);
    expect(qd.layers[1].cellIntBits).toBe(qd.layers[0].cellIntBits);
    const one = { ...stack, layers: [{ gates: doc.gates }] };
    expect(() => parseHandmadeModel(JSON.stringify(one), 'one.json')).toThrow(
      'one.json: layers: a depth-gated model lists two or more layers, each { gates }: an LSTM, then depth-gated layers',
    );
    const misplaced = { ...stack, layers: [{ gates: doc.gates }, { gates: { ...depthGated, input: { ...upper, wl: [1] } } }] };
    expect(() => parseHandmadeModel(JSON.stringify(misplaced), 'm.json')).toThrow(
      'm.json: layers[1].gates.input.wl: depth-gate weights exist only on the depth gate of a depth-gated layer',
    );
  });
});
