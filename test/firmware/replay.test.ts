/**
 * replay (pipeline/replay.ts) runs the bundled app itself: over a recording
 * it gives, sample for sample and line for line, what the app test's own run
 * of the bundle gives (a fake reader and its driver); its alerts are the
 * ones the host's model of the app's rules (firmware/app-replay.ts)
 * predicts; the sensors it answers from the recording reach the model in
 * feature order, in the very upload bundle builds; and on the Linux Espruino
 * its data equal the vm's to the bit.
 */
import { describe, expect, it } from 'vitest';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { engineByName } from '../../parity/engines.ts';
import { buildBundle, type BundleOptions } from '../../firmware/bundle.ts';
import { parseSources, parseValidRanges, type AppConfig } from '../../firmware/app-config.ts';
import { Simulator } from '../../reference/simulator.ts';
import { replayApp, type ReplayResult } from '../../pipeline/replay.ts';
import { replayChartData } from '../../pipeline/replay-chart.ts';
import type { Recording } from '../../pipeline/replay-recording.ts';
import { BOARD_PRELUDE, fakeReader, parseSamples, referenceSamples, sampleDriver, type SampleLine } from '../helpers/app-driver.ts';

const vmE = engineByName('vm+E')!;
const espruino = engineByName('espruino');
const jerry = engineByName('jerry');
const watch = engineByName('bangle2');
const hex = (v: number | null) => Buffer.from(new Float64Array([v ?? NaN]).buffer).toString('hex');

/** A 3-input LSTM forecasting its input x1 two steps ahead (so it has a forecast error). */
function forecastModel(): QuantizedModel {
  const q = randomQuantizedModel({ seed: 7, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1 });
  return { ...q, targetNames: ['x1'], horizon: 2, window: 5 };
}

/** Readings around the training means, with a sensor's faults: NaN, out of range, a run of NaN (a reset). */
function readings(q: QuantizedModel, n: number): number[][] {
  const { mean, std } = q.inputNorm;
  return Array.from({ length: n }, (_, t) => {
    const r = mean.map((m, i) => m + std[i]! * Math.sin(t * 0.7 + i) * 1.5);
    if (t === 5) r[0] = NaN;
    if (t === 12) r[2] = mean[2]! + 100 * std[2]!;
    if (t >= 20 && t < 24) r[1] = NaN;
    return r;
  });
}

function options(q: QuantizedModel, over: Partial<AppConfig> = {}): BundleOptions {
  const config: AppConfig = {
    moduleName: 'lstm-model',
    sources: parseSources('function', q),
    reader: 'function readSensor(out) { I2C1.readFrom(0x1d, 6); }',
    intervalMs: 100,
    validRanges: parseValidRanges(undefined, q),
    maxBadRun: 3,
    warmup: 2,
    console: true,
    advertise: true,
    display: false,
    resetButton: true,
    alertAbove: 0.5,
    alertClass: 0,
    ...over,
  };
  return { shell: 'espruino', modelSha256: 'test', generatorVersion: 'test', config, minify: true, appGlobal: 'lstmApp' };
}

const recordingOf = (rows: number[][]): Recording => ({
  path: 'recording.csv',
  sha256: 'test',
  columns: ['x0', 'x1', 'x2'],
  rows: rows.map((r) => Float64Array.from(r)),
  time: { column: 'time', values: Float64Array.from(rows, (_, t) => 250 * t + 3) },
});

/** The app test's lines in the form of the replay's samples: outputs and score to the bit, and what each sample did. */
function asReplay(lines: SampleLine[]) {
  return lines.map((l, t) => ({
    outputs: l.outputs,
    score: l.score,
    alerting: l.alerting,
    bad: l.lastBad,
    stepped: l.steps > (t > 0 ? lines[t - 1]!.steps : 0),
    alert: l.alerts > (t > 0 ? lines[t - 1]!.alerts : 0),
  }));
}
const replayed = (r: ReplayResult) =>
  r.samples.map((s) => ({
    outputs: s.outputs.map(hex).join(','),
    score: hex(s.score),
    alerting: s.alerting,
    bad: s.bad,
    stepped: s.stepped,
    alert: s.alert,
  }));

