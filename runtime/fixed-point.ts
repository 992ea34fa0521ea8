/**
 * The integer primitives of docs/NUMERICS.md, one definition each.
 * The simulator computes with these; the code generator emits ES5 text that
 * implements the same formulas (codegen/emit-primitives.ts) and the parity
 * tests prove the two agree bit for bit.
 *
 * Every function states its input contract and asserts it: a violated
 * contract is a bug in the bound proof (codegen/bounds.ts), never a user error.
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

/** Activation tables (NUMERICS.md §4). Table j holds f(j * 2^-stepBits) in Q0.15. */
export const SIGMOID_STEP_BITS = 5; // step 1/32 over [0, 8]
export const TANH_STEP_BITS = 6; // step 1/64 over [0, 8]
/** Input of the tables is Q3.12; index = |x| >> (12 - stepBits). */
export const SIGMOID_INDEX_SHIFT = GATE_IN_FRAC_BITS - SIGMOID_STEP_BITS; // 7
export const TANH_INDEX_SHIFT = GATE_IN_FRAC_BITS - TANH_STEP_BITS; // 6
export const TABLE_DOMAIN = 8; // tables cover |x| in [0, 8]
export const SIGMOID_TABLE_ENTRIES = TABLE_DOMAIN * 2 ** SIGMOID_STEP_BITS + 1; // 257
export const TANH_TABLE_ENTRIES = TABLE_DOMAIN * 2 ** TANH_STEP_BITS + 1; // 513

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
 * Build a Q0.15 table of f over [0, 8]: entry j = roundHalfUp(f(j / 2^stepBits) * 2^15),
 * clamped to 32767. Float work, done once at generation time; the tables
 * then travel inside the quantized artifact, so no device ever calls exp().
 */
export function buildTable(f: (x: number) => number, stepBits: number): Int16Array {
  const entries = TABLE_DOMAIN * 2 ** stepBits + 1;
  const table = new Int16Array(entries);
  for (let j = 0; j < entries; j++) {
    table[j] = saturateInt16(roundHalfUp(f(j / 2 ** stepBits) * 2 ** GATE_OUT_FRAC_BITS));
  }
  return table;
}

export function buildSigmoidTable(): Int16Array {
  return buildTable((x) => 1 / (1 + Math.exp(-x)), SIGMOID_STEP_BITS);
}

export function buildTanhTable(): Int16Array {
  return buildTable((x) => Math.tanh(x), TANH_STEP_BITS);
}

/**
 * Linear interpolation in a table for a non-negative argument:
 *   idx = a >> indexShift, frac = a - (idx << indexShift)
 *   y = T[idx] + roundShift((T[idx+1] - T[idx]) * frac, indexShift)
 * Past the last entry the last entry is returned (saturation).
 * Contract: 0 <= a < 2^31.
 */
export function tableLookup(table: Int16Array, a: number, indexShift: number): number {
  assertInt(a, BITWISE_LIMIT, 'table argument');
  if (a < 0) throw new Error(`table argument ${a} is negative`);
  const last = table.length - 1;
  const idx = a >> indexShift;
  if (idx >= last) return table[last];
  const frac = a - (idx << indexShift);
  return table[idx] + roundShift((table[idx + 1] - table[idx]) * frac, indexShift);
}

/**
 * sigmoidQ15(xQ12): sigmoid of a Q3.12 value, in Q0.15.
 *   x >= 0: T(x);   x < 0: 2^15 - T(-x)     (sigmoid(-x) = 1 - sigmoid(x))
 * Contract: |x| < 2^31. Result in [0, 32767].
 */
export function sigmoidQ15(xQ12: number, sigmoidTable: Int16Array): number {
  if (xQ12 >= 0) return tableLookup(sigmoidTable, xQ12, SIGMOID_INDEX_SHIFT);
  return 32768 - tableLookup(sigmoidTable, -xQ12, SIGMOID_INDEX_SHIFT);
}

/**
 * tanhQ15(xQ12): tanh of a Q3.12 value, in Q0.15.
 *   x >= 0: T(x);   x < 0: -T(-x)     (tanh is odd)
 * Contract: |x| < 2^31. Result in [-32767, 32767].
 */
export function tanhQ15(xQ12: number, tanhTable: Int16Array): number {
  if (xQ12 >= 0) return tableLookup(tanhTable, xQ12, TANH_INDEX_SHIFT);
  return -tableLookup(tanhTable, -xQ12, TANH_INDEX_SHIFT);
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
