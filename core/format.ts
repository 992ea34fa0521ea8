/** Numbers and strings as the tool prints them (terminal lines, progress, messages, generated text). */

/** Human-readable number for summaries. */
/** Control characters (a NUL ends Espruino's reading of a line) and every line terminator; not tab. */
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/g;

/** `s` on one visible line: each control character and line terminator as its \uXXXX escape. */
export const escapeControls = (s: string): string => s.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : String(v);
}

/** 2^53: from here a double's integers are no longer every integer. */
const EXACT_INTEGERS = 9007199254740992;

/**
 * `v` with `digits` decimals (0..15) as the on-device app prints it: the host's twin of
 * `fixed(v, d)` in firmware/es5/fixed.js, step for step, so the same text on every engine.
 * n = floor(|v|·10^d + 0.5) (half away from zero, each operation rounded once in doubles), its
 * digits by q = floor(n/10), r = n − 10q; "big" (−big) where n reaches 2^53; NaN and ±Infinity
 * as themselves; "-" when v < 0. It can differ from toFixed, which rounds the exact binary value.
 */
export function fixedDigits(v: number, digits: number): string {
  const negative = v < 0;
  const a = negative ? -v : v;
  if (Number.isNaN(v)) return 'NaN';
  if (a === Infinity) return negative ? '-Infinity' : 'Infinity';
  let scale = 1;
  for (let i = 0; i < digits; i++) scale *= 10;
  let n = Math.floor(a * scale + 0.5);
  if (n >= EXACT_INTEGERS) return negative ? '-big' : 'big';
  let s = '';
  for (let i = 0; i <= digits || n > 0; i++) {
    let q = Math.floor(n / 10);
    let r = n - 10 * q;
    if (r < 0) {
      q--;
      r += 10;
    }
    s = '0123456789'.charAt(r) + (i === digits && digits > 0 ? '.' : '') + s;
    n = q;
  }
  return (negative ? '-' : '') + s;
}