/** console.log through print, as a board prints (Node's vm has a console that writes nowhere). */
const PRINTING_CONSOLE = 'console = { log: function (s) { print(s); } };\n';

describe('replay runs the bundled app over a recording', () => {
  const q = forecastModel();
  const rows = readings(q, 60);
  const o = options(q);

  it("gives, sample for sample and line for line, what the app test's run of the bundle gives", async () => {
    const { result, log } = await replayApp(q, o, recordingOf(rows), vmE);
    const bundle = await buildBundle(q, { ...o, config: { ...o.config, reader: fakeReader(rows) } });
    const lines = await vmE.run(PRINTING_CONSOLE + BOARD_PRELUDE + bundle.code + sampleDriver('lstmApp', rows.length));
    const test = parseSamples(lines);
    expect(replayed(result)).toEqual(asReplay(test.samples));
    expect(result.app.verify).toBe(test.verify);
    expect(log).toEqual(lines.filter((l) => l.startsWith('lstm-mcu ')));
    // what the test is about: bad readings, a reset by a run of them, alerts, advertising
    const last = test.samples.at(-1)!;
    expect([result.totals.bad, result.totals.resets, result.totals.steps]).toEqual([last.bad, last.resets, last.steps]);
    expect(result.totals.bad).toBe(6);
    expect(result.totals.resets).toBe(1);
    expect(result.alerts.length).toBeGreaterThan(1);
    expect(log.filter((l) => l.includes('ALERT'))).toHaveLength(result.alerts.length);
    expect(log[0]).toBe('lstm-mcu app started: x0, x1, x2 every 100 ms');
    expect(log).toHaveLength(1 + rows.length + result.alerts.length);
    expect(result.app.bundle.readerReplaced).toBe(true);
  });

  it('its alerts, scores and outputs are what firmware/app-replay.ts predicts', async () => {
    const { result } = await replayApp(q, o, recordingOf(rows), vmE);
    const predicted = referenceSamples(q, o.config, rows, { fed: 'reader' });
    expect(replayed(result)).toEqual(asReplay(predicted));
    const predictedAlerts = predicted.flatMap((l, t) =>
      l.alerts > (t > 0 ? predicted[t - 1]!.alerts : 0) ? [{ sample: t, score: l.score }] : [],
    );
    expect(predictedAlerts.length).toBeGreaterThan(1);
    expect(result.alerts.map((a) => ({ sample: a.sample, score: hex(a.score) }))).toEqual(predictedAlerts);
    // each alert at the recording's time of its sample
    expect(result.alerts.map((a) => a.time)).toEqual(predictedAlerts.map((a) => 250 * a.sample + 3));
  });

  it('each sample advertises [format 1, count, flags, score f32, output f32]', async () => {
    const { result } = await replayApp(q, o, recordingOf(rows), vmE);
    result.samples.forEach((s, t) => {
      const b = Buffer.from(s.advertising!, 'hex');
      expect(b.length).toBe(11);
      expect([b[0], b[1], b[2]]).toEqual([1, (t + 1) & 255, (s.alerting ? 1 : 0) | (s.bad ? 2 : 0) | (s.score === null ? 4 : 0)]);
      if (s.score !== null) expect(b.readFloatLE(3)).toBe(Math.fround(s.score));
      expect(b.readFloatLE(7)).toBe(Math.fround(s.outputs[0]!));
    });
  });

  it('the chart rows: readings, each forecast at the time it is for, scores and alerts', async () => {
    const { result } = await replayApp(q, o, recordingOf(rows), vmE);
    const chart = replayChartData(result);
    expect(chart.timeField).toBe('time');
    expect(chart.readings).toHaveLength(rows.length * 3 - 1 - 4); // the 5 NaN readings left out
    const stepped = result.samples.filter((s) => s.stepped && s.sample + 2 < rows.length);
    expect(chart.forecasts).toEqual(stepped.map((s) => ({ time: 250 * (s.sample + 2) + 3, series: 'forecast x1', value: s.outputs[0] })));
    expect(chart.alerts).toEqual(result.alerts);
    expect(chart.scores.length).toBe(result.samples.filter((s) => s.score !== null).length);
  });

  it.skipIf(!espruino)('on the Linux Espruino (ESPRUINO_BIN): the same data to the bit, the same log line for line', async () => {
    const vm = await replayApp(q, o, recordingOf(rows), vmE);
    const board = await replayApp(q, o, recordingOf(rows), espruino!);
    expect(JSON.stringify({ ...board.result, engine: '' })).toBe(JSON.stringify({ ...vm.result, engine: '' }));
    // the app prints its numbers with its own fixed(v, d), not the engine's toFixed: the same digits
    expect(board.log.length).toBeGreaterThan(rows.length);
    expect(board.log).toEqual(vm.log);
  });

  it.skipIf(!watch)('on the Bangle.js 2 firmware (BANGLE2_DIR): the same data to the bit, the same log line for line', async () => {
    const short = rows.slice(0, 30);
    const vm = await replayApp(q, o, recordingOf(short), vmE);
    const board = await replayApp(q, o, recordingOf(short), watch!);
    expect(JSON.stringify({ ...board.result, engine: '' })).toBe(JSON.stringify({ ...vm.result, engine: '' }));
    expect(board.log).toEqual(vm.log);
  });

  it.skipIf(!jerry)('on JerryScript (JERRY_BIN): the same data and the same log to the character', async () => {
    const vm = await replayApp(q, o, recordingOf(rows), vmE);
    const other = await replayApp(q, o, recordingOf(rows), jerry!);
    expect(JSON.stringify({ ...other.result, engine: '' })).toBe(JSON.stringify({ ...vm.result, engine: '' }));
    expect(other.log).toEqual(vm.log);
  });
});

