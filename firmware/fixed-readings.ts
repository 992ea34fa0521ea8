/**
 * Fixed readings as ES5 source: what a test or the watch's screenshot feeds the app in place of
 * a sensor, one sample per call of readSensor(out). Numbers travel as number tokens
 * (parity/number-tokens.ts), so they arrive exactly on every engine.
 */
import { numberToken, TOKEN_VALUE_ES5 } from '../parity/number-tokens.ts';

/** One reading per model input; undefined and strings are what a broken sensor driver may hand over. */
export type FixedReading = (number | undefined | string)[];

/** A reading's token: "u" undefined, "s:..." a string, else its number token. */
function readingToken(v: number | undefined | string): string {
  if (v === undefined) return 'u';
  if (typeof v === 'string') return `s:${v}`;
  return numberToken(v);
}

/** ES5: FEEDH (the readings' tokens) and feedSample(t), the readings of sample t as an array. */
export function readingsSource(readings: FixedReading[]): string {
  return [
    `var FEEDH = ${JSON.stringify(readings.map((r) => r.map(readingToken)))};`,
    TOKEN_VALUE_ES5,
    'function feedValue(h) {',
    '  if (h === "u") return undefined;',
    '  if (h.charAt(0) === "s") return h.substr(2);',
    '  return tokenValue(h);',
    '}',
    'function feedSample(t) { var r = [], i; for (i = 0; i < FEEDH[t].length; i++) r.push(feedValue(FEEDH[t][i])); return r; }',
  ].join('\n');
}

/** A --reader file that hands out `readings` one sample at a time (then NaN). */
export function fixedReader(readings: FixedReading[]): string {
  return [
    '// fixed readings, one sample per call',
    readingsSource(readings),
    'var FEEDI = 0;',
    'function readSensor(out) {',
    '  var r = FEEDI < FEEDH.length ? feedSample(FEEDI++) : undefined, i;',
    '  for (i = 0; i < out.length; i++) out[i] = r === undefined ? NaN : r[i];',
    '}',
  ].join('\n');
}
