/**
 * The integer primitives of docs/NUMERICS.md, one definition each.
 * The simulator computes with these; the code generator emits ES5 text that
 * implements the same formulas (codegen/emit-primitives.ts) and the parity
 * tests prove the two agree bit for bit.
 *
 * Every function states its input contract and asserts it: a violated
 * contract is a bug in the bound proof (quantize/bounds.ts), never a user error.
 */

/** Largest magnitude allowed before a bitwise op (ES ToInt32 and Espruino's C cast agree). */
export const BITWISE_LIMIT = 2 ** 31;
/** Largest magnitude at which every integer is exact in a double. */
export const EXACT_LIMIT = 2 ** 53;

export const INT8_MIN = -128;
export const INT8_MAX = 127;
export const INT16_MIN = -32768;
export const INT16_MAX = 32767;

/** Q-format constants of the fixed tensors (see NUMERICS.md §2). */
export const GATE_IN_FRAC_BITS = 12; // gate pre-activations: Q3.12 int16
export const GATE_OUT_FRAC_BITS = 15; // gate outputs and tanh(c): Q0.15 int16
export const HIDDEN_FRAC_BITS = 7; // hidden state h: Q0.7 int8
/**
 * GRU reset-after: the candidate rows' recurrent part U_h h + b_rh, in Q3.12
 * units, is saturated to [-2^16, 2^16 - 1] (|value| < 16) before r scales it,
 * so r * value + 2^14 stays below 2^31 (NUMERICS.md §5d).
 */
export const RECURRENT_PART_MIN = -(2 ** 16);
export const RECURRENT_PART_MAX = 2 ** 16 - 1;

/**
 * The activation table (NUMERICS.md §4): one direct-lookup tanh table, also
 * read by the sigmoid through sigma(x) = (1 + tanh(x/2)) / 2. Entry j holds
 * tanh((j - TABLE_CENTER + 1/2) * 2^-TANH_STEP_BITS) in Q0.15: the value at
 * the middle of the bucket of arguments that index it.
 */
export const TANH_STEP_BITS = 8; // bucket width 2^-8 of the tanh argument
export const TABLE_ENTRIES = 2048; // covers tanh arguments in [-4, 4)
export const TABLE_CENTER = TABLE_ENTRIES / 2; // index of the bucket [0, 2^-8)
/** tanh index = (xQ12 >> 4) + 1024, clamped to the table; sigmoid index = (xQ12 >> 5) + 1024. */
export const TANH_INDEX_SHIFT = GATE_IN_FRAC_BITS - TANH_STEP_BITS; // 4
export const SIGMOID_INDEX_SHIFT = TANH_INDEX_SHIFT + 1; // 5: the sigmoid reads tanh at x/2
/**
 * Worst error of a lookup against float, in Q0.15 LSB: half a bucket times the largest
 * slope, plus the rounding of the entry (and of the sigmoid's halving).
 *   sigmoid: 2^-8 (half a bucket of x) * 1/4 * 2^15 + 1 = 33;   tanh: 2^-9 * 1 * 2^15 + 1/2 = 64.5
 * (past |x| = 4 the tanh error is 2^15 (1 - tanh(4 - 2^-9)) < 22).
 */
export const SIGMOID_TABLE_ERROR_LSB = 33;
export const TANH_TABLE_ERROR_LSB = 64.5;

function assertInt(v: number, limit: number, what: string): void {
  if (!Number.isInteger(v) || Math.abs(v) >= limit) {
    throw new Error(`fixed-point contract violated: ${what} = ${v} (limit ${limit})`);
  }
}

/**
 * Round half up, for float values at generation time and for readings on
 * the device: floor(v + 0.5). The single float-to-integer rounding rule.
 */
export function roundHalfUp(v: number): number {
  return Math.floor(v + 0.5);
}

/**
 * roundShift(v, s) = floor((v + 2^(s-1)) / 2^s)   (round half up)
 * Contract: v integer, |v| + 2^(s-1) < 2^31, s an integer in 1..31.
 * Emitted as `(v + HALF) >> s` with literal s and HALF = 2^(s-1).
 */
