/**
 * lstm-mcu replay as a user meets it: the bundle options as for `bundle`
 * (the upload it runs is the one `bundle` writes), the three files beside
 * the model, and one-line errors with nothing written for a missing column,
 * a model / recording mismatch and bad options.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { encodeQuantizedModel, writeArtifact } from '../../core/artifact.ts';

let tmp = '';
let model = '';
const run = (args: string[]) => runCli(args, tmp);
const filesIn = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).sort();
/** Sources giving the model's three readings on a board. */
const SOURCES = ['--source', 'temperature,analog:D3,analog:D4'];

/** A recording as `record` writes it: time (ms), the features, a label; one missing cell. */
function writeRecording(file: string, header = 'time,x0,x1,x2,label'): void {
  const rows = [header];
  for (let t = 0; t < 80; t++) {
    const x = [0, 1, 2].map((i) => (Math.sin(t * 0.3 + i) * 2 + i).toFixed(4));
    if (t === 7) x[1] = '';
    rows.push(`${1000 + 250 * t},${x.join(',')},idle`);
  }
  fs.writeFileSync(file, rows.join('\n') + '\n');
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-replay-'));
  const base = randomQuantizedModel({ seed: 7, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1 });
  fs.mkdirSync(path.join(tmp, 'out'));
  model = path.join(tmp, 'out', 'model.q.pb');
  writeArtifact(model, encodeQuantizedModel({ ...base, targetNames: ['x1'], horizon: 2, window: 5 }));
  writeRecording(path.join(tmp, 'recording.csv'));
  writeRecording(path.join(tmp, 'renamed.csv'), 'time,a,b,c,label');
  fs.writeFileSync(path.join(tmp, 'two.csv'), 'time,x0,x1\n0,1.5,2\n250,1.25,2.5\n');
});

describe('lstm-mcu replay', () => {
  it('writes replay.log, replay-alerts.csv, replay.json and replay.html beside the model, running the upload bundle writes', async () => {
    const r = await run(['replay', '--model', 'out', '--data', 'recording.csv', ...SOURCES, '--alert-above', '0.05', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = r.lastJson();
    expect(summary).toMatchObject({ command: 'replay', engine: 'vm+E', samples: 80, bad: 1 });
    const b = await run(['bundle', '--model', 'out', ...SOURCES, '--alert-above', '0.05', '--out', 'app.js', '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(summary.bundleCrc32).toBe(b.lastJson().crc32);
    const out = path.join(tmp, 'out');
    const json = JSON.parse(fs.readFileSync(path.join(out, 'replay.json'), 'utf8'));
    expect(json.samples).toHaveLength(80);
    expect(json.samples[7].readings[1]).toBeNull();
    expect(json.samples[7].bad).toBe(true);
    expect(json.samples[3].time).toBe(1750);
    const log = fs.readFileSync(path.join(out, 'replay.log'), 'utf8').trimEnd().split('\n');
    expect(log[0]).toMatch(/^lstm-mcu app started: x0, x1, x2 every 1000 ms$/);
    expect(log.filter((l) => /^lstm-mcu t=\d+ /.test(l))).toHaveLength(80);
    const alerts = fs.readFileSync(path.join(out, 'replay-alerts.csv'), 'utf8').trimEnd().split('\n');
    expect(alerts[0]).toBe('time,sample,score');
    expect(alerts.length - 1).toBe(summary.alerts);
    expect(summary.alerts).toBeGreaterThan(0);
    expect(alerts.slice(1)).toEqual(
      json.alerts.map((a: { time: number; sample: number; score: number }) => `${a.time},${a.sample},${a.score}`),
    );
    // replay.html: readings, forecasts and a rule per alert, drawn to SVG; the score against the threshold
    const page = fs.readFileSync(path.join(out, 'replay.html'), 'utf8');
    expect(page).not.toMatch(/<script/);
    expect(page).toContain(`${summary.alerts} alert${summary.alerts === 1 ? '' : 's'} marked`);
    expect(page).toContain('alert above 0.05');
    expect(page.match(/<svg/g)).toHaveLength(2);
    expect(page.match(/class="mark-rule role-mark layer_1_marks"[^]*?<\/g>/)?.[0].match(/<line/g)).toHaveLength(summary.alerts);
  });

  it('--columns names the columns that feed the features; without a time column the time is the sample index', async () => {
    fs.writeFileSync(path.join(tmp, 'no-time.csv'), 'x2,x1,x0\n1,2,3\n4,5,6\n');
    const r = await run(['replay', '--model', 'out', '--data', 'no-time.csv', ...SOURCES, '--out', 'o2', '--columns', 'x0,x1,x2']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(tmp, 'o2', 'replay.json'), 'utf8'));
    expect(json.samples.map((s: { time: number; readings: number[] }) => [s.time, s.readings])).toEqual([
      [0, [3, 2, 1]],
      [1, [6, 5, 4]],
    ]);
  });

  it.each([
    [
      'a missing column',
      ['--data', 'renamed.csv'],
      /renamed\.csv: no column 'x0', 'x1', 'x2': the model reads 3 features \(x0, x1, x2\) and the file has 4 columns besides time \(a, b, c, label\); name the columns to read with --columns$/m,
    ],
    [
      'a model / recording feature-count mismatch',
      ['--data', 'two.csv'],
      /two\.csv: no column 'x2': the model reads 3 features \(x0, x1, x2\) and the file has 2 columns besides time \(x0, x1\); name the columns/,
    ],
    [
      '--columns of another length',
      ['--data', 'two.csv', '--columns', 'x0,x1'],
      /--columns names 2 columns, but the model reads 3 features \(x0, x1, x2\)/,
    ],
    [
      'an unknown --time-column',
      ['--data', 'recording.csv', '--time-column', 'ms'],
      /--time-column 'ms': recording\.csv has no such column/,
    ],
    ['a text reading', ['--data', 'renamed.csv', '--columns', 'a,b,label'], /renamed\.csv:2: column 'label': 'idle' is not a number/],
    [
      'an unknown engine',
      ['--data', 'recording.csv', '--engine', 'v8'],
      /--engine.*expected one of vm, vm\+E, duk, espruino, jerry, bangle2/,
    ],
    ['an engine that is not here', ['--data', 'recording.csv', '--engine', 'espruino'], /--engine espruino: ESPRUINO_BIN is not set/],
    [
      'sources that do not add up',
      ['--data', 'recording.csv', '--source', 'temperature'],
      /--source 'temperature' gives 1 reading per sample, but the model reads 3/,
    ],
    ['no recording', ['--data', 'nothing.csv'], /nothing\.csv: no such file/],
  ])('%s: one line, nothing written', async (_, args, message) => {
    const before = filesIn(tmp);
    const r = await run(['replay', '--model', 'out', ...(args.includes('--source') ? [] : SOURCES), ...args, '--out', 'bad']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(filesIn(tmp)).toEqual(before);
  });
});
