/**
 * `lstm-mcu bundle` and `lstm-mcu flash` as a user runs them: what they
 * write, and one clear line, a non-zero exit and no file for bad input.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { encodeQuantizedModel, writeArtifact } from '../../core/artifact.ts';
import { runCli } from '../helpers/run-cli.ts';
import { decodePng } from '../../core/png.ts';
import { crc32 } from '../../core/crc32.ts';
import { WEIGHTS_FILE_PATTERN } from '../../firmware/weights-name.ts';

let dir: string;
let model: string;
/** Its target is not a feature: the device never sees what a forecast is compared with. */
let noScore: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-bundle-'));
  const q = randomQuantizedModel({ seed: 5, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1 });
  model = path.join(dir, 'model.q.pb');
  writeArtifact(model, encodeQuantizedModel({ ...q, targetNames: ['x2'] }));
  noScore = path.join(dir, 'no-score.q.pb');
  writeArtifact(noScore, encodeQuantizedModel(q));
  fs.writeFileSync(path.join(dir, 'reader.js'), 'function readSensor(out) { out[0] = 1; out[1] = 2; out[2] = 3; }\n');
});

describe('lstm-mcu bundle', () => {
  it('--help lists the app options', async () => {
    const r = await runCli(['bundle', '--help'], dir);
    expect(r.code).toBe(0);
    for (const flag of [
      '--model',
      '--source',
      '--reader',
      '--interval',
      '--valid-range',
      '--alert-above',
      '--weights',
      '--engine',
      '--bangle-app',
    ])
      expect(r.stdout).toContain(flag);
  });

  it('writes an upload-ready file beside the model, and says what verify() must return', async () => {
    const r = await runCli(['bundle', '--model', dir, '--source', 'function', '--reader', 'reader.js', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = path.join(dir, 'app.espruino.js');
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^\/\/ lstm-mcu espruino bundle/);
    const j = r.lastJson();
    expect(j).toMatchObject({ command: 'bundle', out, engine: 'espruino' });
    expect(r.stdout).toContain(`verify() on the device must return: ${j.expected.checksum} ${j.expected.selfTest.join(',')}`);
  });

  it('sources that give the model its readings: accel gives x, y, z', async () => {
    const out = path.join(dir, 'accel.js');
    const r = await runCli(['bundle', '--model', model, '--source', 'accel', '--out', out, '--no-minify'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain('Bangle.getAccel() : Puck.accel().acc');
  });

  it('--weights flash writes the Storage file beside the bundle, named after its CRC-32 (the name flash uses)', async () => {
    const out = path.join(dir, 'flash', 'app.js');
    const r = await runCli(
      ['bundle', '--model', model, '--source', 'function', '--reader', 'reader.js', '--weights', 'flash', '--out', out, '--json'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const j = r.lastJson() as { flashFile: string; expected: { checksum: number } };
    // the model-data checksum verify() reports is the CRC-32 of the weights file
    expect(j.flashFile).toBe(`lstm-w-${j.expected.checksum.toString(16).padStart(8, '0')}.bin`);
    expect(j.flashFile).toMatch(WEIGHTS_FILE_PATTERN); // what flash erases once a newer app is saved
    expect(WEIGHTS_FILE_PATTERN.test(j.flashFile.replace('.bin', 'x.bin'))).toBe(false);
    const bin = fs.readFileSync(path.join(dir, 'flash', j.flashFile));
    expect(crc32(bin)).toBe(j.expected.checksum);
    expect(fs.readdirSync(path.join(dir, 'flash')).sort()).toEqual(['app.js', j.flashFile].sort());
    const app = fs.readFileSync(out, 'utf8');
    expect(app).toContain("require('Storage')");
    expect(app).toContain(`"${j.flashFile}"`);
  });

  it('--flash-file gives the weights a fixed name; the weights are the same bytes', async () => {
    const out = path.join(dir, 'fixed', 'app.js');
    const r = await runCli(
      [
        'bundle',
        '--model',
        model,
        '--source',
        'function',
        '--reader',
        'reader.js',
        '--weights',
        'flash',
        '--flash-file',
        'w.bin',
        '--out',
        out,
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain('"w.bin"');
    const [perModel] = fs.readdirSync(path.join(dir, 'flash')).filter((f) => f.startsWith('lstm-w-'));
    expect(fs.readFileSync(path.join(dir, 'fixed', 'w.bin'))).toEqual(fs.readFileSync(path.join(dir, 'flash', perModel!)));
  });

  it('--bangle-app writes an App Loader folder', async () => {
    const app = path.join(dir, 'bangle');
    const r = await runCli(
      ['bundle', '--model', model, '--source', 'accel', '--out', path.join(dir, 'b.js'), '--bangle-app', app, '--app-id', 'lstmtest'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(fs.readFileSync(path.join(app, 'metadata.json'), 'utf8'));
    expect(meta).toMatchObject({ id: 'lstmtest', icon: 'app.png', supports: ['BANGLEJS', 'BANGLEJS2'] });
    for (const s of meta.storage) expect(fs.existsSync(path.join(app, s.url)), s.url).toBe(true);
    expect(fs.readFileSync(path.join(app, 'app.js'), 'utf8')).toContain('g.drawString');
    const png = fs.readFileSync(path.join(app, 'app.png'));
    expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(png.readUInt32BE(16)).toBe(48);
    const icon = Buffer.from(/atob\("([^"]+)"\)/.exec(fs.readFileSync(path.join(app, 'app-icon.js'), 'utf8'))![1], 'base64');
    expect([...icon.subarray(0, 3)]).toEqual([48, 48, 1]);
    expect(icon.length).toBe(3 + (48 * 48) / 8);
    // the loader's icon is the launcher's: ink where the Espruino image has a 1 bit
    const iconPng = decodePng(png);
    const ink = Array.from({ length: 48 * 48 }, (_, i) => iconPng.rgba[4 * i] === 0);
    expect(ink).toEqual(Array.from({ length: 48 * 48 }, (_, i) => (icon[3 + (i >> 3)] & (0x80 >> (i & 7))) !== 0));
    expect(ink.filter(Boolean).length).toBeGreaterThan(100);
    if (!process.env.BANGLE2_DIR) expect(meta.screenshots).toBeUndefined();
  });

  it.skipIf(!process.env.BANGLE2_DIR)("with BANGLE2_DIR: the app's screen on the emulator as its screenshot", async () => {
    const app = path.join(dir, 'bangle-shot');
    const r = await runCli(['bundle', '--model', model, '--source', 'accel', '--out', path.join(dir, 's.js'), '--bangle-app', app], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(app, 'metadata.json'), 'utf8')).screenshots).toEqual([{ url: 'screenshot.png' }]);
    const shot = decodePng(fs.readFileSync(path.join(app, 'screenshot.png')));
    expect([shot.width, shot.height]).toEqual([176, 176]);
    // the app drew its forecast: ink on the cleared screen (test/firmware/watch-screen.test.ts checks which)
    expect(shot.rgba.filter((v, i) => i % 4 === 0 && v === 0).length).toBeGreaterThan(200);
  });

  it('without the emulator: no screenshot, one line on stderr says so, the bundle is written', async () => {
    const app = path.join(dir, 'bangle-noshot');
    const r = await runCli(['bundle', '--model', model, '--source', 'accel', '--out', path.join(dir, 'n.js'), '--bangle-app', app], dir, {
      withoutWatch: true,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      "lstm-mcu bundle: the Bangle.js app's screenshot.png was left out: BANGLE2_DIR is not set to the Bangle.js 2 emulator",
    ]);
    expect(fs.existsSync(path.join(app, 'screenshot.png'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(app, 'metadata.json'), 'utf8')).screenshots).toBeUndefined();
    expect(fs.existsSync(path.join(app, 'app.js'))).toBe(true);
  });

  it('--engine jerryscript: the es5 model and the host-fed app', async () => {
    const out = path.join(dir, 'app.jerryscript.js');
    const r = await runCli(['bundle', '--model', model, '--engine', 'jerryscript', '--out', out], dir);
    expect(r.code, r.stderr).toBe(0);
    const code = fs.readFileSync(out, 'utf8');
    expect(code).toContain('var lstmModel');
    expect(code).toContain('feed: feedReadings');
  });

  const refusals: [string, string[], RegExp][] = [
    [
      'a source that gives the wrong number of readings',
      ['--source', 'temperature'],
      /--source 'temperature' gives 1 reading per sample, but the model reads 3 readings \(x0, x1, x2\)/,
    ],
    ['an unknown source', ['--source', 'humidity'], /--source 'humidity': expected one of temperature, analog, accel, mag, function/],
    ['an analog source without a pin', ['--source', 'analog,analog,analog'], /an analog source names its pin/],
    ['function without a reader', ['--source', 'function'], /--source function needs --reader/],
    ['a reader that does not define readSensor', ['--source', 'function', '--reader', 'model.q.pb'], /must define function readSensor/],
    [
      'an alert on a model with no score',
      ['--model', 'no-score.q.pb', '--source', 'accel', '--alert-above', '1'],
      /--alert-above: this model has no score: its targets \(y0\) are not all among its features/,
    ],
    [
      'a valid range for a feature it does not have',
      ['--source', 'accel', '--valid-range', 'humidity=0:100'],
      /the model has no feature 'humidity'/,
    ],
    ['a valid range with low above high', ['--source', 'accel', '--valid-range', 'x0=5:1'], /expected FEATURE=LOW:HIGH with LOW < HIGH/],
    ['flash weights on JerryScript', ['--engine', 'jerryscript', '--weights', 'flash'], /--weights flash is for Espruino/],
    [
      '--flash-file without flash weights',
      ['--source', 'accel', '--flash-file', 'w.bin'],
      /^lstm-mcu bundle: error: --flash-file goes with --weights flash$/m,
    ],
    [
      'a --flash-file that is no Storage name',
      ['--source', 'accel', '--weights', 'flash', '--flash-file', 'a-name-far-too-long-for-storage.bin'],
      /at most 28 characters/,
    ],
    ['a source on JerryScript', ['--engine', 'jerryscript', '--source', 'accel'], /--source and --reader are for Espruino/],
    ['a bad App Loader id', ['--source', 'accel', '--bangle-app', 'x', '--app-id', 'Bad Id'], /App Loader ids are 1-10 lowercase letters/],
  ];
  refusals.forEach(([what, args, message], i) => {
    it(`refuses ${what}: one line, exit 1, no file`, async () => {
      const out = path.join(dir, `refused-${i}`, 'app.js');
      const r = await runCli(['bundle', '--model', model, '--out', out, ...args], dir);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(fs.existsSync(path.dirname(out))).toBe(false);
    });
  });

  it('refuses a folder without a model', async () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    const r = await runCli(['bundle', '--model', empty], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no model\.q\.pb in this folder/);
  });
});

describe('lstm-mcu flash without a board', () => {
  it('--help names the port forms', async () => {
    const r = await runCli(['flash', '--help'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tcp:\/\/host:port/);
  });

  it('refuses a port it cannot read', async () => {
    const r = await runCli(['flash', '--model', model, '--source', 'accel', '--port', 'printer'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--port 'printer': expected a serial port .*, a Bluetooth address .* or tcp:\/\/host:port/);
  });

  it('refuses --flash-file: flash names the weights after their content', async () => {
    const r = await runCli(
      ['flash', '--model', model, '--source', 'accel', '--weights', 'flash', '--flash-file', 'w.bin', '--port', 'tcp://127.0.0.1:1'],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^lstm-mcu flash: error: --flash-file is for bundle: flash names the weights file after its content/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a TCP port out of range is refused before connecting', async () => {
    const r = await runCli(['flash', '--model', model, '--source', 'accel', '--port', 'tcp://127.0.0.1:99999'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("lstm-mcu flash: error: --port 'tcp://127.0.0.1:99999': a TCP port is a number from 1 to 65535");
  });

  it('a refused connection is one clear line, quickly', async () => {
    const r = await runCli(['flash', '--model', model, '--source', 'accel', '--port', 'tcp://127.0.0.1:1', '--timeout', '10'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('lstm-mcu flash: error: could not connect to tcp://127.0.0.1:1: ECONNREFUSED');
  });

  it('a device that never answers is a clear error within the timeout, not a hang', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const r = await runCli(['flash', '--model', model, '--source', 'accel', '--port', `tcp://127.0.0.1:${port}`, '--timeout', '5'], dir);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `lstm-mcu flash: error: no answer from tcp://127.0.0.1:${port} within 5 s: it printed nothing (is this an Espruino board's port?)`,
      );
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      silent.close();
    }
  }, 60_000);
});
