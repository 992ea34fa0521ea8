/**
 * ES5 text of the NUMERICS.md primitives, emitted inline into the step so the
 * hot loop makes no function calls. Every shift count is a literal; every
 * operand is proven below 2^31 by codegen/bounds.ts.
 */
import type { CodeBuilder } from './builder.ts';
import {
  INT16_MAX,
  INT16_MIN,
  INT8_MAX,
  INT8_MIN,
  SIGMOID_INDEX_SHIFT,
  TANH_INDEX_SHIFT,
} from '../runtime/fixed-point.ts';

/** `(v + 2^(s-1)) >> s` with literal s in 1..31: round half up. */
export function roundShiftText(v: string, s: number): string {
  if (!Number.isInteger(s) || s < 1 || s > 31) throw new Error(`shift ${s} outside 1..31`);
  return `(${v} + ${2 ** (s - 1)}) >> ${s}`;
}

/** `if (v > hi) v = hi; else if (v < lo) v = lo;` */
export function emitSaturate(b: CodeBuilder, v: string, lo: number, hi: number): void {
  b.line(`if (${v} > ${hi}) ${v} = ${hi}; else if (${v} < ${lo}) ${v} = ${lo};`);
}

export const emitSaturateInt16 = (b: CodeBuilder, v: string) => emitSaturate(b, v, INT16_MIN, INT16_MAX);
export const emitSaturateInt8 = (b: CodeBuilder, v: string) => emitSaturate(b, v, INT8_MIN, INT8_MAX);

/**
 * Interpolated table lookup of |x| (NUMERICS.md §4), result in `out`.
 * Uses locals a (|x|), k (index); `table` is an Int16Array, `last` its last index.
 *   k = a >> s;  out = k >= last ? T[last] : T[k] + (((T[k+1] - T[k]) * (a & (2^s-1)) + 2^(s-1)) >> s)
 */
function emitLookup(b: CodeBuilder, x: string, out: string, table: string, last: number, s: number): void {
  b.line(`a = ${x} < 0 ? -${x} : ${x};`);
  b.line(`k = a >> ${s};`);
  b.line(`if (k >= ${last}) ${out} = ${table}[${last}];`);
  b.line(`else { ${out} = ${table}[k]; ${out} += ${roundShiftText(`(${table}[k + 1] - ${out}) * (a & ${2 ** s - 1})`, s)}; }`);
}

/** out = σ(x): Q3.12 -> Q0.15;  σ(-x) = 2^15 - σ(x). */
export function emitSigmoid(b: CodeBuilder, x: string, out: string, table: string, last: number): void {
  emitLookup(b, x, out, table, last, SIGMOID_INDEX_SHIFT);
  b.line(`if (${x} < 0) ${out} = 32768 - ${out};`);
}

/** out = tanh(x): Q3.12 -> Q0.15;  tanh(-x) = -tanh(x). */
export function emitTanh(b: CodeBuilder, x: string, out: string, table: string, last: number): void {
  emitLookup(b, x, out, table, last, TANH_INDEX_SHIFT);
  b.line(`if (${x} < 0) ${out} = -${out};`);
}

/** The cell state in Q(K).(15-K) as a Q3.12 tanh argument. */
export function cellToQ12Text(c: string, cellIntBits: number): string {
  if (cellIntBits < 3) return roundShiftText(c, 3 - cellIntBits);
  if (cellIntBits === 3) return c;
  return `${c} << ${cellIntBits - 3}`;
}
