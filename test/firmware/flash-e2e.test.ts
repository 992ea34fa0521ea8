/**
 * End to end on real firmware: `lstm-mcu flash` uploads through espruino-tools
 * to a board on a TCP port of 127.0.0.1 (the same path as a board over TCP):
 * the Linux build of Espruino serving its REPL with --telnet (ESPRUINO_BIN),
 * and the Bangle.js 2 firmware compiled to WebAssembly behind
 * parity/bangle2-telnet.cjs (BANGLE2_DIR); test/helpers/flash-boards.ts starts
 * them. On each it saves the app to .bootcde, verifies the weights checksum and
 * the self-test, and the app prints predictions. The app survives a restart of
 * the board's process (it boots from flash), a flash cut off by killing that
 * process leaves the previous app in place, and sampling allocates nothing.
 * The app reads a `function --reader` source: the watch's sensors give nothing
 * in the emulator, and the Linux build has none.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { execFile, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { encodeQuantizedModel, writeArtifact } from '../../core/artifact.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { BoardConnection } from '../../firmware/espruino-tools.ts';
import { flashBundle } from '../../firmware/flash.ts';
import type { Bundle } from '../../firmware/bundle.ts';
import { crc32 } from '../../core/crc32.ts';
import { runCli } from '../helpers/run-cli.ts';
import { appInputs, bundleFrom } from '../../cli/app-options.ts';
import { flashTestBoards, holdPort, listening, stopBoard, type FlashTestBoard } from '../helpers/flash-boards.ts';

const BOARDS = flashTestBoards();
if (BOARDS.length === 0)
  console.log(
    'skipped test/firmware/flash-e2e.test.ts: no board: ESPRUINO_BIN (a Linux Espruino build) is not set, nor BANGLE2_DIR (the Bangle.js 2 emulator)',
  );

function forecastModel(seed: number): QuantizedModel {
  const q = randomQuantizedModel({ seed, inputSize: 3, units: 8, outputSize: 1, weightRange: 1.5, biasRange: 1 });
  return { ...q, targetNames: ['x1'], horizon: 1 };
}

/** The HTTP(S) requests made while `body` runs (each still made). */
async function requestsDuring(body: () => Promise<void>): Promise<string[]> {
  const urls: string[] = [];
  const modules = [http, https] as const;
  const originals = modules.map((m) => m.request);
  modules.forEach((m, i) => {
    m.request = ((...args: Parameters<typeof http.request>) => {
      const a = args[0] as { host?: string; path?: string } | string | URL;
      urls.push(typeof a === 'object' && !(a instanceof URL) ? `${a.host}${a.path}` : String(a));
      return (originals[i] as typeof http.request)(...args);
    }) as typeof http.request;
  });
  try {
    await body();
  } finally {
    modules.forEach((m, i) => (m.request = originals[i] as typeof http.request));
  }
  return urls;
}

// Without ESPRUINO_BIN and BANGLE2_DIR the suite is listed once, skipped.
const SUITES: [string, FlashTestBoard][] =
  BOARDS.length > 0 ? BOARDS.map((b) => [b.title, b]) : [['a board over TCP', {} as FlashTestBoard]];

