/**
 * ES5 text of the argument contract of step(x) and stepQ(xq)
 * (core/step-arguments.ts, NUMERICS.md §3). The per-step cost is one typeof,
 * one null and one length compare; per element, one typeof compare, which a
 * number passes without further work.
 */
import { stepArgumentMessage } from '../core/step-arguments.ts';
import type { CodeBuilder } from './builder.ts';
import { jsString } from './js-text.ts';

/** `if (x is not an array of n elements) throw new TypeError(message)`. */
export function emitArgumentCheck(b: CodeBuilder, arg: string, call: 'step(x)' | 'stepQ(xq)', inputs: number, what: string): void {
  b.line(
    `if (typeof ${arg} !== "object" || ${arg} === null || ${arg}.length !== ${inputs}) throw new TypeError(${jsString(stepArgumentMessage(call, inputs, what))});`,
  );
}

/**
 * `v` as a number (core/step-arguments.ts numberOr): a Number object as its
 * value, a non-number as `otherwise`. The typeof "object" test is not
 * redundant: on Espruino `true instanceof Number` is true.
 */
export function emitNumberOr(b: CodeBuilder, v: string, otherwise: string): void {
  b.line(`if (typeof ${v} !== "number") ${v} = typeof ${v} === "object" && ${v} instanceof Number ? +${v} : ${otherwise};`);
}
