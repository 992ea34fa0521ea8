/**
 * Run a bundle (model + app) on an engine against a fake sensor, and the
 * host's reference of what the app must do with the same readings.
 *
 * The prelude gives engines that are not Espruino the few board globals the
 * app uses (Modules, require, timers, setWatch, console); on Espruino the
 * real ones are used. The driver stops the app's timer and calls sample()
 * itself, once per reading, printing the app's counters and its outputs and
 * score after each, exactly (as number tokens: parity/number-tokens.ts; the
 * parsed lines hold their IEEE-754 bytes as hex).
 */
import type { QuantizedModel } from '../../core/model.ts';
import { Simulator } from '../../reference/simulator.ts';
import type { AppConfig } from '../../firmware/app-config.ts';
import { AppReplay } from '../../firmware/app-replay.ts';
import { fixedReader, readingsSource, type FixedReading } from '../../firmware/fixed-readings.ts';
import { NUMBER_TOKEN_ES5, tokenNumber } from '../../parity/number-tokens.ts';

/** One fake reading per model input (firmware/fixed-readings.ts: they reach every engine exactly). */
export type FakeReading = FixedReading;
export const fakeReader = fixedReader;

/** Board globals for engines that have none (firmware/board-prelude.ts). */
export { BOARD_PRELUDE } from '../../firmware/board-prelude.ts';

/** After the bundle: n samples, a reset() before sample `resetAt` (if given), one line each. */
export function sampleDriver(appGlobal: string, n: number, resetAt = -1, feedGlobal?: { readings: FakeReading[] }): string {
  const out = 'typeof print === "function" ? print : function (s) { console.log(s); }';
  return `
(function () {
  var app = ${appGlobal}, out = ${out};
  ${NUMBER_TOKEN_ES5}
  function tokens(a) { var s = "", i; for (i = 0; i < a.length; i++) s += (i ? "," : "") + numberToken(a[i]); return s; }
  ${feedGlobal ? readingsSource(feedGlobal.readings) : ''}
  if (app.stop) app.stop();
  out("V " + app.verify());
  var t, st;
  for (t = 0; t < ${n}; t++) {
    if (t === ${resetAt}) app.reset();
    ${feedGlobal ? 'app.feed(feedSample(t));' : 'app.sample();'}
    st = app.stats;
    out("S " + st.samples + " " + st.steps + " " + st.bad + " " + st.resets + " " + st.alerts + " " + (st.lastBad ? 1 : 0) + " " + (st.alerting ? 1 : 0) + " " + numberToken(st.score) + " " + tokens(app.outputs) + " " + numberToken(st.sq) + " " + st.scored + " " + st.run);
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
  /** stats.sq (exact bytes, hex) and stats.scored: the app's own squared forecast errors. */
  sq: string;
  scored: number;
  /** stats.run: steps since the last reset. */
  run: number;
}

export function parseSamples(lines: string[]): { verify: string; samples: SampleLine[] } {
  if (!lines.some((l) => l.trim() === 'END')) throw new Error(`the driver did not finish: ${lines.slice(-5).join(' | ')}`);
  const verify = lines
    .find((l) => l.startsWith('V '))!
    .slice(2)
    .trim();
  const samples = lines
    .filter((l) => l.startsWith('S '))
    .map((l) => {
      const [, samples, steps, bad, resets, alerts, lastBad, alerting, score, outputs, sq, scored, run] = l.trim().split(' ');
      return {
        samples: +samples,
        steps: +steps,
        bad: +bad,
        resets: +resets,
        alerts: +alerts,
        lastBad: lastBad === '1',
        alerting: alerting === '1',
        score: tokenHex(score),
        outputs: outputs!.split(',').map(tokenHex).join(','),
        sq: tokenHex(sq!),
        scored: +scored!,
        run: +run!,
      };
    });
  return { verify, samples };
}

/** A number token (parity/number-tokens.ts) as the hex of its IEEE-754 bytes. */
const tokenHex = (token: string) => hex(tokenNumber(token));
const hex = (v: number) => Buffer.from(new Float64Array([v]).buffer).toString('hex');

/** What the app must print for these readings: firmware/app-replay.ts (the app's rules written apart from the emitter) on the simulator. */
export function referenceSamples(
  q: QuantizedModel,
  config: AppConfig,
  readings: FakeReading[],
  o: { resetAt?: number; fed: 'reader' | 'feed' },
): SampleLine[] {
  const app = new AppReplay(q, config, new Simulator(q));
  return readings.map((r, t) => {
    if (t === o.resetAt) app.reset();
    // The reader writes into a Float64Array (undefined -> NaN, "12" -> 12); feed(x) sees the values themselves.
    app.feed(r.map((v) => (o.fed === 'reader' ? Number(v) : typeof v === 'number' ? v : NaN)));
    const st = app.stats;
    return {
      samples: st.samples,
      steps: st.steps,
      bad: st.bad,
      resets: st.resets,
      alerts: st.alerts,
      lastBad: st.lastBad,
      alerting: st.alerting,
      score: hex(st.score),
      outputs: Array.from(app.outputs, hex).join(','),
      sq: hex(st.sq),
      scored: st.scored,
      run: st.run,
    };
  });
}
