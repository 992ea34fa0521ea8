/**
 * The program an engine runs to replay a recording through the bundled app:
 * the board globals, a board's sensors answered from the recording, the
 * bundle, then one statement per recorded sample. Each statement puts the
 * sample's readings where the sensors read them, calls the app's own
 * sample() (read, feed, report: what its timer does on the board) and prints
 * one record of the app's state after it.
 *
 * One statement per sample: Espruino runs a program file from where it lies
 * and a watch runs each line as it is typed, so a long recording never has
 * to fit in an engine's memory at once. Readings go in and numbers come out
 * as number tokens (parity/number-tokens.ts): exact on every engine.
 */
import { NUMBER_TOKEN_ES5, TOKEN_VALUE_ES5, numberToken, tokenNumber } from '../parity/number-tokens.ts';
import { FLOAT64_STANDIN_ES5 } from '../parity/watch-float64.ts';
import { BOARD_PRELUDE } from './board-prelude.ts';
import { stoppedOnLoad } from './watch-screen.ts';

/**
 * A board's sensors, answered from the recording: every sensor call takes the next readings of
 * the current sample, so the app's read() (its sources in feature order) gets the sample's
 * readings in feature order whatever its sources are. NRF.setAdvertising keeps the manufacturer
 * data as hex. A Bangle.js (the watch's firmware) keeps its own object, with these in it.
 * console.log prints as on a board: Espruino's own (its process.env names the board), elsewhere
 * through print (Node's vm has a console of its own that writes nowhere).
 */
const REPLAY_SENSORS_ES5 = `
if (!(typeof process !== "undefined" && process.env && process.env.BOARD)) console = { log: function (s) { print(s); } };
var replayState = { row: [], at: 0, adv: "" };
function replayNext() { var r = replayState; return r.at < r.row.length ? r.row[r.at++] : NaN; }
(function (next) {
  function xyz() { return { x: next(), y: next(), z: next() }; }
  if (typeof E === "undefined") E = {};
  E.getTemperature = function () { return next(); };
  if (typeof Puck === "undefined") Puck = {};
  Puck.accel = function () { return { acc: xyz() }; };
  Puck.mag = xyz;
  if (typeof Bangle !== "undefined") { Bangle.getAccel = xyz; Bangle.getCompass = xyz; Bangle.buzz = function () {}; Bangle.setCompassPower = function () {}; }
  if (typeof NRF === "undefined") NRF = {};
  NRF.setAdvertising = function (data, o) { var s = "", i, b = o.manufacturerData; for (i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16); replayState.adv = s; };
})(replayNext);
var analogRead = function (pin) { return replayNext(); };
`;

/** The --reader file in place of the user's with --source function: readSensor(out) reads the recording (the sensors above). */
export const REPLAY_READER = [
  '// lstm-mcu replay: the recording in place of the reader file',
  'function readSensor(out) { var i; for (i = 0; i < out.length; i++) out[i] = replayNext(); }',
].join('\n');

/** A line the driver prints starts with this; everything else between LOAD_MARK and END the board printed. */
const RECORD = '@@ ';
const VERIFY = '@@V ';
const LOAD_MARK = '@@load';

/**
 * The driver: replaySample("token,token,...") samples once and prints the record. Its work is
 * in a closure: a global is looked up through the context's object on Node's vm, slowly.
 */
function driverFunctions(appGlobal: string): string {
  return `
var REPLAY_OUT = typeof print === "function" ? print : function (s) { console.log(s); };
var replaySample = (function (r, out) {
  var app;
  ${NUMBER_TOKEN_ES5}
  ${TOKEN_VALUE_ES5}
  return function (h) {
    var p = h.split(","), i, st, y, s = "";
    if (app === undefined) app = ${appGlobal};
    st = app.stats; y = app.outputs;
    for (i = 0; i < p.length; i++) r.row[i] = tokenValue(p[i]);
    r.at = 0; r.adv = "";
    app.sample();
    for (i = 0; i < y.length; i++) s += (i ? "," : "") + numberToken(y[i]);
    out("${RECORD}" + st.samples + " " + st.steps + " " + st.bad + " " + st.resets + " " + st.alerts + " " + (st.lastBad ? 1 : 0) + " " + (st.alerting ? 1 : 0) + " " + numberToken(st.score) + " " + s + " " + (r.adv || "-"));
  };
})(replayState, REPLAY_OUT);
`;
}