export function roundShift(v: number, s: number): number {
  if (!Number.isInteger(s) || s < 1 || s > 31) throw new Error(`shift ${s} outside 1..31`);
  assertInt(Math.abs(v) + 2 ** (s - 1), BITWISE_LIMIT, 'roundShift operand');
  return (v + 2 ** (s - 1)) >> s;
}

/** saturate(v, lo, hi) = min(max(v, lo), hi), by comparisons only. */
export function saturate(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export function saturateInt8(v: number): number {
  return saturate(v, INT8_MIN, INT8_MAX);
}

export function saturateInt16(v: number): number {
  return saturate(v, INT16_MIN, INT16_MAX);
}

/**
 * Build the tanh table: entry j = sat16(roundHalfUp(2^15 * tanh((j - 1024 + 1/2) / 2^8))).
 * Float work, done once at generation time; the table then travels inside the
 * quantized artifact, so no device ever calls exp() or tanh().
 */
export function buildTanhTable(): Int16Array {
  const table = new Int16Array(TABLE_ENTRIES);
  for (let j = 0; j < TABLE_ENTRIES; j++) {
    const x = (j - TABLE_CENTER + 0.5) / 2 ** TANH_STEP_BITS;
    table[j] = saturateInt16(roundHalfUp(Math.tanh(x) * 2 ** GATE_OUT_FRAC_BITS));
  }
  return table;
}

/**
 * tanhQ15(xQ12): tanh of a Q3.12 value, in Q0.15, by direct lookup:
 *   k = sat((x >> 4) + 1024, 0, 2047);  tanh(x) = T[k]
 * Contract: x integer, |x| < 2^31. Result in [-32767, 32767].
 */
export function tanhQ15(xQ12: number, tanhTable: Int16Array): number {
  assertInt(xQ12, BITWISE_LIMIT, 'tanh argument');
  const k = saturate((xQ12 >> TANH_INDEX_SHIFT) + TABLE_CENTER, 0, tanhTable.length - 1);
  return tanhTable[k];
}

/**
 * sigmoidQ15(xQ12): sigmoid of a Q3.12 value in int16 range, in Q0.15, from the tanh table:
 *   k = (x >> 5) + 1024   (in [0, 2047]: no clamp for |x| <= 2^15)
 *   sigma(x) = (T[k] + 2^15) >> 1          (sigma(x) = (1 + tanh(x/2)) / 2)
 * Contract: x integer in [-32768, 32767] (a saturated gate input). Result in [0, 32767].
 */
export function sigmoidQ15(xQ12: number, tanhTable: Int16Array): number {
  if (!Number.isInteger(xQ12) || xQ12 < INT16_MIN || xQ12 > INT16_MAX) {
    throw new Error(`fixed-point contract violated: sigmoid argument = ${xQ12} (int16 expected)`);
  }
  return (tanhTable[(xQ12 >> SIGMOID_INDEX_SHIFT) + TABLE_CENTER] + 32768) >> 1;
}

/**
 * cellToQ12(c, K): the cell state c in Q(K).(15-K) as a Q3.12 argument for tanh.
 *   K < 3: roundShift(c, 3 - K);  K = 3: c;  K > 3: c * 2^(K-3)
 * Contract: |c| <= 32768, 0 <= K <= 15. |result| < 2^28.
 */
export function cellToQ12(cQ: number, cellIntBits: number): number {
  if (cellIntBits < 3) return roundShift(cQ, 3 - cellIntBits);
  if (cellIntBits === 3) return cQ;
  return cQ * 2 ** (cellIntBits - 3);
}

export function inputAffine(mean: number, std: number, scale: number): { gain: number; offset: number } {
  const gain = 1 / (std * scale);
  return { gain, offset: -mean * gain };
}

/** y = acc * gain + offset, gain = accScale * std, offset = mean. */
export function outputAffine(accScale: number, std: number, mean: number): { gain: number; offset: number } {
  return { gain: accScale * std, offset: mean };
}
