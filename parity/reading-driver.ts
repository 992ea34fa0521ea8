/**
 * Parity of the real-valued API: `step(x)` on readings (including NaN,
 * undefined, ±Infinity and values on rounding boundaries) must give the same
 * outputs, bit for bit, and the same state in the simulator and in the
 * generated code on every engine. Readings travel to the engine and outputs
 * come back as number tokens (parity/number-tokens.ts: exact integer parts),
 * so no engine's decimal parsing or printing is involved, nor its
 * Float64Array (the Bangle.js 2 emulator's does not hold a double).
 */
import { Simulator } from '../reference/simulator.ts';
import { NUMBER_TOKEN_ES5, numberToken, TOKEN_VALUE_ES5 } from './number-tokens.ts';
import type { QuantizedModel } from '../core/model.ts';

export type Reading = number | undefined;
/** Segments of steps of readings; the state is reset before each segment. */
export type ReadingSegments = Reading[][][];

export interface ReadingStep {
  segment: number;
  t: number;
  /** Each output as its number token ("nan" for NaN); +0 for -0. */
  y: string[];
  h: number[];
  c: number[];
}

/** An output as the driver prints it: its number token, +0 for -0. */
export function encodeDouble(v: number): string {
  return numberToken(v === 0 ? 0 : v);
}

const encodeReading = (v: Reading) => (v === undefined ? 'u' : numberToken(v));

/**
 * ES5 text: dec(token) and enc(v), a double from / to its number token ("u" is
 * undefined; enc writes +0 for -0, as encodeDouble), and join(a, g), the
 * elements of `a` (each through g) joined by commas.
 */
export const DOUBLE_CODEC_ES5 = `  ${TOKEN_VALUE_ES5}
  ${NUMBER_TOKEN_ES5}
  function dec(h) { return h === "u" ? undefined : tokenValue(h); }
  function enc(v) { return numberToken(v === 0 ? 0 : v); }
  function join(a, g) { var s = "", i; for (i = 0; i < a.length; i++) s += (i ? "," : "") + (g ? g(a[i]) : a[i]); return s; }`;

export function readingDriverSource(globalName: string, segments: ReadingSegments): string {
  if (globalName === 'drivenModel') throw new Error('the driver uses the name drivenModel itself; pick another global name');
  const encoded = segments.map((steps) => steps.map((x) => x.map(encodeReading)));
  return `
(function () {
  var drivenModel = ${globalName};
  var segs = ${JSON.stringify(encoded)};
  var out = typeof print === "function" ? print : function (s) { console.log(s); };
${DOUBLE_CODEC_ES5}
  var s, t, i, x, y;
  for (s = 0; s < segs.length; s++) {
    drivenModel.reset();
    for (t = 0; t < segs[s].length; t++) {
      x = [];
      for (i = 0; i < segs[s][t].length; i++) x.push(dec(segs[s][t][i]));
      y = drivenModel.step(x);
      out("R " + s + " " + t + " " + join(y, enc) + " " + join(drivenModel.state.h) + " " + join(drivenModel.state.c));
    }
  }
  out("END");
})();
`;
}

export function parseReadingTrace(lines: string[], engine: string): ReadingStep[] {
  const steps: ReadingStep[] = [];
  // A cell without cell state prints an empty last field (lost to trim()).
  const nums = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(',').map(Number));
  if (!lines.some((l) => l.trim() === 'END'))
    throw new Error(`${engine}: the reading driver did not finish (${lines.slice(-3).join(' | ')})`);
  for (const line of lines) {
    if (!line.startsWith('R ')) continue;
    const [, seg, t, y, h, c] = line.trim().split(' ');
    steps.push({ segment: Number(seg), t: Number(t), y: y.split(','), h: nums(h), c: nums(c) });
  }
  return steps;
}

export function simulateReadings(q: QuantizedModel, segments: ReadingSegments): ReadingStep[] {
  const sim = new Simulator(q);
  const steps: ReadingStep[] = [];
  segments.forEach((seg, segment) => {
    sim.reset();
    seg.forEach((x, t) => {
      const y = sim.step(x as number[]);
      steps.push({ segment, t, y: Array.from(y, encodeDouble), h: Array.from(sim.state.hQ7), c: Array.from(sim.state.cellQ) });
    });
  });
  return steps;
}
