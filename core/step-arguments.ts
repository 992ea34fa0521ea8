/**
 * What step(x) and stepQ(xq) accept, the same on every engine (NUMERICS.md
 * §3): an array (or typed array) of exactly the model's inputs, else a
 * TypeError with this message; and each element read as a number the same
 * way, since engines disagree on anything else (Espruino throws reading x[0]
 * of a number, compares objects as larger than any number, has no Number
 * objects: new Number(3) is the number 3 there).
 */

/** The TypeError's message for an argument that is not an array of `inputs` elements. */
export const stepArgumentMessage = (call: 'step(x)' | 'stepQ(xq)', inputs: number, what: string): string =>
  `lstm-mcu model: ${call} takes an array of ${inputs} ${what}`;

/** Is `x` an array-like of `inputs` elements (an object, not null, whose length is `inputs`)? */
export const isStepArgument = (x: unknown, inputs: number): boolean =>
  typeof x === 'object' && x !== null && (x as ArrayLike<unknown>).length === inputs;

/** An element as a number: a number as it is, a Number object as its value, anything else `otherwise`. */
export function numberOr(v: unknown, otherwise: number): number {
  if (typeof v === 'number') return v;
  return v instanceof Number ? +v : otherwise;
}
