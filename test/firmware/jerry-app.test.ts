/**
 * The board app host firmware/jerryscript/lstm_app.c, built by scripts/build-jerry-host.sh --app with the
 * system cc against JerryScript 3.0, with the kernel (LSTM_APP_NATIVE: lstmNativeStep) and without it:
 * - a bundle from `lstm-mcu bundle --engine jerryscript --native host` steps in C in the native build
 *   (info.native "host") and in JavaScript in the other; `--native off` steps in JavaScript in both;
 * - fed the same readings on stdin (bad ones among them, runs of them that reset the model), every build
 *   prints verify() as the bundle said, and sample lines equal line for line, each equal to the app's
 *   rules on the host (firmware/app-replay.ts on the simulator, with the options the command read).
 * Skipped, with the reason, where the JerryScript folder or cc is missing; on CI a missing one fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeQuantizedModel, writeArtifact } from '../../core/artifact.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { appInputs } from '../../cli/app-options.ts';
import { AppReplay } from '../../firmware/app-replay.ts';
import { Simulator } from '../../reference/simulator.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { buildNativeContext } from '../../native/context.ts';
import { buildJerryApp, jerryHostMissing, type JerryApp } from '../../parity/jerry-host.ts';
import { runCli } from '../helpers/run-cli.ts';

const missing = jerryHostMissing();
if (missing) console.log(`JerryScript app host: skipped: ${missing}`);

/** A 3-input LSTM forecasting its input x1 two steps ahead (so the app scores and can alert). */
function forecastModel(): QuantizedModel {
  const q = randomQuantizedModel({ seed: 7, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1 });
  return { ...q, targetNames: ['x1'], horizon: 2, window: 5 };
}

/** The app options both the command and the host's replay read. */
const APP_FLAGS = ['--max-bad', '3', '--warmup', '2', '--alert-above', '0.5'];

/** Readings around the training means, with a NaN, a missing reading, one out of range, and a run of bad ones. */
function readings(q: QuantizedModel, n: number): number[][] {
  const { mean, std } = q.inputNorm;
  return Array.from({ length: n }, (_, t) => {
    const r = mean.map((m, i) => m + std[i]! * Math.sin(t * 0.7 + i) * 1.5);
    if (t === 5) r[0] = NaN;
    if (t === 9) r.pop(); // the line has one reading too few
    if (t === 12) r[2] = mean[2]! + 100 * std[2]!;
    if (t >= 20 && t < 24) r[0] = NaN; // --max-bad 3: the model is reset
    return r;
  });
}

/** One sample line of lstm_app's main: its numbers as the hex of their IEEE-754 bytes (printed with %.17g: exact). */
interface AppLine {
  stepped: number;
  output: string;
  score: string;
  alert: number;
}
const hex = (v: number) => Buffer.from(new Float64Array([v]).buffer).toString('hex');
/** A %.17g token: glibc writes NaN as nan or -nan (the sign of a NaN is not the app's). */
function printedNumber(token: string): number {
  if (/^-?nan$/.test(token)) return NaN;
  const v = Number(token.replace(/^(-?)inf$/, '$1Infinity'));
  if (Number.isNaN(v)) throw new Error(`not a number: ${token}`);
  return v;
}
function parseAppLine(line: string): AppLine {
  const m = /^stepped (-?\d+) output (\S+) score (\S+) alert (\d)$/.exec(line);
  if (!m) throw new Error(`not a sample line: ${line}`);
  return { stepped: +m[1]!, output: hex(printedNumber(m[2]!)), score: hex(printedNumber(m[3]!)), alert: +m[4]! };
}

/** What the app must print for these readings: its rules on the host around the simulator. */
function expectedLines(q: QuantizedModel, modelFile: string, feed: number[][]): AppLine[] {
  const { config } = appInputs({ model: modelFile, engine: 'jerryscript', maxBad: 3, warmup: 2, alertAbove: 0.5 });
  const app = new AppReplay(q, config, new Simulator(q));
  return feed.map((x) => {
    const stepped = app.feed(x) ? 1 : 0;
    return { stepped, output: hex(app.outputs[0]!), score: hex(app.stats.score), alert: app.stats.alerting ? 1 : 0 };
  });
}

