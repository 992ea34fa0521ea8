// fixed(v, d): v with d decimals (0 <= d <= 15), the same text on every engine, unlike toFixed
// (Espruino's rounds its last digit otherwise than V8's and JerryScript's). Only steps exact and
// identical in IEEE-754 doubles: n = floor(|v| * 10^d + 0.5), half away from zero, a multiply and
// an add each rounded once; its digits by q = floor(n / 10), r = n - 10q (an integer below 2^53
// minus ten times another is exact; a rounded quotient can be one too high, so r < 0 steps q back).
// No % (an engine may compute it through a rounded quotient) and no number-to-string conversion.
// Where n would reach 2^53 its digits are no longer exact integers: the text is "big" (-big).
// NaN, Infinity and -Infinity are themselves; the sign is "-" when v < 0, as toFixed's is.
function fixed(v, d) {
  var neg = v < 0, a = neg ? -v : v, p = 1, n, q, r, s = "", i;
  if (v !== v) return "NaN";
  if (a === 1 / 0) return neg ? "-Infinity" : "Infinity";
  for (i = 0; i < d; i++) p *= 10;
  n = Math.floor(a * p + 0.5);
  if (n >= 9007199254740992) return neg ? "-big" : "big";
  // at least d + 1 digits: the units and d decimals
  for (i = 0; i <= d || n > 0; i++) {
    q = Math.floor(n / 10);
    r = n - 10 * q;
    if (r < 0) { q--; r += 10; }
    s = "0123456789".charAt(r) + (i === d && d > 0 ? "." : "") + s;
    n = q;
  }
  return (neg ? "-" : "") + s;
}
