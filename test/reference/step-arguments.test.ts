/**
 * The argument contract of step(x) and stepQ(xq) (core/step-arguments.ts,
 * NUMERICS.md §3) on every engine: an argument that is not an array of the
 * model's inputs throws the same TypeError; a Number object reads as its
 * value (Espruino has none), any other non-number as missing (step) or 0
 * (stepQ); outputs and state bit for bit as the simulator's. The native
 * step (codegen --native, through E.nativeCall on espruino-armhf as a Puck.js)
 * takes the same arguments: an Int8Array as the call's arguments and its value-by-value
 * path for anything else.
 */
import { describe, expect, it } from 'vitest';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { readingEngines } from '../helpers/reading-engines.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { parseStepCallTrace, simulateStepCalls, stepCallDriverSource, type StepCall } from '../../parity/step-call-driver.ts';
import { stepArgumentMessage } from '../../core/step-arguments.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { armhfEngine } from '../../parity/native-engines.ts';

const armhf = armhfEngine();

/** Arguments that are not an array of `n` elements. */
const notArrays = (n: number): string[] => [
  '5',
  'null',
  'undefined',
  '"ab"',
  '[]',
  `[${Array(n + 1)
    .fill(1)
    .join(', ')}]`,
  `{ length: ${n + 1} }`,
];

/** Two-element arguments whose elements are numbers, Number objects, and other values. */
const READINGS = [
  '[0.25, -1]',
  'new Float64Array([0.25, -1])',
  '[new Number(0.25), new Number(-1)]',
  '[new Number(Infinity), new Number(NaN)]',
  '["0.25", true]',
  '[false, null]',
  '[{}, [0.25]]',
  '[{ valueOf: function () { return 3; } }, function () {}]',
  '[Infinity, -Infinity]',
  '[NaN, 1048576]', // exact in a literal: Espruino's parser is not correctly rounded (1e300 is not)
  '{ length: 2, 0: 0.25, 1: -1 }',
  '[NaN, NaN]',
];
const INT8_INPUTS = [
  'new Int8Array([3, -4])',
  '[new Number(3), new Number(-4)]',
  '["3", "4"]',
  '[true, null]',
  '[{}, [5]]',
  '[{ valueOf: function () { return 3; } }, undefined]',
  '[3.7, -3.7]',
  '[200, -1e10]',
  '[NaN, -Infinity]',
  '[NaN, NaN]',
];

/** The calls of a model, and which of them pass something that is not an array of the inputs. */
interface Calls {
  calls: StepCall[];
  wrong: Set<StepCall>;
}

function callsOf(inputs: number, step: string[], stepQ: string[], token = false): Calls {
  const wrongStep = notArrays(token ? 1 : inputs).map((arg) => ({ fn: 'step' as const, arg }));
  const wrongStepQ = token ? [] : notArrays(inputs).map((arg) => ({ fn: 'stepQ' as const, arg }));
  const calls = [
    ...wrongStep,
    ...step.map((arg) => ({ fn: 'step' as const, arg })),
    ...wrongStepQ,
    ...stepQ.map((arg) => ({ fn: 'stepQ' as const, arg })),
  ];
  return { calls, wrong: new Set([...wrongStep, ...wrongStepQ]) };
}

const base = randomQuantizedModel({ seed: 5, inputSize: 2, units: 5, outputSize: 2 });
const MODELS: ({ name: string; q: QuantizedModel } & Calls)[] = [
  { name: 'lstm', q: base, ...callsOf(2, READINGS, INT8_INPUTS) },
  { name: 'target mode change', q: { ...base, targetMode: 'change', baseFeatures: [1, 0] }, ...callsOf(2, READINGS, []) },
  {
    name: 'bidirectional window',
    q: randomQuantizedModel({ seed: 6, inputSize: 2, units: 4, outputSize: 1, bidirectional: 'concat', window: 4 }),
    ...callsOf(2, [], INT8_INPUTS),
  },
  {
    name: 'embedding',
    q: randomQuantizedModel({ seed: 7, inputSize: 2, units: 4, outputSize: 1, vocabulary: 9 }),
    ...callsOf(1, ['[3]', '[new Number(3)]', '["3"]', '[true]', '[new Number(0)]', '[0]', '[3.5]', '[{}]'], [], true),
  },
];