/** lstm_app on a bundle, the readings one sample a line: verify(), the step path and the sample lines. */
function runApp(binary: string, bundle: string, feed: number[][]) {
  const r = spawnSync(binary, [bundle], {
    input: feed.map((x) => x.map(String).join(' ') + '\n').join(''),
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^verify /);
  expect(lines[1]).toMatch(/^native /);
  return { verify: lines[0]!.slice('verify '.length), native: lines[1]!.slice('native '.length), samples: lines.slice(2) };
}

it('has JerryScript 3.0 and a C compiler on CI', () => {
  if (process.env.CI) expect(missing).toBe('');
});

describe.skipIf(missing !== '')('the board app host lstm_app.c with and without lstmNativeStep (scripts/build-jerry-host.sh --app)', () => {
  const q = forecastModel();
  const feed = readings(q, 40);
  let app: JerryApp;
  let dir: string;
  let modelFile: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-jerry-app-test-'));
    modelFile = path.join(dir, 'model.q.pb');
    writeArtifact(modelFile, encodeQuantizedModel(q));
    app = buildJerryApp();
  }, 120_000);
  afterAll(() => {
    if (app) fs.rmSync(app.dir, { recursive: true, force: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** `lstm-mcu bundle --engine jerryscript --native <native>`: the bundle's path and what verify() must return. */
  async function bundle(native: 'host' | 'off') {
    const out = path.join(dir, `app-${native}.jerryscript.js`);
    const r = await runCli(
      ['bundle', '--model', modelFile, '--engine', 'jerryscript', '--native', native, ...APP_FLAGS, '--out', out, '--json'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const { checksum, selfTest } = r.lastJson().expected as { checksum: number; selfTest: number[] };
    return { out, verify: `${checksum} ${selfTest.join(',')}` };
  }

  it("steps in C with the kernel, in JavaScript without it; every build prints the same lines, the host replay's", async () => {
    const expected = expectedLines(q, modelFile, feed);
    // The readings exercise the app: bad samples, a reset after a run of them, scored and alerting samples.
    expect(expected.filter((l) => l.stepped === 0).length).toBe(7);
    expect(expected.some((l) => l.alert === 1)).toBe(true);
    expect(expected.some((l) => l.score !== hex(NaN))).toBe(true);
    const host = await bundle('host');
    const off = await bundle('off');
    const runs = [
      { binary: app.native, bundle: host, native: 'host' },
      { binary: app.js, bundle: host, native: 'js: the host has no lstmNativeStep function (firmware/jerryscript/HOST_API.md)' },
      { binary: app.native, bundle: off, native: 'js: the es5 target runs the JavaScript step' },
      { binary: app.js, bundle: off, native: 'js: the es5 target runs the JavaScript step' },
    ].map((r) => ({ ...r, got: runApp(r.binary, r.bundle.out, feed) }));
    for (const r of runs) {
      const label = `${path.basename(r.binary)} ${path.basename(r.bundle.out)}`;
      expect(r.got.native, label).toBe(r.native);
      expect(r.got.verify, label).toBe(r.bundle.verify);
      expect(r.got.samples, label).toEqual(runs[0]!.got.samples);
      expect(r.got.samples.map(parseAppLine), label).toEqual(expected);
    }
  }, 60_000);

  it("the native build steps through the kernel: a weight flipped in the context alone changes its lines, not the JavaScript build's", async () => {
    const host = await bundle('host');
    const code = fs.readFileSync(host.out, 'utf8');
    const literal = /var NATIVE_CONTEXT = "([A-Za-z0-9+/=]+)";/.exec(code);
    expect(literal).not.toBeNull();
    const context = buildNativeContext(q);
    const bytes = Buffer.from(literal![1]!, 'base64');
    expect(bytes.equals(Buffer.from(context.bytes))).toBe(true);
    bytes[context.plan.layers[0]!.weightsOff] ^= 0x40;
    const flipped = path.join(dir, 'app-flipped.jerryscript.js');
    fs.writeFileSync(flipped, code.replace(literal![0], `var NATIVE_CONTEXT = "${bytes.toString('base64')}";`));
    const expected = expectedLines(q, modelFile, feed);
    const native = runApp(app.native, flipped, feed);
    expect(native.native).toBe('host');
    expect(native.samples.map(parseAppLine)).not.toEqual(expected);
    expect(runApp(app.js, flipped, feed).samples.map(parseAppLine)).toEqual(expected);
  }, 60_000);
});

describe('bundle --native takes what the engine runs', () => {
  let dir: string;
  let modelFile: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-jerry-app-native-'));
    modelFile = path.join(dir, 'model.q.pb');
    writeArtifact(modelFile, encodeQuantizedModel(forecastModel()));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a --native the engine does not take, in one line, writing nothing', async () => {
    const out = path.join(dir, 'refused.js');
    const jerry = await runCli(['bundle', '--model', modelFile, '--engine', 'jerryscript', '--native', 'm4', '--out', out], dir);
    expect(jerry.code).not.toBe(0);
    expect(jerry.stderr.trim()).toMatch(/^[^\n]*--native m4 is not for --engine jerryscript: it takes off, host[^\n]*$/);
    const espruino = await runCli(['bundle', '--model', modelFile, '--native', 'host', '--out', out], dir);
    expect(espruino.code).not.toBe(0);
    expect(espruino.stderr.trim()).toMatch(/^[^\n]*--native host is not for --engine espruino: it takes auto, m4, m3, off[^\n]*$/);
    expect(fs.existsSync(out)).toBe(false);
  }, 60_000);

  it('says when the model cannot take the native step asked for (a clockwork layer), and bundles its JavaScript step', async () => {
    const clockwork = path.join(dir, 'clockwork.q.pb');
    const c = randomQuantizedModel({ seed: 3, inputSize: 1, units: 8, outputSize: 1, cell: 'clockwork' });
    writeArtifact(clockwork, encodeQuantizedModel({ ...c, targetNames: ['x0'] }));
    const out = path.join(dir, 'clockwork.js');
    const r = await runCli(['bundle', '--model', clockwork, '--engine', 'jerryscript', '--native', 'host', '--out', out], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe(
      'lstm-mcu bundle: --native host: the model takes the JavaScript step (js: clockwork layers run in JavaScript: the kernel has no step for them)',
    );
    expect(fs.readFileSync(out, 'utf8')).not.toContain('NATIVE_CONTEXT');
  }, 60_000);
});
