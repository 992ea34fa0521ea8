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
  TABLE_CENTER,
  TABLE_ENTRIES,
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
 * out = tanh(x): Q3.12 -> Q0.15 by direct lookup (NUMERICS.md §4); uses the local k.
 *   k = sat((x >> 4) + 1024, 0, 2047);  out = TT[k]
 */
export function emitTanh(b: CodeBuilder, x: string, out: string, table: string): void {
  emitTanhRead(b, `${x} >> ${TANH_INDEX_SHIFT}`, out, table);
}

/** k = sat(bucket + 1024, 0, 2047); out = TT[k]: the one clamped tanh read. */
function emitTanhRead(b: CodeBuilder, bucket: string, out: string, table: string, note = ''): void {
  b.line(`k = (${bucket}) + ${TABLE_CENTER};${note}`);
  emitSaturate(b, 'k', 0, TABLE_ENTRIES - 1);
  b.line(`${out} = ${table}[k];`);
}

/**
 * out = σ(x): Q3.12 (int16) -> Q0.15 from the tanh table, σ(x) = (1 + tanh(x/2)) / 2.
 *   out = (TT[(x >> 5) + 1024] + 32768) >> 1      (no clamp: |x| <= 2^15)
 */
export function emitSigmoid(b: CodeBuilder, x: string, out: string, table: string): void {
  b.line(`${out} = (${table}[(${x} >> ${SIGMOID_INDEX_SHIFT}) + ${TABLE_CENTER}] + 32768) >> 1;`);
}

/**
 * out = tanh(c) of a cell state c in Q(K).(15-K) (NUMERICS.md §5 step 5): the tanh index of
 * cArg = cellToQ12(c), (cArg >> 4) + 1024, taken straight from c:
 *   K < 3: cArg = (c + 2^(2-K)) >> (3-K), so cArg >> 4 = (c + 2^(2-K)) >> (7-K)   (floor of a floor)
 *   K >= 3: cArg = c * 2^(K-3), so cArg >> 4 = c >> (7-K) (K <= 7), c << (K-7) (K > 7)
 */
export function emitTanhOfCell(b: CodeBuilder, c: string, cellIntBits: number, out: string, table: string): void {
  const K = cellIntBits;
  const index = K < 3 ? `(${c} + ${2 ** (2 - K)}) >> ${7 - K}` : K < 7 ? `${c} >> ${7 - K}` : K === 7 ? c : `${c} << ${K - 7}`;
  emitTanhRead(b, index, out, table, ' // tanh index of c as a Q3.12 argument');
}
