/**
 * Parity of the real-valued API: `step(x)` on readings (including NaN,
 * undefined, ±Infinity and values on rounding boundaries) must give the same
 * outputs, bit for bit, and the same state in the simulator and in the
 * generated code on every engine. Readings travel to the engine and outputs
 * come back as IEEE-754 bytes, so no engine's number parsing or printing is
 * involved.
 */
import { Simulator } from '../reference/simulator.ts';
import type { QuantizedModel } from '../core/model.ts';

export type Reading = number | undefined;
/** Segments of steps of readings; the state is reset before each segment. */
export type ReadingSegments = Reading[][][];

export interface ReadingStep {
  segment: number;
  t: number;
  /** Each output as 16 hex digits of its IEEE-754 bytes (little-endian), "nan" for NaN; +0 for -0. */
  y: string[];
  h: number[];
  c: number[];
}

export function encodeDouble(v: number): string {
  if (v !== v) return 'nan';
  return Buffer.from(new Float64Array([v === 0 ? 0 : v]).buffer).toString('hex');
}

const encodeReading = (v: Reading) => (v === undefined ? 'u' : Buffer.from(new Float64Array([v]).buffer).toString('hex'));

/**
 * ES5 text: dec(hex) and enc(v), a double from / to the 16 hex digits of its
 * IEEE-754 bytes ("u" is undefined, "nan" NaN, as encodeDouble), and
 * join(a, g), the elements of `a` (each through g) joined by commas.
 */
export const DOUBLE_CODEC_ES5 = `  var f = new Float64Array(1), b = new Uint8Array(f.buffer);
  function dec(h) { var i; if (h === "u") return undefined; for (i = 0; i < 8; i++) b[i] = parseInt(h.substr(i * 2, 2), 16); return f[0]; }
  function enc(v) { var s = "", i; if (v !== v) return "nan"; f[0] = v === 0 ? 0 : v; for (i = 0; i < 8; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16); return s; }
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
