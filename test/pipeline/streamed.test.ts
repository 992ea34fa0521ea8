/**
 * What the device delivers is what the tool reports: the streamed int8 figure
 * `demo` prints equals, to the printed digit (and to the bit in --json), the
 * RMSE the bundled app computes itself (stats.sq, stats.scored) when each test
 * series is replayed through it from power-on, one reading per sample; and the
 * report shows it against persistence and the seasonal baseline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';
import { BOARD_PRELUDE, fakeReader, parseSamples, sampleDriver } from '../helpers/app-driver.ts';
import { dailyCycleCsv, testSeriesOf } from '../helpers/series.ts';
import { engineByName } from '../../parity/engines.ts';
import { fmt } from '../../cli/common.ts';

const vm = engineByName('vm')!;
const hexDouble = (h: string) => Buffer.from(h, 'hex').readDoubleLE(0);

/** The bundled app (default options) fed each series from power-on; the RMSE from its own sums. */
async function deviceRmse(out: string, series: number[][][], outputs: number): Promise<{ rmse: number; scored: number }> {
  let sq = 0;
  let scored = 0;
  for (const [k, readings] of series.entries()) {
    const reader = path.join(out, `reader-${k}.js`);
    fs.writeFileSync(reader, fakeReader(readings));
    const app = path.join(out, `app-${k}.js`);
    const b = await runCli(['bundle', '--model', out, '--source', 'function', '--reader', reader, '--out', app], out);
    expect(b.code, b.stderr).toBe(0);
    const run = parseSamples(await vm.run(BOARD_PRELUDE + fs.readFileSync(app, 'utf8') + sampleDriver('lstmApp', readings.length)));
    expect(run.samples).toHaveLength(readings.length);
    const last = run.samples.at(-1)!;
    sq += hexDouble(last.sq);
    scored += last.scored;
  }
  return { rmse: Math.sqrt(sq / (scored * outputs)), scored };
}

/** The number printed after "<label> ... int8 " on a line of stdout. */
function printed(stdout: string, label: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(label));
  expect(line, `a line starting with ${label}`).toBeDefined();
  return /int8 (\S+)/.exec(line!)![1]!;
}

describe('the streamed figure is the bundled app’s own', () => {
  it('a daily cycle with drift and noise: the figure, persistence and the seasonal baseline (period 24 found)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-streamed-'));
    const csv = path.join(dir, 'daily.csv');
    fs.writeFileSync(csv, dailyCycleCsv(2400, 5));
    const out = path.join(dir, 'out');
    const r = await runCli(
      ['demo', '--data', csv, '--features', 'temperature', '--target', 'temperature', '--epochs', '6', '--out', out, '--json', '--quiet'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const s = r.lastJson().streamed;
    const device = await deviceRmse(out, testSeriesOf(csv, ['temperature']), 1);
    expect(device.scored).toBe(s.points);
    expect(device.rmse).toBe(s.int8);
    expect(printed(r.stdout, 'streamed ')).toBe(fmt(device.rmse));
    // The bar it must clear, on the same points: persistence and the same hour yesterday.
    expect(s.season).toEqual({ period: 24, source: 'autocorrelation' });
    expect(s.baselines.map((b: { name: string }) => b.name)).toEqual(['persistence', 'seasonal naive (period 24, by autocorrelation)']);
    const baselines = r.stdout.split('\n').find((l) => l.startsWith('baselines'))!;
    expect(baselines).toMatch(/persistence \S+, seasonal naive \(period 24, by autocorrelation\) \S+: the model (beats|does NOT beat)/);
    // The verdict is the numbers' own: beats iff the int8 figure is below every baseline.
    expect(s.beats).toBe(s.baselines.every((b: { value: number }) => s.int8 < b.value));
  }, 600_000);

  it('a model deployed as a window (--deploy window): the bundle runs the last 24 readings at every reading and delivers the figure printed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-streamed-window-'));
    const csv = path.join(dir, 'daily.csv');
    fs.writeFileSync(csv, dailyCycleCsv(1600, 8));
    const out = path.join(dir, 'out');
    const r = await runCli(
      [
        'demo',
        '--data',
        csv,
        '--features',
        'temperature',
        '--target',
        'temperature',
        '--epochs',
        '3',
        '--deploy',
        'window',
        '--out',
        out,
        '--json',
        '--quiet',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = r.lastJson();
    expect(summary.deployment).toMatchObject({ deployment: 'window', reason: 'asked', stepsPerReading: 24 });
    expect(summary.parity.mismatches).toBe(0);
    const s = summary.streamed;
    expect(s.deployment).toBe('window');
    const device = await deviceRmse(out, testSeriesOf(csv, ['temperature']), 1);
    expect(device.scored).toBe(s.points);
    expect(device.rmse).toBe(s.int8);
    expect(printed(r.stdout, 'streamed ')).toBe(fmt(device.rmse));
    // The same integers streamed are reported beside it, at the same points.
    expect(s.otherDeployment.deployment).toBe('stream');
  }, 600_000);

  it('the demo on the built-in data: four motes, each streamed from its own power-on', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-streamed-demo-'));
    const r = await runCli(['demo', '--epochs', '3', '--out', out, '--json', '--quiet'], os.tmpdir());
    expect(r.code, r.stderr).toBe(0);
    const summary = r.lastJson();
    const s = summary.streamed;
    expect(s.series).toBe(4);
    const device = await deviceRmse(out, testSeriesOf(summary.data.path, ['humidity', 'temperature'], 'mote_id'), 1);
    expect(device.scored).toBe(s.points);
    expect(device.rmse).toBe(s.int8);
    expect(printed(r.stdout, 'streamed ')).toBe(fmt(device.rmse));
    expect(r.stdout).toMatch(/^baselines +persistence \S+/m);
  }, 600_000);
});