describe.each(MODELS)('step(x) and stepQ(xq) arguments: $name', ({ q, calls, wrong }) => {
  const expected = simulateStepCalls(q, calls);
  const result = (fn: StepCall['fn'], arg: string) => {
    const k = calls.findIndex((c) => c.fn === fn && c.arg === arg);
    if (k < 0) throw new Error(`no call ${fn}(${arg})`);
    return expected[k];
  };
  const has = (arg: string) => calls.some((c) => c.arg === arg);

  it('the simulator throws the TypeError for what is not an array of the inputs, and steps on the rest', () => {
    calls.forEach((c, k) => {
      const inputs = c.fn === 'stepQ' ? q.layers[0]!.inputSize : q.embedding ? 1 : 2;
      const what = c.fn === 'stepQ' ? 'int8 inputs' : q.embedding ? 'token id' : 'readings';
      const message = stepArgumentMessage(c.fn === 'step' ? 'step(x)' : 'stepQ(xq)', inputs, what);
      if (wrong.has(c)) expect(expected[k], c.arg).toBe(`throws true ${message}`);
      else expect(expected[k], c.arg).not.toMatch(/^throws/);
    });
  });

  it('a Number object reads as its number, another non-number as a missing reading (step) or 0 (stepQ)', () => {
    if (has('[0.25, -1]')) {
      expect(result('step', '[new Number(0.25), new Number(-1)]')).toBe(result('step', '[0.25, -1]'));
      expect(result('step', '{ length: 2, 0: 0.25, 1: -1 }')).toBe(result('step', '[0.25, -1]'));
      // strings, booleans, null, objects: all the mean, as NaN is
      for (const arg of ['["0.25", true]', '[false, null]', '[{}, [0.25]]'])
        expect(result('step', arg), arg).toBe(result('step', '[NaN, NaN]'));
      expect(result('step', '[NaN, NaN]')).not.toBe(result('step', '[0.25, -1]'));
    }
    if (has('new Int8Array([3, -4])')) {
      expect(result('stepQ', '[new Number(3), new Number(-4)]')).toBe(result('stepQ', 'new Int8Array([3, -4])'));
      for (const arg of ['["3", "4"]', '[{}, [5]]', '[NaN, NaN]']) expect(result('stepQ', arg), arg).toBe(result('stepQ', '[true, null]'));
      expect(result('stepQ', '[true, null]')).not.toBe(result('stepQ', 'new Int8Array([3, -4])'));
    }
    if (q.embedding) {
      expect(result('step', '[new Number(3)]')).toBe(result('step', '[3]'));
      expect(result('step', '[new Number(0)]')).toBe(result('step', '[0]'));
      expect(result('step', '["3"]')).toBe(result('step', '[3.5]')); // the unknown token
      expect(result('step', '["3"]')).not.toBe(result('step', '[3]'));
    }
  });

  for (const target of TARGETS) {
    const engines = readingEngines(target);
    it(`${target} code throws and steps exactly as the simulator on every engine (${engines.map((e) => e.name).join(', ')})`, async () => {
      const code = emitModule(q, { target, globalName: 'lstmModel', modelSha256: '', generatorVersion: 'test' });
      for (const engine of engines) {
        const actual = parseStepCallTrace(await engine.run(code + stepCallDriverSource('lstmModel', calls)), engine.name);
        expect(actual, `${target} on ${engine.name}`).toEqual(expected);
      }
    });
  }
});

describe.skipIf(typeof armhf === 'string')('the native step takes the same arguments (espruino-armhf as PUCKJS, qemu-arm)', () => {
  it.each(MODELS.filter((m) => m.name === 'lstm' || m.name === 'target mode change'))(
    '$name',
    async ({ q, calls }) => {
      const engine = armhf as Exclude<typeof armhf, string>;
      const code = emitModule(q, { target: 'espruino', globalName: 'lstmModel', modelSha256: '', generatorVersion: 'test', native: 'm4' });
      const lines = await engine.run(
        'var process = { env: { BOARD: "PUCKJS" } };\n' +
          code +
          stepCallDriverSource('lstmModel', calls) +
          'print("NATIVE " + lstmModel.info.native);\n',
      );
      expect(lines).toContain('NATIVE m4');
      expect(parseStepCallTrace(lines, engine.name)).toEqual(simulateStepCalls(q, calls));
    },
    120_000,
  );
});
