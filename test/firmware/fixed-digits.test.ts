/**
 * fixed(v, d), the app's numbers as text (firmware/es5/fixed.js), gives on every engine the
 * string its host twin fixedDigits (core/format.ts) gives: random doubles, halves at the 4th
 * digit, negatives, tiny and huge values, NaN and the infinities, carried to the engine exactly
 * as number tokens (parity/number-tokens.ts).
 */
import { describe, expect, it } from 'vitest';
import { availableEngines } from '../../parity/engines.ts';
import { numberToken, TOKEN_VALUE_ES5 } from '../../parity/number-tokens.ts';
import { appSource } from '../../firmware/app-source.ts';
import { fixedDigits } from '../../core/format.ts';
import { mulberry32 } from '../../core/prng.ts';

/** The values tested, with the decimals each is printed with. */
function cases(count: number): { v: number; d: number }[] {
  const rand = mulberry32(2026);
  const out: { v: number; d: number }[] = [];
  const special = [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.005, 2.5e-5, -2.5e-5, 5e-5, 4.9999e-5, 1e-300, -5e-324];
  for (const v of special) for (const d of [0, 3, 4]) out.push({ v, d });
  // huge: around where n = |v|·10^4 reaches 2^53, and past it
  for (const v of [9.007199254740991e11, 9.007199254740992e11, 9.0072e11, -1e12, 1.7976931348623157e308]) out.push({ v, d: 4 });
  for (const v of [2147483647, 2147483648, 4294967296.5, 1e15 + 0.5, -(2 ** 52) - 0.5]) out.push({ v, d: 0 });
  for (let i = 0; out.length < count; i++) {
    const k = Math.floor(rand() * 2e6) - 1e6;
    // a half at the 4th digit, as the scaled decimal literal gives it; a random double of 1 to 9 integer digits
    out.push({ v: (k + 0.5) / 1e4, d: 4 });
    out.push({ v: (rand() - 0.5) * 10 ** Math.floor(rand() * 10), d: i % 5 === 0 ? 3 : 4 });
    out.push({ v: (rand() - 0.5) * 10 ** -Math.floor(rand() * 8), d: 4 });
  }
  return out.slice(0, count);
}

/** ES5 that prints fixed(v, d) of each case on its own line, then END. */
function program(list: { v: number; d: number }[]): string {
  const tokens = list.map((c) => `${numberToken(c.v)} ${c.d}`).join(',');
  return [
    TOKEN_VALUE_ES5,
    appSource('fixed'),
    'var out = typeof print === "function" ? print : function (s) { console.log(s); };',
    `var T = "${tokens}".split(","), i, p;`,
    'for (i = 0; i < T.length; i++) { p = T[i].split(" "); out("F " + fixed(tokenValue(p[0]), parseInt(p[1], 10))); }',
    'out("END");',
    '',
  ].join('\n');
}

describe('fixed(v, d): the same text on every engine as its host twin', () => {
  const { engines } = availableEngines(true);

  it('the host twin: digits by integer steps, halves away from zero, NaN, ±Infinity, big', () => {
    expect(fixedDigits(0.1234, 4)).toBe('0.1234');
    expect(fixedDigits(-0.00001, 4)).toBe('-0.0000');
    expect(fixedDigits(-0, 4)).toBe('0.0000');
    expect(fixedDigits(9.99995, 4)).toBe('10.0000');
    expect(fixedDigits(2.5, 0)).toBe('3');
    expect(fixedDigits(-2.5, 0)).toBe('-3');
    expect(fixedDigits(0.0625, 3)).toBe('0.063');
    expect(fixedDigits(123, 3)).toBe('123.000');
    expect(fixedDigits(NaN, 4)).toBe('NaN');
    expect(fixedDigits(-Infinity, 4)).toBe('-Infinity');
    expect(fixedDigits(9.0072e11, 4)).toBe('big');
    expect(fixedDigits(-1e300, 0)).toBe('-big');
    // away from a tie at the 5th digit, the two agree with V8's toFixed (correctly rounded)
    const rand = mulberry32(7);
    for (let i = 0; i < 10000; i++) {
      const v = (rand() - 0.5) * 1000;
      if (Math.abs(Math.abs((v * 1e4) % 1) - 0.5) > 1e-6) expect(fixedDigits(v, 4)).toBe(v.toFixed(4));
    }
  });

  it.each(engines.map((e) => [e.name, e] as const))(
    'on %s',
    async (_name, engine) => {
      const list = cases(engine.name === 'bangle2' ? 300 : 1500);
      const lines = (await engine.run(program(list))).filter((l) => l.startsWith('F '));
      expect(lines.map((l) => l.slice(2).trim())).toEqual(list.map((c) => fixedDigits(c.v, c.d)));
    },
    600_000,
  );
});
