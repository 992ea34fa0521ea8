/**
 * Run a bundle (model + app) on an engine against a fake sensor, and the
 * host's reference of what the app must do with the same readings.
 *
 * The prelude gives engines that are not Espruino the few board globals the
 * app uses (Modules, require, timers, setWatch, console); on Espruino the
 * real ones are used. The driver stops the app's timer and calls sample()
 * itself, once per reading, printing the app's counters and the exact bytes
 * of its outputs and score after each.
 */
import type { QuantizedModel } from '../../runtime/model.ts';
import { Simulator } from '../../runtime/simulator.ts';
import { scoreKind, type AppConfig } from '../../firmware/app-config.ts';

/** One fake reading per model input; undefined and strings are what a broken sensor driver may hand over. */
export type FakeReading = (number | undefined | string)[];

/**
 * The readings as ES5 source: numbers travel as their IEEE-754 bytes (Espruino parses decimal
 * literals inexactly), "u" is undefined, "s:..." a string.
 */
function feedSource(readings: FakeReading[]): string {
  const code = (v: number | undefined | string) =>
    v === undefined ? 'u' : typeof v === 'string' ? `s:${v}` : Buffer.from(new Float64Array([v]).buffer).toString('hex');
  return [
    `var FEEDH = ${JSON.stringify(readings.map((r) => r.map(code)))}, FEEDF = new Float64Array(1), FEEDB = new Uint8Array(FEEDF.buffer);`,
    'function feedValue(h) {',
    '  var i;',
    '  if (h === "u") return undefined;',
    '  if (h.charAt(0) === "s") return h.substr(2);',
    '  for (i = 0; i < 8; i++) FEEDB[i] = parseInt(h.substr(2 * i, 2), 16);',
    '  return FEEDF[0];',
    '}',
    'function feedSample(t) { var r = [], i; for (i = 0; i < FEEDH[t].length; i++) r.push(feedValue(FEEDH[t][i])); return r; }',
  ].join('\n');
}

/** A --reader file that hands out `readings` one sample at a time (then NaN). */
export function fakeReader(readings: FakeReading[]): string {
  return [
    '// test reader: fixed readings, one sample per call',
    feedSource(readings),
    'var FEEDI = 0;',
    'function readSensor(out) {',
    '  var r = FEEDI < FEEDH.length ? feedSample(FEEDI++) : undefined, i;',
    '  for (i = 0; i < out.length; i++) out[i] = r === undefined ? NaN : r[i];',
    '}',
  ].join('\n');
}

/** Board globals for engines that have none (guarded: Espruino keeps its own). */
export const BOARD_PRELUDE = `
if (typeof console === "undefined") console = { log: function (s) { print(s); } };
if (typeof Modules === "undefined") {
  Modules = (function () {
    var made = {}, cache = {};
    return {
      addCached: function (name, f) { made[name] = f; },
      load: function (name) {
        if (cache[name]) return cache[name];
        var saved = typeof exports === "undefined" ? undefined : exports;
        exports = {};
        made[name]();
        cache[name] = exports;
        exports = saved;
        return cache[name];
      }
    };
  })();
  require = function (name) { return Modules.load(name); };
}
if (typeof setInterval === "undefined") { setInterval = function () { return 1; }; clearInterval = function () {}; }
if (typeof setWatch === "undefined") { setWatch = function () { return 1; }; clearWatch = function () {}; }
`;

/** After the bundle: n samples, a reset() before sample `resetAt` (if given), one line each. */
export function sampleDriver(appGlobal: string, n: number, resetAt = -1, feedGlobal?: { readings: FakeReading[] }): string {
  const out = 'typeof print === "function" ? print : function (s) { console.log(s); }';
  return `
(function () {
  var app = ${appGlobal}, out = ${out};
  var F = new Float64Array(1), B = new Uint8Array(F.buffer);
  function hex(v) { var s = "", i; F[0] = v; for (i = 0; i < 8; i++) s += (B[i] < 16 ? "0" : "") + B[i].toString(16); return s; }
  function hexAll(a) { var s = "", i; for (i = 0; i < a.length; i++) s += (i ? "," : "") + hex(a[i]); return s; }
  ${feedGlobal ? feedSource(feedGlobal.readings) : ''}
  if (app.stop) app.stop();
  out("V " + app.verify());
  var t, st;
  for (t = 0; t < ${n}; t++) {
    if (t === ${resetAt}) app.reset();
    ${feedGlobal ? 'app.feed(feedSample(t));' : 'app.sample();'}
    st = app.stats;
    out("S " + st.samples + " " + st.steps + " " + st.bad + " " + st.resets + " " + st.alerts + " " + (st.lastBad ? 1 : 0) + " " + (st.alerting ? 1 : 0) + " " + hex(st.score) + " " + hexAll(app.outputs));
  }
  out("END");
})();
`;
}

