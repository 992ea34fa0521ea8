/**
 * `lstm-mcu record` end to end on a real interpreter: the Linux build of
 * Espruino serving its REPL over telnet (test/helpers/espruino-telnet.ts) is
 * the board, a reader function its sensor. A recording has exactly the rows
 * the reader gave, trains as it stands, stops on a limit or Ctrl-C with the
 * board's timer stopped, and survives a reader that throws and a link cut
 * by killing the board: every row received is in the file, whole, and the
 * error is one line. Bad options are one line, with or without a board.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_NODE_ARGS, runCli, type CliResult } from '../helpers/run-cli.ts';
import { ESPRUINO_ENABLED, holdPort, listening, startEspruino, stopEspruino, TELNET_PORT } from '../helpers/espruino-telnet.ts';
import { BoardConnection } from '../../firmware/espruino-tools.ts';
import { readCsvColumns } from '../../data/csv.ts';
import { readFloatModel } from '../../core/artifact.ts';

if (!ESPRUINO_ENABLED)
  console.log('skipped the board tests of test/firmware/record-e2e.test.ts: ESPRUINO_BIN is not set to a Linux Espruino build');

/** Readings the test can predict: sample k (from 0) reads a = sin((k + 1) / 5), b = 10 cos((k + 1) / 7). */
const READER =
  'var tick = 0;\nfunction readSensor(out) {\n  tick++;\n  out[0] = Math.sin(tick / 5);\n  out[1] = 10 * Math.cos(tick / 7);\n}\n';
const expectedA = (k: number) => Math.sin((k + 1) / 5);
const expectedB = (k: number) => 10 * Math.cos((k + 1) / 7);

let dir: string;

/** The CSV's data lines, each split into fields; every line must be whole (the file ends with a line end). */
function rowsOf(file: string): string[][] {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
}

/** Rows that are the reader's samples 0..n-1 in order, none missing or repeated (Espruino prints 12 significant digits). */
function expectReaderRows(rows: string[][]): void {
  rows.forEach((r, k) => {
    expect(r.length).toBe(3);
    expect(Number(r[1])).toBeCloseTo(expectedA(k), 9);
    expect(Number(r[2])).toBeCloseTo(expectedB(k), 9);
  });
}

/** The command running in its own process, to be interrupted or cut. */
function spawnRecord(args: string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const env = { ...process.env };
  delete env.ESPRUINO_BIN;
  const child = spawn(process.execPath, [...CLI_NODE_ARGS, 'record', ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr, lastJson: () => JSON.parse(stdout.trim().split('\n').pop()!) })),
  );
  return { child, done };
}

