/**
 * ES5 text of the NUMERICS.md primitives, emitted inline into the step so the
 * hot loop calls no JavaScript function (on Espruino it calls the built-ins
 * E.convolve and E.clip). Every shift count is a literal; every operand is
 * proven below 2^31 by quantize/bounds.ts.
 */
import { cellIndexNeedsClamp } from '../quantize/bounds.ts';
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
} from '../core/fixed-point.ts';

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
 * The tanh bucket of a cell state c in Q(K).(15-K) (NUMERICS.md §5 step 5): cArg >> 4 with
 * cArg = cellToQ12(c), taken straight from c:
 *   K < 3: cArg = (c + 2^(2-K)) >> (3-K), so cArg >> 4 = (c + 2^(2-K)) >> (7-K)   (floor of a floor)
 *   K >= 3: cArg = c * 2^(K-3), so cArg >> 4 = c >> (7-K) (K <= 7), c << (K-7) (K > 7)
 */
function cellBucketText(c: string, K: number): string {
  return K < 3 ? `(${c} + ${2 ** (2 - K)}) >> ${7 - K}` : K < 7 ? `${c} >> ${7 - K}` : K === 7 ? c : `${c} << ${K - 7}`;
}

/** out = tanh(c) of a cell state c in Q(K).(15-K): TT[bucket + 1024], clamped where it can leave the table. */
export function emitTanhOfCell(b: CodeBuilder, c: string, cellIntBits: number, out: string, table: string): void {
  const bucket = cellBucketText(c, cellIntBits);
  if (cellIndexNeedsClamp(cellIntBits)) emitTanhRead(b, bucket, out, table, ' // tanh index of c as a Q3.12 argument');
  else b.line(`${out} = ${table}[(${bucket}) + ${TABLE_CENTER}]; // tanh index of c as a Q3.12 argument: in 512..1536, no clamp`);
}

/*
 * Espruino forms: one expression per value, saturated by E.clip (the local cl, one native call
 * where the if-chains take several interpreted statements; NUMERICS.md "How the device computes").
 */

/** E.clip(x, lo, hi) through the local cl. */
export const clipText = (x: string, lo: number, hi: number): string => `cl(${x}, ${lo}, ${hi})`;

/** (x >> a) >> b as one shift when a + b <= 31: a floor of a floor is one floor. `x` is parenthesized. */
function shiftTwiceText(x: string, a: number, b: number): string {
  if (a === 0) return `(${x}) >> ${b}`;
  return a + b <= 31 ? `(${x}) >> ${a + b}` : `((${x}) >> ${a}) >> ${b}`;
}

/**
 * The activation of z = x >> shift (shift 0: z = x) as one expression, for any integer z:
 *   sigmoid: (TT[cl(z >> 5, -1024, 1023) + 1024] + 32768) >> 1   = σ(sat16(z))
 *   tanh:    TT[cl(z >> 4, -1024, 1023) + 1024]                  = TT[sat((z >> 4) + 1024, 0, 2047)]
 * since sat16(z) >> 5 = clip(z >> 5, -1024, 1023): a floor shift is monotone, -32768 >> 5 = -1024
 * and 32767 >> 5 = 1023.
 */
export function activationText(kind: 'sigmoid' | 'tanh', x: string, shift: number, table: string): string {
  const bucketShift = kind === 'sigmoid' ? SIGMOID_INDEX_SHIFT : TANH_INDEX_SHIFT;
  const read = `${table}[${clipText(shiftTwiceText(x, shift, bucketShift), -TABLE_CENTER, TABLE_CENTER - 1)} + ${TABLE_CENTER}]`;
  return kind === 'sigmoid' ? `(${read} + 32768) >> 1` : read;
}

/** tanh(c) of a cell state c in Q(K).(15-K) as one expression: TT[bucket + 1024], the bucket clipped where needed. */
export function tanhOfCellText(c: string, cellIntBits: number, table: string): string {
  const bucket = cellBucketText(c, cellIntBits);
  return cellIndexNeedsClamp(cellIntBits)
    ? `${table}[${clipText(bucket, -TABLE_CENTER, TABLE_CENTER - 1)} + ${TABLE_CENTER}]`
    : `${table}[(${bucket}) + ${TABLE_CENTER}]`;
}