describe.skipIf(BOARDS.length === 0).each(SUITES)('lstm-mcu flash on %s', (_title, target) => {
  const PORT = target.port;
  /** `flash` names the board it verified on by its process.env.BOARD. */
  const verifiedOnBoard = new RegExp(`^verified on ${target.id} `, 'm');
  let dir: string;
  let board: ChildProcess | undefined;
  let modelFile: string;
  let reader: string;

  let releasePort: (() => void) | undefined;

  beforeAll(async () => {
    // the record test starts a board on the same port: one file at a time holds it
    releasePort = await holdPort(target.tcpPort);
    if (await listening(target.tcpPort))
      throw new Error(
        `something already listens on 127.0.0.1:${target.tcpPort}: stop it${target.id === 'LINUX' ? ' (the Linux build serves telnet on that port only)' : ', or set BANGLE2_TELNET_PORT to a free port'}`,
      );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-flash-'));
    const q = forecastModel(3);
    modelFile = path.join(dir, 'model.q.pb');
    writeArtifact(modelFile, encodeQuantizedModel(q));
    // readings that move around the training means
    const { mean, std } = q.inputNorm;
    reader = path.join(dir, 'reader.js');
    fs.writeFileSync(
      reader,
      `var tick = 0, M = [${mean.join(', ')}], S = [${std.join(', ')}];\nfunction readSensor(out) {\n  var i;\n  tick++;\n  for (i = 0; i < out.length; i++) out[i] = M[i] + S[i] * Math.sin(tick / 5 + i);\n}\n`,
    );
    board = await target.start(dir);
  }, 1_000_000);

  afterAll(async () => {
    await stopBoard(board);
    releasePort?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const flashArgs = (extra: string[] = []) => [
    'flash',
    '--model',
    modelFile,
    '--source',
    'function',
    '--reader',
    reader,
    '--interval',
    '100',
    '--port',
    PORT,
    '--timeout',
    '20',
    ...extra,
  ];

  it(`connecting needs no network: espruino-tools reads process.env (BOARD ${target.id}) and fetches no board JSON`, async () => {
    let env: Record<string, unknown> = {};
    const requests = await requestsDuring(async () => {
      const c = await BoardConnection.open(PORT, 10_000);
      env = { ...c.env };
      await c.close();
    });
    expect(env.BOARD).toBe(target.id);
    expect(requests).toEqual([]);
  }, 60_000);

  it('uploads, saves, verifies the checksum and a step, and the app prints predictions', async () => {
    const r = await runCli([...flashArgs(['--listen', '2']), '--json'], dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^verified on ${target.id} .* model data CRC-32 0x[0-9a-f]{8} \\(host 0x[0-9a-f]{8}\\), self-test output \\[.*\\] \\(simulator \\[.*\\]\\)$`,
        'm',
      ),
    );
    const line = r.stdout.split('\n').find((l) => l.startsWith('verified'))!;
    const [, got, host] = /CRC-32 (0x\w+) \(host (0x\w+)\)/.exec(line)!;
    expect(got).toBe(host);
    // The forecast is printed with the app's fixed(v, 4) (firmware/es5/fixed.js). On the watch's
    // emulator it is nonsense, mostly past 2^53 / 10^4, which fixed() prints as "big": its
    // Float64Array does not hold a double (parity/watch-float64.ts), and the app keeps its forecasts
    // in one. The integer step is exact there (verify() above); the lines must still come, one per
    // sample, in order, each with a forecast as fixed() prints one.
    const forecast = target.id === 'BANGLEJS2' ? '(?:-?\\d+\\.\\d{4}|-?big|-?Infinity|NaN)' : '-?\\d+\\.\\d{4}';
    const sampleLine = new RegExp(`^board: lstm-mcu t=(\\d+) x1=${forecast} error=`);
    const samples = r.stdout
      .split('\n')
      .map((l) => sampleLine.exec(l))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]));
    expect(samples.length, r.stdout).toBeGreaterThanOrEqual(10);
    expect(samples).toEqual(samples.map((_, i) => samples[0]! + i));
    expect(r.lastJson()).toMatchObject({ command: 'flash', verified: true });
  }, 120_000);

  it("the app is saved: after a restart of the board's process it boots from .bootcde and samples", async () => {
    await stopBoard(board);
    board = await target.start(dir);
    const c = await BoardConnection.open(PORT, 10_000);
    try {
      const first = (await c.evaluate('lstmApp.stats.steps', 'steps', 10_000)) as number;
      await new Promise((r) => setTimeout(r, 1000));
      const later = (await c.evaluate('lstmApp.stats.steps', 'steps', 10_000)) as number;
      expect(later).toBeGreaterThan(first);
      expect(await c.evaluate('require("Storage").list().indexOf("lstm-app.new")', 'staging file', 10_000)).toBe(-1);
    } finally {
      await c.close();
    }
  }, 60_000);

  it('sampling allocates nothing: memory use is the same after 20 more samples', async () => {
    const r = await runCli(flashArgs(['--no-console', '--no-advertise']), dir);
    expect(r.code, r.stderr).toBe(0);
    const c = await BoardConnection.open(PORT, 10_000);
    try {
      // Each reading is taken with the app's sampling timer stopped (and started again at once): the
      // firmware keeps a timer's time to its next run inside the timer's own block while it is under
      // 8,192 µs (2^13: the watch's blocks hold 14-bit references), in a block of its own otherwise,
      // so a reading taken within 8 ms of a sample was one block lower, whatever the app allocated.
      // With each reading, where the blocks are (E.getSizeOf of every global and its members), for the failure message.
      const usage = async () =>
        (await c.evaluate(
          '(function(){lstmApp.stop();var u=process.memory().usage;var at=E.getSizeOf(global,2).map(function(o){return JSON.stringify(o.name)+":"+o.size+(o.more?"{"+o.more.map(function(p){return JSON.stringify(p.name)+":"+p.size;}).join(",")+"}":"");}).join(",");lstmApp.start();return [u,at];})()',
          'memory',
          10_000,
        )) as [number, string];
      const steps = async () => (await c.evaluate('lstmApp.stats.steps', 'steps', 10_000)) as number;
      // The first reading after the app's first scored sample: stats.sq starts as the integer 0, held
      // inside its name's block, and the first squared error makes it a float in a block of its own.
      // Read before that (the app starts with 8 warm-up samples), "stats" grew 27 -> 28 blocks, once.
      for (const until = Date.now() + 30_000; ((await c.evaluate('lstmApp.stats.scored', 'scored', 10_000)) as number) === 0;) {
        if (Date.now() > until) throw new Error('the app scored no sample within 30 s');
        await new Promise((r) => setTimeout(r, 200));
      }
      await usage();
      const u0 = await usage();
      const s0 = await steps();
      await new Promise((r) => setTimeout(r, 2000));
      expect(await steps()).toBeGreaterThanOrEqual(s0 + 15);
      const u1 = await usage();
      expect(u1[0], `blocks after: ${u1[1]}\nblocks before: ${u0[1]}`).toBe(u0[0]);
    } finally {
      await c.close();
    }
  }, 120_000);

  it('a busy board (a program printing every 20 ms) is interrupted, recognised and flashed', async () => {
    const c = await BoardConnection.open(PORT, 10_000);
    try {
      c.send('\x10clearInterval(); setInterval(function () { print("busy " + Date.now()); }, 20);\n');
      await c.waitFor(/busy \d+[\s\S]*busy \d+/, 'the busy program printing', 10_000);
    } finally {
      await c.close();
    }
    const r = await runCli(flashArgs(), dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(verifiedOnBoard);
  }, 120_000);

  it('weights in flash: the Storage file is written and checked, and the app verifies', async () => {
    const r = await runCli(flashArgs(['--weights', 'flash', '--listen', '1']), dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/writing the weights: Storage file "lstm-w-[0-9a-f]{8}\.bin"/);
    expect(r.stdout).toMatch(verifiedOnBoard);
    expect(r.stdout).toMatch(/^board: lstm-mcu t=\d+ x1=/m);
  }, 120_000);

  /** The CRC-32 of .bootcde, and that the app it holds is running (its steps advance). */
  async function previousAppRuns(c: BoardConnection): Promise<number> {
    const first = (await c.evaluate('lstmApp.stats.steps', 'steps', 10_000)) as number;
    await new Promise((r) => setTimeout(r, 600));
    expect((await c.evaluate('lstmApp.stats.steps', 'steps', 10_000)) as number).toBeGreaterThan(first);
    return (await c.evaluate('E.CRC32(require("Storage").read(".bootcde"))>>>0', 'crc', 10_000)) as number;
  }

  /** Erase a refusal case's Storage filler, also after a failed expectation: the cases after it need the room. */
  async function eraseFiller(): Promise<void> {
    const c = await BoardConnection.open(PORT, 10_000);
    await c.evaluate('(require("Storage").erase("junk"),1)', 'erasing the filler', 10_000).finally(() => c.close());
  }

  it('an app that fits Storage once but not twice is refused before .bootcde is touched; the previous app runs', async () => {
    // the size of the app this flash writes
    const probe = await runCli(
      ['bundle', '--model', modelFile, '--source', 'function', '--reader', reader, '--interval', '100', '--out', 'probe.js'],
      dir,
    );
    expect(probe.code, probe.stderr).toBe(0);
    const B = fs.statSync(path.join(dir, 'probe.js')).size;
    const c0 = await BoardConnection.open(PORT, 10_000);
    let before: number;
    try {
      before = await previousAppRuns(c0);
      // leave room for the staged copy and half of it again: the commit cannot fit, even after compacting
      await c0.evaluate(
        `(function(){var S=require("Storage");S.compact();var f=S.getStats().freeBytes;S.write("junk"," ",0,f-(${B}+32+${B >> 1})-32);return 1;})()`,
        'filling Storage',
        30_000,
      );
    } finally {
      await c0.close();
    }
    try {
      const r = await runCli(flashArgs(), dir);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1), r.stderr).toMatch(
        /^lstm-mcu flash: error: the board's Storage cannot hold the app twice while it is saved .*; the board still holds and runs its previous app \(\.bootcde unchanged\)$/,
      );
      const c = await BoardConnection.open(PORT, 10_000);
      try {
        await new Promise((r) => setTimeout(r, 1000));
        expect(await previousAppRuns(c)).toBe(before);
        expect(await c.evaluate('require("Storage").list().indexOf("lstm-app.new")', 'staging', 10_000)).toBe(-1);
      } finally {
        await c.close();
      }
    } finally {
      await eraseFiller();
    }
  }, 120_000);

  it('an app that fails when it loads never replaces the one on the board', async () => {
    const c0 = await BoardConnection.open(PORT, 10_000);
    const before = await previousAppRuns(c0).finally(() => c0.close());
    const code = '// an app that throws at load\nthrow new Error("boom at load");\n';
    const failing: Bundle = { code, expected: { checksum: 0, selfTest: [] }, crc32: crc32(Buffer.from(code, 'ascii')) };
    const err = await flashBundle(failing, { port: PORT, appGlobal: 'lstmApp', timeoutMs: 20_000, listenMs: 0, log: () => {} }).catch(
      (e: unknown) => e as Error,
    );
    expect(String(err)).toMatch(
      /the app failed on the board after load\("lstm-app\.new"\): Uncaught Error: boom at load; the board still holds and runs its previous app/,
    );
    const c = await BoardConnection.open(PORT, 10_000);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      expect(await previousAppRuns(c)).toBe(before);
    } finally {
      await c.close();
    }
  }, 120_000);

  it('a disconnect during the upload gives a clear error and leaves the previous app running', async () => {
    const c0 = await BoardConnection.open(PORT, 10_000);
    const before = await c0.evaluate('E.CRC32(require("Storage").read(".bootcde"))>>>0', 'crc', 10_000);
    await c0.close();
    const other = forecastModel(4);
    const otherFile = path.join(dir, 'other.q.pb');
    writeArtifact(otherFile, encodeQuantizedModel(other));
    const run = runCli([...flashArgs(), '--model', otherFile], dir);
    await new Promise((r) => setTimeout(r, 3500)); // connected and writing by now
    await stopBoard(board);
    const r = await run;
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^lstm-mcu flash: error: .*(disconnected|could not connect|no answer)/);
    board = await target.start(dir);
    const c = await BoardConnection.open(PORT, 10_000);
    try {
      expect(await c.evaluate('E.CRC32(require("Storage").read(".bootcde"))>>>0', 'crc', 10_000)).toBe(before);
      const first = (await c.evaluate('lstmApp.stats.steps', 'steps', 10_000)) as number;
      await new Promise((r) => setTimeout(r, 600));
      expect((await c.evaluate('lstmApp.stats.steps', 'steps', 10_000)) as number).toBeGreaterThan(first);
    } finally {
      await c.close();
    }
  }, 120_000);

  /** The app `model` with its weights in flash, built as `lstm-mcu flash --weights flash` builds it. */
  const flashWeightsBundle = (model: string): Promise<Bundle> =>
    bundleFrom(appInputs({ model, source: 'function', reader, interval: 100, weights: 'flash' }));

  /** What the board holds and runs: verify() of the running app, .bootcde's CRC-32, the per-model weights files, the staging file. */
  async function boardHolds(): Promise<{ verify: string; bootcde: number; weights: string[]; staging: boolean }> {
    const c = await BoardConnection.open(PORT, 10_000);
    try {
      const bootcde = await previousAppRuns(c);
      const verify = String(await c.evaluate('lstmApp.verify()', 'verify()', 10_000));
      const files = (await c.evaluate('require("Storage").list()', 'list', 10_000)) as string[];
      return { verify, bootcde, weights: files.filter((f) => /^lstm-w-/.test(f)).sort(), staging: files.includes('lstm-app.new') };
    } finally {
      await c.close();
    }
  }

  /** test/helpers/flash-cut.ts: a flash of `model` cut off (board process `pid` killed) when it logs a line matching `cutAt`. */
  const flashCut = (o: { model: string; reader: string; port: string; cutAt: string; pid: number }) =>
    new Promise<{ lines: string[]; error?: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', path.resolve(__dirname, '../helpers/flash-cut.ts'), JSON.stringify(o)],
        { encoding: 'utf8', timeout: 120_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim()))),
      ),
    );

  const verifyOf = (b: Bundle) => `${b.expected.checksum} ${b.expected.selfTest.join(',')}`;
  const flashOpts = (log: (line: string) => void = () => {}) => ({
    port: PORT,
    appGlobal: 'lstmApp',
    timeoutMs: 20_000,
    listenMs: 0,
    log,
  });

  it('flash weights: each model gets its own weights file; a failure at any phase leaves the previous app with its own weights', async () => {
    const a = await flashWeightsBundle(modelFile);
    const bFile = path.join(dir, 'b.q.pb');
    // other weights, the same training statistics: the reader's readings are good for both apps
    writeArtifact(bFile, encodeQuantizedModel({ ...forecastModel(5), inputNorm: forecastModel(3).inputNorm }));
    const b = await flashWeightsBundle(bFile);
    expect(a.flash!.file).toMatch(/^lstm-w-[0-9a-f]{8}\.bin$/);
    expect(b.flash!.file).not.toBe(a.flash!.file);
    expect(verifyOf(b)).not.toBe(verifyOf(a));
    await flashBundle(a, flashOpts());
    const withA = { verify: verifyOf(a), bootcde: a.crc32 };
    expect(await boardHolds()).toMatchObject({ ...withA, weights: [a.flash!.file], staging: false });

    // A board error after the new weights and the staged app are written (the staged app fails
    // verify()): both are erased, and the previous app is loaded again.
    const wrong: Bundle = { ...b, expected: { ...b.expected, checksum: (b.expected.checksum ^ 1) >>> 0 } };
    const err = await flashBundle(wrong, flashOpts()).catch((e: unknown) => e as Error);
    expect(String(err)).toMatch(/verification failed: .*; the board still holds and runs its previous app \(\.bootcde unchanged\)$/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await boardHolds()).toMatchObject({ ...withA, weights: [a.flash!.file], staging: false });

    // A cut (the board's process killed) after the weights, after the staged app, just before the
    // commit: a restart boots the previous app, reading its own weights.
    for (const phase of ['^writing the app', '^trying the staged app', '^saving']) {
      const killed = board!;
      const exited = new Promise((r) => killed.once('exit', r));
      const cut = await flashCut({ model: bFile, reader, port: PORT, cutAt: phase, pid: killed.pid! });
      expect(cut.error, `cut at ${phase}`).toMatch(/disconnected/);
      expect(cut.lines.some((l) => new RegExp(phase).test(l))).toBe(true);
      await exited;
      board = await target.start(dir);
      const held = await boardHolds();
      expect(held, `after a cut at ${phase}`).toMatchObject(withA);
      expect(held.weights).toContain(a.flash!.file);
    }

    // A flash that succeeds leaves only the new weights; the same weights again are not rewritten.
    await flashBundle(b, flashOpts());
    expect(await boardHolds()).toMatchObject({ verify: verifyOf(b), bootcde: b.crc32, weights: [b.flash!.file], staging: false });
    const log: string[] = [];
    await flashBundle(
      b,
      flashOpts((line) => log.push(line)),
    );
    expect(log).toContain(`the weights are on the board already: Storage file "${b.flash!.file}"`);
    expect(log.some((l) => /^writing the weights/.test(l))).toBe(false);
    expect(await boardHolds()).toMatchObject({ verify: verifyOf(b), weights: [b.flash!.file] });
  }, 240_000);

  it('flash weights: the free-Storage check counts the new weights beside the old ones, before anything is written', async () => {
    const before = await boardHolds();
    const cFile = path.join(dir, 'c.q.pb');
    writeArtifact(cFile, encodeQuantizedModel({ ...forecastModel(6), inputNorm: forecastModel(3).inputNorm }));
    const c = await flashWeightsBundle(cFile);
    const appBytes = Buffer.byteLength(c.code);
    const weightsBytes = c.flash!.bytes.length;
    const c0 = await BoardConnection.open(PORT, 10_000);
    try {
      // room for the staged app and the new .bootcde, and half of the new weights
      await c0.evaluate(
        `(function(){var S=require("Storage");S.compact();var f=S.getStats().freeBytes;S.write("junk"," ",0,f-(2*(${appBytes}+64)+${weightsBytes >> 1})-64);return 1;})()`,
        'filling Storage',
        30_000,
      );
    } finally {
      await c0.close();
    }
    try {
      const log: string[] = [];
      const err = await flashBundle(
        c,
        flashOpts((line) => log.push(line)),
      ).catch((e: unknown) => e as Error);
      expect(String(err)).toMatch(
        /the board's Storage cannot hold the app twice while it is saved \(the staged copy and the new \.bootcde, beside the new weights\): .*; the board still holds and runs its previous app/,
      );
      expect(log.some((l) => /^writing/.test(l))).toBe(false);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await boardHolds()).toEqual(before);
    } finally {
      await eraseFiller();
    }
  }, 120_000);

  it('an app with its weights in RAM, once saved, erases the weights files of earlier apps that nothing names', async () => {
    const c0 = await BoardConnection.open(PORT, 10_000);
    try {
      // an App Loader app reading one of them keeps it
      await c0.evaluate(
        '(require("Storage").write("lstm-w-00000000.bin","w"),require("Storage").write("other.app.js","require(\\"Storage\\").read(\\"lstm-w-00000000.bin\\")"),1)',
        'writing',
        10_000,
      );
    } finally {
      await c0.close();
    }
    const r = await runCli(flashArgs(), dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^erased the weights of earlier apps: lstm-w-[0-9a-f]{8}\.bin$/m);
    const held = await boardHolds();
    expect(held.weights).toEqual(['lstm-w-00000000.bin']);
    const c = await BoardConnection.open(PORT, 10_000);
    await c
      .evaluate('(require("Storage").erase("lstm-w-00000000.bin"),require("Storage").erase("other.app.js"),1)', 'erasing', 10_000)
      .finally(() => c.close());
  }, 120_000);
});