export interface SampleLine {
  samples: number;
  steps: number;
  bad: number;
  resets: number;
  alerts: number;
  lastBad: boolean;
  alerting: boolean;
  /** Exact bytes, hex. */
  score: string;
  outputs: string;
}

export function parseSamples(lines: string[]): { verify: string; samples: SampleLine[] } {
  if (!lines.some((l) => l.trim() === 'END')) throw new Error(`the driver did not finish: ${lines.slice(-5).join(' | ')}`);
  const verify = lines.find((l) => l.startsWith('V '))!.slice(2).trim();
  const samples = lines
    .filter((l) => l.startsWith('S '))
    .map((l) => {
      const [, samples, steps, bad, resets, alerts, lastBad, alerting, score, outputs] = l.trim().split(' ');
      return { samples: +samples, steps: +steps, bad: +bad, resets: +resets, alerts: +alerts, lastBad: lastBad === '1', alerting: alerting === '1', score, outputs: outputs ?? '' };
    });
  return { verify, samples };
}

const hex = (v: number) => Buffer.from(new Float64Array([v]).buffer).toString('hex');

/** What the app must print for these readings: an independent reading of firmware/emit-app.ts' rules, on the simulator. */
export function referenceSamples(q: QuantizedModel, config: AppConfig, readings: FakeReading[], o: { resetAt?: number; fed: 'reader' | 'feed' }): SampleLine[] {
  const resetAt = o.resetAt ?? -1;
  const sim = new Simulator(q);
  const NO = q.head.outputSize;
  const score = scoreKind(q);
  const H = Math.max(q.horizon, 1);
  const ring: Float64Array[] = [];
  let outputs = new Float64Array(NO);
  const st = { samples: 0, steps: 0, bad: 0, badRun: 0, resets: 0, alerts: 0, lastBad: false, alerting: false, score: NaN };
  const clear = () => {
    sim.reset();
    ring.length = 0;
    st.badRun = 0;
    st.score = NaN;
    st.alerting = false;
  };
  const reset = () => {
    clear();
    st.resets++;
  };
  clear();
  const lines: SampleLine[] = [];
  readings.forEach((r, t) => {
    if (t === resetAt) reset();
    st.samples++;
    // The reader writes into a Float64Array (undefined -> NaN, "12" -> 12); feed(x) sees the values themselves.
    const x = r.map((v) => (o.fed === 'reader' ? Number(v) : typeof v === 'number' ? v : NaN));
    const ok = x.every((v, i) => v >= config.validRanges[i].lo && v <= config.validRanges[i].hi);
    if (!ok) {
      st.bad++;
      st.badRun++;
      st.lastBad = true;
      ring.length = 0;
      if (st.badRun >= config.maxBadRun) reset();
    } else {
      st.lastBad = false;
      st.badRun = 0;
      let s = NaN;
      if (score.kind === 'forecast-error' && q.horizon > 0 && ring.length >= H) {
        const old = ring[ring.length - H];
        s = Math.max(0, ...Array.from(old, (y, k) => Math.abs(y - x[score.targets[k]])));
      }
      outputs = Float64Array.from(sim.step(x));
      st.steps++;
      if (score.kind === 'forecast-error') {
        if (q.horizon === 0) s = Math.max(0, ...Array.from(outputs, (y, k) => Math.abs(y - x[score.targets[k]])));
        else ring.push(outputs);
      } else if (score.kind === 'probability') {
        const m = Math.max(...outputs);
        const e = Array.from(outputs, (y) => Math.exp(y - m));
        s = q.headActivation === 'sigmoid' ? (config.alertClass === 1 ? 1 / (1 + Math.exp(-outputs[0])) : 1 - 1 / (1 + Math.exp(-outputs[0]))) : e[config.alertClass] / e.reduce((a, b) => a + b, 0);
      }
      st.score = s;
      if (config.alertAbove !== undefined && s > config.alertAbove) {
        if (!st.alerting) {
          st.alerting = true;
          st.alerts++;
        }
      } else st.alerting = false;
    }
    lines.push({
      samples: st.samples,
      steps: st.steps,
      bad: st.bad,
      resets: st.resets,
      alerts: st.alerts,
      lastBad: st.lastBad,
      alerting: st.alerting,
      score: hex(st.score),
      outputs: Array.from(outputs, hex).join(','),
    });
  });
  return lines;
}
