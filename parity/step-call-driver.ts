/**
 * Parity of the argument contract of step(x) and stepQ(xq)
 * (core/step-arguments.ts): each call, on any argument (a number, a string,
 * an array of the wrong length, Number objects, booleans, objects...), must
 * throw the same TypeError or give the same outputs, bit for bit, and the same
 * state in the simulator and in the generated code on every engine.
 */
import { Simulator } from '../reference/simulator.ts';
import type { QuantizedModel } from '../core/model.ts';
import { DOUBLE_CODEC_ES5, encodeDouble } from './reading-driver.ts';

/** One call after reset(): the function and its argument as ES5 source text. */
export interface StepCall {
  fn: 'step' | 'stepQ';
  arg: string;
}

/** Per call: "throws <instanceof TypeError> <message>", or "<outputs as IEEE hex> <h>". */
export type StepCallResult = string;

/** The ES5 driver: each call after a reset(), one line per call. */
export function stepCallDriverSource(globalName: string, calls: StepCall[]): string {
  if (globalName === 'drivenModel') throw new Error('the driver uses the name drivenModel itself; pick another global name');
  const thunks = calls.map((c) => `function () { return drivenModel.${c.fn}(${c.arg}); }`);
  return `
(function () {
  var drivenModel = ${globalName};
  var out = typeof print === "function" ? print : function (s) { console.log(s); };
${DOUBLE_CODEC_ES5}
  var calls = [${thunks.join(',\n    ')}];
  var k, y;
  for (k = 0; k < calls.length; k++) {
    drivenModel.reset();
    try {
      y = calls[k]();
      out("C " + k + " " + join(y, enc) + " " + join(drivenModel.state.h));
    } catch (e) {
      out("C " + k + " throws " + (e instanceof TypeError) + " " + e.message);
    }
  }
  out("END");
})();
`;
}

export function parseStepCallTrace(lines: string[], engine: string): StepCallResult[] {
  if (!lines.some((l) => l.trim() === 'END')) throw new Error(`${engine}: the call driver did not finish (${lines.slice(-3).join(' | ')})`);
  return lines.filter((l) => l.startsWith('C ')).map((l) => l.trim().split(' ').slice(2).join(' '));
}

/** What the simulator gives for each call: the argument built from the same source text in this realm. */
export function simulateStepCalls(q: QuantizedModel, calls: StepCall[]): StepCallResult[] {
  const sim = new Simulator(q);
  return calls.map(({ fn, arg }) => {
    sim.reset();
    const value = new Function(`return (${arg});`)() as ArrayLike<number>;
    try {
      const y = fn === 'step' ? sim.step(value) : sim.stepQ(value);
      return `${Array.from(y, encodeDouble).join(',')} ${Array.from(sim.state.hQ7).join(',')}`;
    } catch (e) {
      return `throws ${e instanceof TypeError} ${(e as Error).message}`;
    }
  });
}
