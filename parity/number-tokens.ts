/**
 * Doubles carried exactly between the host and an engine, as text, without typed arrays.
 *
 * A token is "+hi:lo:e" or "-hi:lo:e" for |v| = (hi · 2^26 + lo) · 2^e, with hi and lo integers
 * below 2^26 and e an integer; or "nan", "+inf", "-inf". Every step that builds or reads one —
 * integers below 2^53, doubling, halving, the split at 2^26 — is exact in IEEE-754 doubles, so a
 * value crosses unchanged on every engine. (Espruino parses decimal literals inexactly, and the
 * Bangle.js 2 emulator does not keep a double in a Float64Array, so neither decimal text nor
 * IEEE bytes through a typed array would do there.)
 */

/** 2^26: where m splits into two integers every engine parses and prints exactly. */
const HALF = 67108864;

/** v as a token, in its shortest form (m odd). */
export function numberToken(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  const sign = v < 0 || Object.is(v, -0) ? '-' : '+';
  if (!Number.isFinite(v)) return `${sign}inf`;
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, Math.abs(v));
  const biased = bits.getUint16(0) >> 4;
  const fraction = (bits.getUint32(0) & 0xfffff) * 2 ** 32 + bits.getUint32(4);
  // normal: m = 2^52 + fraction, e = biased - 1075; subnormal (biased 0): m = fraction, e = -1074
  let m = biased === 0 ? fraction : 2 ** 52 + fraction;
  let e = biased === 0 ? -1074 : biased - 1075;
  while (m !== 0 && m % 2 === 0) {
    m /= 2;
    e++;
  }
  return `${sign}${Math.floor(m / HALF)}:${m % HALF}:${m === 0 ? 0 : e}`;
}

/** The double a token stands for; a malformed token is an error. */
export function tokenNumber(token: string): number {
  if (token === 'nan') return NaN;
  const match = /^([+-])(?:(inf)|(\d+):(\d+):(-?\d+))$/.exec(token);
  if (!match) throw new Error(`not a number token: ${token}`);
  const negative = match[1] === '-';
  if (match[2]) return negative ? -Infinity : Infinity;
  let v = Number(match[3]) * HALF + Number(match[4]);
  // one doubling or halving at a time: each is exact, where a power of two 2^e alone may underflow
  for (let e = Number(match[5]); e !== 0; e += e > 0 ? -1 : 1) v = e > 0 ? v * 2 : v / 2;
  return negative ? -v : v;
}

/** ES5: tokenValue(token), the inverse of numberToken. */
export const TOKEN_VALUE_ES5 = `function tokenValue(h) {
  var c = h.charAt(0), p, v, e;
  if (h === "nan") return 0 / 0;
  if (h.substr(1) === "inf") return c === "-" ? -1 / 0 : 1 / 0;
  p = h.substr(1).split(":");
  v = parseInt(p[0], 10) * ${HALF} + parseInt(p[1], 10);
  e = parseInt(p[2], 10);
  for (; e > 0; e--) v *= 2;
  for (; e < 0; e++) v /= 2;
  // v / -1, not -v: Espruino negates an integer 0 to 0, not -0
  return c === "-" ? v / -1 : v;
}`;

/**
 * ES5: numberToken(v). |v| is halved while it is 2^53 or more (it is then an even integer) and
 * doubled while it has a fraction, so it ends an integer m below 2^53 with |v| = m · 2^e; then
 * halved while even, so the token is the host's (numberToken) for the same value.
 */
export const NUMBER_TOKEN_ES5 = `function numberToken(v) {
  var s = v < 0 || 1 / v < 0 ? "-" : "+", a = v < 0 ? -v : v, e = 0, hi;
  if (v !== v) return "nan";
  if (a === 1 / 0) return s + "inf";
  while (a >= ${HALF} * 134217728) { a /= 2; e++; }
  while (a !== Math.floor(a)) { a *= 2; e--; }
  // the shortest form, as the host writes it: m odd (or 0)
  while (a !== 0 && a % 2 === 0) { a /= 2; e++; }
  hi = Math.floor(a / ${HALF});
  return s + hi + ":" + (a - hi * ${HALF}) + ":" + e;
}`;