export interface ReplayProgramOptions {
  appGlobal: string;
  /** The Storage file's writer, when the weights live in flash (it runs before the bundle, as flash uploads it first). */
  flashWriter?: string;
  /** The watch's firmware: its Float64Array replaced by an exact stand-in (parity/watch-float64.ts). */
  watch: boolean;
  /** The analog sources' pins: a board names each in a global; an engine without them gets its name. */
  pins: string[];
}

/** The whole program: `bundle` (the upload) sampled once per row of `rows` (one reading per model input; NaN for none). */
export function replayProgram(bundle: string, rows: ArrayLike<number>[], o: ReplayProgramOptions): string {
  const print = 'typeof print === "function" ? print : function (s) { console.log(s); }';
  const parts = [
    o.watch ? FLOAT64_STANDIN_ES5 : '',
    BOARD_PRELUDE,
    REPLAY_SENSORS_ES5,
    ...o.pins.map((pin) => `if (typeof ${pin} === "undefined") ${pin} = "${pin}";`),
    driverFunctions(o.appGlobal),
    `(${print})("${LOAD_MARK}");`,
    o.flashWriter ?? '',
    // the app starts its timer as it loads: stopped on the same line, so only the driver samples
    stoppedOnLoad(bundle, o.appGlobal),
    `REPLAY_OUT("${VERIFY}" + ${o.appGlobal}.verify());`,
  ];
  const samples = Array.from(rows, (r) => `replaySample("${Array.from(r, numberToken).join(',')}");`);
  return `${parts.join('\n')}\n${samples.join('\n')}\nREPLAY_OUT("END");\n`;
}

/** The app's state after one sample, as the driver printed it. */
export interface AppRecord {
  samples: number;
  steps: number;
  bad: number;
  resets: number;
  alerts: number;
  lastBad: boolean;
  alerting: boolean;
  score: number;
  outputs: number[];
  /** Manufacturer data of the advertisement this sample made (hex), if it made one. */
  advertising?: string;
}

export interface ReplayOutput {
  verify: string;
  /** What the board printed, line by line. */
  log: string[];
  records: AppRecord[];
}

/** Is this line one of the driver's per-sample records? */
export const isRecordLine = (line: string) => line.startsWith(RECORD);

/** The engine's lines -> the board's log, verify() and one record per sample. */
export function parseReplayOutput(lines: string[]): ReplayOutput {
  const start = lines.findIndex((l) => l.trim() === LOAD_MARK);
  const end = lines.findIndex((l) => l.trim() === 'END');
  if (start < 0 || end < 0) throw new Error(`the replay did not finish: ${lines.slice(-3).join(' | ')}`);
  const log: string[] = [];
  const records: AppRecord[] = [];
  let verify = '';
  for (const raw of lines.slice(start + 1, end)) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith(VERIFY)) verify = line.slice(VERIFY.length).trim();
    else if (isRecordLine(line)) records.push(parseRecord(line.slice(RECORD.length).trim()));
    else log.push(line);
  }
  return { verify, log, records };
}

function parseRecord(text: string): AppRecord {
  const [samples, steps, bad, resets, alerts, lastBad, alerting, score, outputs, adv] = text.split(' ');
  return {
    samples: +samples!,
    steps: +steps!,
    bad: +bad!,
    resets: +resets!,
    alerts: +alerts!,
    lastBad: lastBad === '1',
    alerting: alerting === '1',
    score: tokenNumber(score!),
    outputs: outputs!.split(',').map(tokenNumber),
    ...(adv !== undefined && adv !== '-' ? { advertising: adv } : {}),
  };
}