/** Wait until `file` holds at least `rows` data rows. */
async function rowsWritten(file: string, rows: number): Promise<void> {
  const p = path.join(dir, file);
  for (let i = 0; i < 600; i++) {
    if (fs.existsSync(p) && fs.readFileSync(p, 'utf8').split('\n').length - 2 >= rows) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} never reached ${rows} rows`);
}

/** lstmRecord.state() on the board: [samples taken, sampling now]. */
async function boardState(): Promise<[number, boolean]> {
  const c = await BoardConnection.open(TELNET_PORT, 10_000);
  try {
    return (await c.evaluate('lstmRecord.state()', 'state', 10_000)) as [number, boolean];
  } finally {
    await c.close();
  }
}

const lastLine = (r: CliResult) => r.stderr.trim().split('\n').at(-1);
const readerArgs = (reader = 'reader.js') => ['--port', TELNET_PORT, '--source', 'function', '--reader', reader, '--columns', 'a,b'];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-record-'));
  fs.writeFileSync(path.join(dir, 'reader.js'), READER);
  fs.writeFileSync(
    path.join(dir, 'throws.js'),
    'var k = 0;\nfunction readSensor(out) {\n  if (++k === 7) throw new Error("sensor unplugged");\n  out[0] = k;\n}\n',
  );
  fs.writeFileSync(
    path.join(dir, 'noisy.js'),
    READER.replace('  tick++;', '  tick++;\n  print("noise lstm-rec,9,9");\n  if (tick % 4 === 0) print(">");'),
  );
  fs.writeFileSync(path.join(dir, 'taken.csv'), 'time,a\n1,2\n');
  fs.writeFileSync(path.join(dir, 'gaps.js'), 'var k = 0;\nfunction readSensor(out) {\n  k++;\n  out[0] = k % 3 ? k : NaN;\n}\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('lstm-mcu record: bad options are one line, before anything is connected or written', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'a reader without names',
      ['--port', TELNET_PORT, '--source', 'function', '--reader', 'reader.js'],
      /--source function needs --columns <names>/,
    ],
    [
      'names that do not match the readings',
      ['--port', TELNET_PORT, '--source', 'accel', '--columns', 'a,b'],
      /--columns names 2 columns, but --source 'accel' gives 3 readings per sample$/,
    ],
    [
      'an unknown source',
      ['--port', TELNET_PORT, '--source', 'gyro'],
      /--source 'gyro': expected one of temperature, analog, accel, mag, function/,
    ],
    [
      'function beside another source',
      [...readerArgs(), '--source', 'function,temperature', '--columns', 'a,b,c'],
      /'function' gives every reading; it cannot be combined/,
    ],
    [
      'function without a reader',
      ['--port', TELNET_PORT, '--source', 'function', '--columns', 'a'],
      /--source function needs --reader <file>/,
    ],
    ['a reader without function', ['--port', TELNET_PORT, '--reader', 'reader.js'], /--reader goes with --source function$/],
    ['a missing reader file', readerArgs('nothing.js'), /--reader nothing\.js: no such file$/],
    ['a label read as missing', [...readerArgs(), '--label', 'NA'], /--label 'NA': the CSV reader takes it as a missing value/],
    ['a column named like the time column', [...readerArgs(), '--columns', 'a,time'], /--columns: 'time' names two columns/],
    ['an existing recording', [...readerArgs(), '--out', 'taken.csv'], /--out taken\.csv: the file exists; pass --overwrite to replace it/],
    [
      'the reader as the output',
      [...readerArgs(), '--out', 'reader.js', '--overwrite'],
      /--out 'reader\.js' is the same file as the input --reader/,
    ],
    ['a port that is no port', ['--port', 'COM', '--source', 'temperature'], /--port 'COM': expected a serial port/],
  ];
  it.each(cases)('%s', async (_, args, message) => {
    const r = await runCli(['record', ...args], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(/^lstm-mcu record: error: /);
    expect(r.stderr.trim()).toMatch(message);
    expect(fs.existsSync(path.join(dir, 'recording.csv'))).toBe(false);
  });

  it('an interval below 10 ms and a missing --port are refused by the option parser', async () => {
    const fast = await runCli(['record', ...readerArgs(), '--interval', '5'], dir);
    expect(fast.code).toBe(1);
    expect(fast.stderr.split('\n')[0]).toMatch(/^error: option '--interval <ms>' argument '5' is invalid\. expected an integer from 10 to/);
    const noPort = await runCli(['record', '--source', 'temperature'], dir);
    expect(noPort.code).toBe(1);
    expect(noPort.stderr.split('\n')[0]).toBe("error: required option '--port <port>' not specified");
  });

  it('a board that cannot be reached is one line and leaves no file', async () => {
    const r = await runCli(['record', '--port', 'tcp://127.0.0.1:1', '--out', 'never.csv'], dir);
    expect(r.code).toBe(1);
    expect(lastLine(r)).toBe('lstm-mcu record: error: could not connect to tcp://127.0.0.1:1: ECONNREFUSED');
    expect(fs.existsSync(path.join(dir, 'never.csv'))).toBe(false);
  });
});

describe.skipIf(!ESPRUINO_ENABLED)('lstm-mcu record on a Linux Espruino over telnet', () => {
  let board: ChildProcess | undefined;

  let releasePort: (() => void) | undefined;

  beforeAll(async () => {
    // the build serves telnet on 2323 only, and the flash test starts one there too: one file at a time holds it
    releasePort = await holdPort(2323);
    if (await listening()) throw new Error('something listens on 127.0.0.1:2323 outside the test suite: stop it');
    fs.mkdirSync(path.join(dir, 'board'));
    board = await startEspruino(path.join(dir, 'board'));
  }, 1_000_000);
  afterAll(async () => {
    await stopEspruino(board);
    releasePort?.();
  });

  it('records N samples among console noise, exactly as the reader gave them, and the CSV trains as it stands', async () => {
    // console noise between the samples, even a line that looks like one, printed by the reader (so only while
    // the recording is connected: a program printing every 13 ms between connections has made the Linux build exit)
    const r = await runCli(['record', ...readerArgs('noisy.js'), '--interval', '20', '--samples', '80', '--out', 'n.csv', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^record: \d+ rows?/m);
    expect(r.stdout).toMatch(/^recorded 80 rows from LINUX \S+ at tcp:\/\/127\.0\.0\.1:2323 into n\.csv, every 20 ms$/m);
    expect(r.stdout).toContain('train on it: lstm-mcu train --data n.csv --features a,b --target a --time time');
    expect(r.lastJson()).toMatchObject({ command: 'record', rows: 80, columns: ['time', 'a', 'b'], lost: 0, bad: 0 });
    expect(r.lastJson().corrupt).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dir, 'n.csv'), 'utf8').split('\n')[0]).toBe('time,a,b');
    const rows = rowsOf('n.csv');
    expect(rows).toHaveLength(80);
    expectReaderRows(rows);
    const times = rows.map((row) => Number(row[0]));
    // in order; two samples may share a millisecond (a timer that fell behind on a loaded machine catches up)
    for (let k = 1; k < times.length; k++) expect(times[k]).toBeGreaterThanOrEqual(times[k - 1]!);
    // the board's clock: steps of the interval (the Linux build keeps it within a few ms)
    const steps = times
      .slice(1)
      .map((t, k) => t - times[k]!)
      .sort((x, y) => x - y);
    expect(steps[steps.length >> 1]).toBeCloseTo(0.02, 2);
    expect(await boardState()).toEqual([expect.any(Number), false]);

    const t = await runCli(
      [
        'train',
        '--data',
        'n.csv',
        '--features',
        'a,b',
        '--target',
        'a',
        '--time',
        'time',
        '--window',
        '4',
        '--units',
        '4',
        '--epochs',
        '1',
        '--quiet',
        '--out',
        'n.float.pb',
      ],
      dir,
    );
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(readFloatModel(path.join(dir, 'n.float.pb')).model.provenance.options).intervalMs).toBe(20);
  }, 180_000);

  it('--duration records the samples of that many seconds by the board clock, with the label in every row', async () => {
    const r = await runCli(['record', ...readerArgs(), '--interval', '100', '--duration', '1', '--label', 'wave', '--out', 'd.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    const rows = rowsOf('d.csv');
    // samples at 0, 100, ..., 900 ms; a timer fires late, never early, so one more only when the first was late
    expect(rows.length).toBeGreaterThanOrEqual(9);
    expect(rows.length).toBeLessThanOrEqual(11);
    expect(Number(rows.at(-1)![0]) - Number(rows[0]![0])).toBeLessThan(1);
    expect(rows.every((row) => row[3] === 'wave')).toBe(true);
    const table = await readCsvColumns(path.join(dir, 'd.csv'), ['time', 'a', 'b', 'label'], { categorical: ['label'] });
    expect(table.rows).toBe(rows.length);
    expect(table.categories).toEqual({ label: ['wave'] });
  }, 60_000);

  it('Ctrl-C stops the board sampling and keeps every sample it took', async () => {
    const run = spawnRecord([...readerArgs(), '--interval', '30', '--out', 'c.csv']);
    await rowsWritten('c.csv', 20);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('stopping: the board ends its sampling');
    const rows = rowsOf('c.csv');
    expectReaderRows(rows);
    const [taken, sampling] = await boardState();
    expect(sampling).toBe(false);
    expect(rows.length).toBe(taken);
    expect(r.stdout).toContain(`recorded ${taken} rows`);
  }, 60_000);

  it('a sample with a NaN reading is skipped and counted; --samples counts rows written', async () => {
    const r = await runCli(
      ['record', ...readerArgs('gaps.js'), '--columns', 'k', '--interval', '20', '--samples', '10', '--out', 'g.csv', '--json'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(rowsOf('g.csv').map((row) => Number(row[1]))).toEqual([1, 2, 4, 5, 7, 8, 10, 11, 13, 14]);
    expect(r.lastJson()).toMatchObject({ rows: 10, lost: 0 });
    expect(r.lastJson().bad).toBeGreaterThanOrEqual(4);
    expect(r.stdout).toMatch(/^skipped \d+ samples with a bad reading \(NaN or Infinity\)$/m);
  }, 60_000);

  it('a reader that throws on the board ends the recording in one line, the rows before it kept and the board stopped', async () => {
    const r = await runCli(['record', ...readerArgs('throws.js'), '--columns', 'k', '--interval', '20', '--out', 't.csv'], dir);
    expect(r.code).toBe(1);
    expect(lastLine(r)).toBe(
      'lstm-mcu record: error: the reader failed on tcp://127.0.0.1:2323 at sample 6: Error: sensor unplugged; the 6 rows recorded before are in t.csv',
    );
    expect(rowsOf('t.csv').map((row) => Number(row[1]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await boardState()).toEqual([6, false]);
  }, 60_000);

  it('a dropped link (the board killed mid-recording) keeps every row received, whole, and says so in one line', async () => {
    const run = spawnRecord([...readerArgs(), '--interval', '20', '--out', 'cut.csv']);
    await rowsWritten('cut.csv', 30);
    await stopEspruino(board);
    const r = await run.done;
    expect(r.code).toBe(1);
    const m = /^lstm-mcu record: error: tcp:\/\/127\.0\.0\.1:2323 disconnected; the (\d+) rows recorded before are in cut\.csv$/.exec(
      lastLine(r)!,
    );
    expect(m, r.stderr).not.toBeNull();
    const rows = rowsOf('cut.csv');
    expect(rows.length).toBe(Number(m![1]));
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expectReaderRows(rows);
    const table = await readCsvColumns(path.join(dir, 'cut.csv'), ['time', 'a', 'b']);
    expect(table.rows).toBe(rows.length);
    board = await startEspruino(path.join(dir, 'board'));
  }, 60_000);

  it('record -> train -> quantize -> replay -> flash: the board prints what replay said it would, and record works beside it', async () => {
    const t = await runCli(['quantize', 'n.float.pb', '--out', 'n.q.pb', '--quiet'], dir);
    expect(t.code, t.stderr).toBe(0);
    // the reader of the recording, its count kept where the console can set it (the upload is minified: a var is renamed)
    fs.writeFileSync(
      path.join(dir, 'counted-reader.js'),
      'global.readerTick = 0;\nfunction readSensor(out) {\n  var tick = ++global.readerTick;\n  out[0] = Math.sin(tick / 5);\n  out[1] = 10 * Math.cos(tick / 7);\n}\n',
    );
    const app = ['--source', 'function', '--reader', 'counted-reader.js'];
    // the app over the recording on the desktop: what the board will print for the readings the reader gives it
    const rp = await runCli(['replay', '--model', 'n.q.pb', '--data', 'n.csv', ...app, '--out', 'replayed', '--json'], dir);
    expect(rp.code, rp.stderr).toBe(0);
    expect(rp.lastJson()).toMatchObject({ command: 'replay', samples: 80, bad: 0 });
    // a sample's line without its time (the board's clock is not the recording's)
    const sampleLines = (lines: string[]) => lines.flatMap((l) => (/^lstm-mcu t=\d+ /.test(l) ? [l.replace(/^lstm-mcu t=\d+ /, '')] : []));
    const replayed = sampleLines(fs.readFileSync(path.join(dir, 'replayed', 'replay.log'), 'utf8').split('\n'));
    expect(replayed).toHaveLength(80);
    const f = await runCli(['flash', '--model', 'n.q.pb', ...app, '--port', TELNET_PORT, '--listen', '2'], dir);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/^verified on LINUX/m);
    // the app samples at the recording's period and prints its forecasts
    expect(f.stdout, f.stderr).toMatch(/^board: lstm-mcu t=\d+ (warming up|a=)/m);
    // on the board, the app from a reset over the reader's first 80 samples (the recording's readings): what it prints
    const c = await BoardConnection.open(TELNET_PORT, 10_000);
    let printed: string[];
    try {
      printed = (await c.evaluate(
        '(function () { var out = [], log = console.log, i; lstmApp.stop(); global.readerTick = 0; lstmApp.reset();' +
          ' console.log = function (s) { out.push(String(s)); };' +
          ' try { for (i = 0; i < 80; i++) lstmApp.sample(); } finally { console.log = log; } return out; })()',
        'the app over 80 samples',
        60_000,
      )) as string[];
    } finally {
      await c.close();
    }
    const onBoard = sampleLines(printed);
    expect(onBoard).toHaveLength(80);
    expect(onBoard).toEqual(replayed);
    expect(new Set(replayed).size).toBeGreaterThan(40);
    // the app's lines are noise to a new recording, whose reader starts over
    const r = await runCli(['record', ...readerArgs(), '--interval', '20', '--samples', '30', '--out', 'beside.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    expectReaderRows(rowsOf('beside.csv'));
    expect(rowsOf('beside.csv')).toHaveLength(30);
  }, 240_000);
});
