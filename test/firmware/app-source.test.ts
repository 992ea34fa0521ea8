/**
 * The constant ES5 of the on-device app (firmware/es5/): each file parses as
 * ES5 as it stands and does what it says when run, over stand-ins for the
 * parts the emitter writes around it.
 */
import { describe, expect, it } from 'vitest';
import * as acorn from 'acorn';
import { appLines, appSource, type AppSource } from '../../firmware/app-source.ts';

const SOURCES: AppSource[] = ['lifecycle', 'feed', 'jerryscript-shell', 'espruino-stop', 'fixed'];

/** `prelude`, the filled source and `result` as the body of a function of `names`. */
function run(lines: string[], prelude: string, result: string, names: string[], values: unknown[]): unknown {
  return new Function(...names, `${prelude}\n${lines.join('\n')}\nreturn ${result};`)(...values);
}

/** A model that records the steps it is given and returns `output` from step(). */
function fakeModel(output: number) {
  const calls: string[] = [];
  return {
    calls,
    reset: () => calls.push('reset'),
    stepQ: (xq: Int8Array) => (calls.push(`stepQ ${Array.from(xq).join(' ')}`), Int32Array.from([xq[0]! + xq[1]!, xq[1]! * 2])),
    step: (x: Float64Array) => (calls.push(`step ${Array.from(x).join(' ')}`), Float64Array.from([output])),
    checksum: () => 1234,
  };
}

const STATS =
  'var stats = { samples: 0, steps: 0, bad: 0, badRun: 0, resets: 0, alerts: 0, run: 0, sq: 0, scored: 0, score: NaN, alerting: false, lastBad: false };';

describe('the constant ES5 of the on-device app', () => {
  it.each(SOURCES)('%s parses as ES5', (name) => {
    // a shell is the end of the app's function: it returns the API
    expect(() => acorn.parse(appSource(name), { ecmaVersion: 5, allowReturnOutsideFunction: true })).not.toThrow();
  });

  it('selfTest() steps the known inputs from a reset state and joins the last accumulator; verify() prefixes the checksum', () => {
    const model = fakeModel(0);
    const lines = appLines('lifecycle', { lines: { CLEAR_RING: [] }, words: { SELF_TEST_STEPS: '2', KNOWN_INPUTS: '1, 2, 3, 4' } });
    const got = run(lines, `var NI = 2; ${STATS}`, '[verify(), SELF]', ['model'], [model]) as string[];
    expect(model.calls).toEqual(['reset', 'stepQ 1 2', 'stepQ 3 4', 'reset']);
    expect(got).toEqual(['1234 7,8', '7,8']);
  });

  it('reset() clears the run and the alert and counts a reset', () => {
    const model = fakeModel(0);
    const lines = appLines('lifecycle', { lines: { CLEAR_RING: ['ring = 0;'] }, words: { SELF_TEST_STEPS: '1', KNOWN_INPUTS: '0, 0' } });
    const prelude = `var NI = 2, ring = 5; ${STATS} stats.run = 9; stats.badRun = 2; stats.alerting = true; stats.score = 1;`;
    const got = run(
      lines,
      prelude,
      '(reset(), [stats.run, stats.badRun, stats.alerting, stats.score, stats.resets, ring])',
      ['model'],
      [model],
    );
    expect(got).toEqual([0, 0, false, NaN, 1, 0]);
  });

  it('feed(x) skips a bad reading, resets after MAXBAD in a row, steps on a good one, and alerts once as the score rises above ALERT', () => {
    const model = fakeModel(0.7);
    const lines = appLines('feed', { lines: { BREAK_RING: [], SCORE_BEFORE_STEP: [], SCORE_AFTER_STEP: ['s = YL[0];'] } });
    const prelude = [
      'var NI = 2, NO = 1, MAXBAD = 2, ALERT = 0.5, LO = [0, -1], HI = [10, 1], X = new Float64Array(2), YL = new Float64Array(1), alerts = [];',
      STATS,
      'function reset() { stats.resets++; stats.badRun = 0; }',
      'function alert(s) { alerts.push(s); }',
    ].join('\n');
    const script = `[feed([11, 0]), feed([5, "x"]), stats.resets, feed([5, NaN]), feed([5, 0.5]), feed([6, 0.25]), stats.bad, stats.steps, stats.alerts, alerts.length, stats.alerting, stats.lastBad]`;
    expect(run(lines, prelude, script, ['model'], [model])).toEqual([false, false, 1, false, true, true, 3, 2, 1, 1, true, false]);
    expect(model.calls).toEqual(['step 5 0.5', 'step 6 0.25']);
    // A Number object is its value (as on Espruino, which has none); true or a numeric string is a bad reading.
    const boxed = fakeModel(0.1);
    const mixed = `[feed([new Number(5), 0.5]), feed([true, 0.5]), feed(["5", 0.5]), stats.bad, stats.steps]`;
    expect(run(lines, prelude, mixed, ['model'], [boxed])).toEqual([true, false, false, 2, 1]);
    expect(boxed.calls).toEqual(['step 5 0.5']);
  });

  it('the JerryScript shell returns the same result object on every call, and reports an alert to onAlert', () => {
    const lines = appLines('jerryscript-shell', { lines: { CLASS_INDEX: [] } });
    // feed(x) as the app's: the score is x[0], an alert starts above 1
    const prelude = `var YL = new Float64Array(1), model = {}; ${STATS} function reset() {} function verify() {}
      function feed(x) { stats.score = x[0]; stats.alerting = x[0] > 1; if (stats.alerting) alert(x[0]); return x[0] === x[0]; }`;
    const api = new Function(`${prelude}\n${lines.join('\n')}`)() as {
      feed: (x: number[]) => { stepped: boolean; score: number; alert: boolean };
      onAlert?: (s: number, outputs: Float64Array) => void;
    };
    const first = api.feed([0.5]);
    expect([first.stepped, first.score, first.alert]).toEqual([true, 0.5, false]);
    expect(api.feed([NaN])).toBe(first);
    expect(first.stepped).toBe(false);
    const heard: number[] = [];
    api.onAlert = (s) => heard.push(s);
    expect(api.feed([3]).alert).toBe(true);
    expect(heard).toEqual([3]);
  });

  it('stop() clears the timer and the button watch, and the Espruino API is returned', () => {
    const cleared: string[] = [];
    const lines = appLines('espruino-stop');
    const prelude = `var timer = 7, watch = 9, api, YL = [], model = {}, stats = {}; function start() {} function reset() {} function feed() {} function sample() {} function verify() {}`;
    const api = run(
      lines.slice(0, -1),
      prelude,
      '(stop(), [api, timer, watch])',
      ['clearInterval', 'clearWatch'],
      [(t: number) => cleared.push(`interval ${t}`), (w: number) => cleared.push(`watch ${w}`)],
    ) as [Record<string, unknown>, unknown, unknown];
    expect(cleared).toEqual(['interval 7', 'watch 9']);
    expect([api[1], api[2]]).toEqual([undefined, undefined]);
    expect(Object.keys(api[0])).toEqual(['start', 'stop', 'reset', 'feed', 'sample', 'verify', 'stats', 'outputs', 'model', 'onAlert']);
  });
});