describe("the board's sensors answered from the recording", () => {
  // 5 inputs: temperature, analog:D3, accel x/y/z
  const base = randomQuantizedModel({ seed: 21, inputSize: 5, units: 4, outputSize: 1, weightRange: 1, biasRange: 0.5 });
  const q: QuantizedModel = { ...base, inputNorm: { mean: new Array(5).fill(0), std: new Array(5).fill(10) } };
  const rows = Array.from({ length: 12 }, (_, t) => [20 + t / 8, 0.25 + t / 64, 1 + t, -2 + t / 2, 9.75]);
  const recording: Recording = { path: 'r.csv', sha256: 't', columns: q.featureNames, rows: rows.map((r) => Float64Array.from(r)) };
  const o = options(q, { sources: parseSources('temperature,analog:D3,accel', q), reader: undefined, alertAbove: undefined });
  const engines = [vmE, ...(espruino ? [espruino] : [])];

  it(`temperature, analogRead(D3) and the accelerometer reach the model in feature order, in the very upload (${engines.map((e) => e.name).join(', ')})`, async () => {
    const sim = new Simulator(q);
    sim.reset();
    const expected = rows.map((r) => Array.from(sim.step(r)).map(hex).join(','));
    const upload = await buildBundle(q, o);
    for (const engine of engines) {
      const { result } = await replayApp(q, o, recording, engine);
      expect(result.app.bundle.readerReplaced).toBe(false);
      expect(result.app.bundle.crc32).toBe(upload.crc32);
      expect(
        result.samples.map((s) => s.outputs.map(hex).join(',')),
        engine.name,
      ).toEqual(expected);
      expect(result.samples.map((s) => s.time)).toEqual(rows.map((_, t) => t));
    }
  });

  it('with the weights in flash (their Storage file written first, as flash does): the same outputs', async () => {
    const inRam = await replayApp(q, o, recording, vmE);
    const inFlash = await replayApp(q, { ...o, flash: {} }, recording, vmE);
    expect(inFlash.result.samples).toEqual(inRam.result.samples);
    expect(inFlash.result.app.bundle.crc32).not.toBe(inRam.result.app.bundle.crc32);
  });
});
