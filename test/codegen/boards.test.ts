/**
 * Device budgets (`codegen --board`): board names, the estimate against
 * what a real Espruino build measures (when ESPRUINO_BIN is set: the
 * estimate must not be below it; on the watch's firmware, loaded from Storage
 * as deployed and typed into the console), what fits a Puck.js, and the
 * refusal that says what would fit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { budgetRefusal, deviceBudget, parseBoard, type Board, type EspruinoBoard } from '../../codegen/boards.ts';
import { emitModule, flashWeights, type EmitOptions } from '../../codegen/emit-module.ts';
import { EngineCapacityError, engineByName, runOnWatchAsIs } from '../../parity/engines.ts';
import { storageUploadCode } from '../../firmware/espruino-tools.ts';
import { encodeQuantizedModel, writeArtifact } from '../../core/artifact.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { runCli } from '../helpers/run-cli.ts';
import { estimateRam } from '../../codegen/ram-estimate.ts';
import { DEFAULT_NATIVE, nativeForBoard, nativeHeld } from '../../codegen/emit-native.ts';
import { armhfEngine, type NativeEngine } from '../../parity/native-engines.ts';

const ESPRUINO = process.env.ESPRUINO_BIN;
const BANGLE2 = process.env.BANGLE2_DIR;
const ARMHF = process.env.ESPRUINO_ARMHF_BIN;
if (!BANGLE2) console.log('boards: the estimate-vs-watch check is skipped, BANGLE2_DIR is not set to the Bangle.js 2 firmware emulator');
if (!ESPRUINO) console.log('boards: the estimate-vs-Espruino check is skipped, ESPRUINO_BIN is not set to a Linux Espruino build');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-boards-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const emit = (flash: boolean): EmitOptions => ({
  target: 'espruino',
  globalName: 'm',
  modelSha256: 'a'.repeat(64),
  generatorVersion: 'test',
  ...(flash ? { flash: { file: 'm.bin', writer: 'm.weights.js' } } : {}),
});
/** What `codegen --board` emits for `board`: auto holds its kernel, none with weights in flash where its Storage is not memory-mapped. */
const emitOn = (board: Board, flash: boolean): EmitOptions => ({
  ...emit(flash),
  native:
    board.kind === 'espruino' ? nativeForBoard(DEFAULT_NATIVE, board.envBoard, flash && Boolean(board.storageExternal)) : DEFAULT_NATIVE,
});
const WATCH = parseBoard('banglejs2');
const budgetOn = (q: QuantizedModel, board: Board) =>
  deviceBudget(
    q,
    board,
    [
      { weights: 'ram', code: emitModule(q, emitOn(board, false)) },
      { weights: 'flash', code: emitModule(q, emitOn(board, true)) },
    ],
    emitOn(board, false),
  );
/** What `budgetRefusal` counts for a smaller model: its need with the chosen placement. */
const needOn = (board: Board, weights: 'ram' | 'flash') => (m: QuantizedModel) =>
  budgetOn(m, board).placements.find((p) => p.weights === weights)!.peak;

describe('board names', () => {
  it('accepts every board of the table in any spelling, and a JerryScript heap', () => {
    expect(parseBoard('Puck.js')).toMatchObject({ name: 'Puck.js', blocks: 2630, blockSize: 13 });
    expect(parseBoard('bangle.js 2')).toMatchObject({ name: 'Bangle.js 2', blocks: 12000, blockSize: 14 });
    expect(parseBoard('jerryscript')).toMatchObject({ kind: 'jerryscript', heapBytes: 512 * 1024 });
    expect(parseBoard('jerryscript:256')).toMatchObject({ heapBytes: 256 * 1024 });
    expect(() => parseBoard('arduino')).toThrow(
      /unknown board; expected one of puckjs, pixljs, mdbt42q, banglejs1, banglejs2, pico, wifi, original, jerryscript\[:KiB\]/,
    );
  });
});

describe('budgets', () => {
  it('a 3x32 LSTM with weights in flash fits a Puck.js with a quarter of it left for the app', () => {
    const r = budgetOn(randomQuantizedModel({ seed: 3, inputSize: 3, units: 32 }), parseBoard('puckjs'));
    const flash = r.placements.find((p) => p.weights === 'flash')!;
    console.log(
      `boards: 3x32 LSTM on a Puck.js: ~${flash.total} blocks with flash weights, ~${r.placements.find((p) => p.weights === 'ram')!.total} in RAM, of ${r.budget}`,
    );
    expect(flash.fits).toBe(true);
    expect(flash.total).toBeLessThan(r.placements.find((p) => p.weights === 'ram')!.total / 2);
    expect(budgetRefusal(r, 'flash', randomQuantizedModel({ seed: 3, inputSize: 3, units: 32 }), needOn(r.board, 'flash'))).toBeUndefined();
  });

  it('a model too large for the board is refused, saying what would fit', () => {
    const q = randomQuantizedModel({ seed: 4, inputSize: 3, units: 96 });
    const r = budgetOn(q, parseBoard('banglejs2'));
    const message = budgetRefusal(r, 'ram', q, needOn(r.board, 'ram'))!;
    expect(message).toMatch(
      /^the model needs ~\d+ blocks on Bangle\.js 2 while it loads from Storage with weights in ram \(~\d+ once loaded\), more than the 9000 it may use \(3000 kept for the app\); /,
    );
    expect(message).toMatch(/put the weights in flash \(--weights flash: ~\d+ blocks while loading from Storage\)/);
    expect(message).toMatch(/retrain with \d+ units in the last layer \(the others scaled alike\) or fewer/);
    // Fewer units as suggested do fit, one more does not.
    const units = Number(/retrain with (\d+) units/.exec(message)![1]);
    const smaller = budgetOn(randomQuantizedModel({ seed: 4, inputSize: 3, units }), parseBoard('banglejs2'));
    expect(smaller.placements.find((p) => p.weights === 'ram')!.fits).toBe(true);
    const larger = budgetOn(randomQuantizedModel({ seed: 4, inputSize: 3, units: units + 1 }), parseBoard('banglejs2'));
    expect(larger.placements.find((p) => p.weights === 'ram')!.fits).toBe(false);
  });

  it('JerryScript: bytes of the heap', () => {
    const q = randomQuantizedModel({ seed: 5, inputSize: 3, units: 16 });
    const r = deviceBudget(
      q,
      parseBoard('jerryscript:64'),
      [{ weights: 'ram', code: emitModule(q, { ...emit(false), target: 'es5' }) }],
      emit(false),
    );
    expect(r.unit).toBe('bytes');
    expect(r.budget).toBe(48 * 1024);
    expect(r.placements[0]!.fits).toBe(true);
    expect(
      budgetRefusal(
        deviceBudget(
          q,
          parseBoard('jerryscript:8'),
          [{ weights: 'ram', code: emitModule(q, { ...emit(false), target: 'es5' }) }],
          emit(false),
        ),
        'ram',
        q,
        (m) =>
          deviceBudget(
            m,
            parseBoard('jerryscript:8'),
            [{ weights: 'ram', code: emitModule(m, { ...emit(false), target: 'es5' }) }],
            emit(false),
          ).placements[0]!.peak,
      ),
    ).toMatch(/bytes on JerryScript \(8 KiB heap\)/);
  });
});

describe.runIf(Boolean(ESPRUINO))('the estimate against Espruino', () => {
  it.each([
    { cell: 'lstm' as const, units: 32 },
    { cell: 'gru' as const, units: 16 },
    { cell: 'rnn' as const, units: 48 },
  ])(
    '$cell x $units: not below what the Linux build measures, weights in RAM and in flash',
    async ({ cell, units }) => {
      const q = randomQuantizedModel({ seed: 6, inputSize: 3, units, cell });
      // The Linux build: 27-byte blocks; its total is what the estimate is held against.
      const linux: EspruinoBoard = { kind: 'espruino', id: 'linux', name: 'Linux build', blocks: 1 << 20, blockSize: 27 };
      const r = budgetOn(q, linux);
      for (const p of r.placements) {
        const flash = p.weights === 'flash';
        const pre = flash ? flashWeights(q, emit(true)).writer : '';
        const out = (
          await engineByName('espruino')!.run(
            `${pre}var u0 = process.memory().usage;\n${emitModule(q, emit(flash))}\nm.stepQ(new Int8Array(3)); m.step([1, 2, 3]);\nprint("BLOCKS " + (process.memory().usage - u0));\nprint("END");`,
          )
        ).join('\n');
        const measured = Number(/BLOCKS (\d+)/.exec(out)![1]);
        // The Linux build runs the module from a file read into RAM: its code is in RAM, as when typed.
        console.log(
          `boards: ${cell} 3x${units}, weights in ${p.weights}: estimate ${p.typed.total}, measured ${measured} blocks (27-byte)`,
        );
        expect(p.typed.total).toBeGreaterThanOrEqual(measured);
        expect(p.typed.total).toBeLessThan(measured * 1.6);
      }
    },
    300_000,
  );
});

describe.runIf(Boolean(ARMHF))('the estimate where the kernel runs (the ARM Linux build as PUCKJS)', () => {
  it.each([
    { cell: 'lstm' as const, units: 32 },
    { cell: 'gru' as const, units: 16 },
  ])(
    '$cell x $units: the kernel path, not below what the build measures and within 1.6x; the JavaScript path larger',
    async ({ cell, units }) => {
      const q = randomQuantizedModel({ seed: 6, inputSize: 3, units, cell });
      // The ARM Linux build: 15-byte blocks, the module run from a file in RAM (its code counted as typed).
      const linux: EspruinoBoard = { kind: 'espruino', id: 'linuxarm', name: 'ARM Linux build', blocks: 1 << 20, blockSize: 15 };
      const p = budgetOn(q, linux).placements.find((x) => x.weights === 'ram')!;
      const paths = estimateRam(q, { blockSize: 15, native: nativeHeld(q, emit(false), false) }).native!;
      expect(p.data).toBe(Math.max(paths.kernelPath, paths.jsPath));
      const kernelEstimate = p.typed.total - p.data + paths.kernelPath;
      const program = `var RP = process;\nvar process = { env: { BOARD: "PUCKJS" } };\nvar u0 = RP.memory().usage;\n${emitModule(q, emit(false))}\nm.stepQ(new Int8Array(3)); m.step([1, 2, 3]);\nprint("BLOCKS " + (RP.memory().usage - u0) + " " + m.info.native);\nprint("END");\n`;
      const out = (await (armhfEngine() as NativeEngine).run(program)).join('\n');
      const [, measured, path] = /BLOCKS (\d+) (\S+)/.exec(out)!;
      console.log(
        `boards: ${cell} 3x${units} on the ARM Linux build as PUCKJS (${path}): kernel-path estimate ${kernelEstimate}, measured ${measured} blocks (15-byte)`,
      );
      expect(path).toBe('m4');
      expect(kernelEstimate).toBeGreaterThanOrEqual(Number(measured));
      expect(kernelEstimate).toBeLessThan(Number(measured) * 1.6);
      expect(paths.jsPath).toBeGreaterThan(paths.kernelPath);
    },
    300_000,
  );
});

/**
 * What leaves exactly `free` blocks free (one block per small integer pushed, the last ones counted
 * without a garbage collection); undefined: free as it is.
 */
function filler(free: number | undefined): string {
  return free === undefined
    ? ''
    : `var F = [], K = (process.memory().free - ${free}) * 0.9, I;\nfor (I = 0; I < K; I++) F.push(1);\n` +
        `while (process.memory(false).free > ${free}) F.push(1);\nprint("FREE " + process.memory().free);\n`;
}

/** The filler, then the model loaded and stepped, and the blocks that took. */
function fillAndLoad(q: QuantizedModel, flash: boolean, free: number | undefined): string {
  const x = JSON.stringify(Array.from({ length: q.layers[0].inputSize }, (_, i) => i));
  return `${filler(free)}var U0 = process.memory().usage;\n${emitModule(q, emitOn(WATCH, flash))}\nm.stepQ(new Int8Array(${q.layers[0].inputSize})); m.step(${x});\nprint("BLOCKS " + (process.memory().usage - U0));\nprint("END");\n`;
}

/**
 * The program for the watch: the weights file first (flash), then either the module typed into the
 * console after the filler, or, as `lstm-mcu flash` and the App Loader deploy, written into a Storage
 * file in chunks (as espruino-tools writes one) and started with load(), which restarts the
 * interpreter: that file holds the filler and, should the load run out of memory, a timer that still
 * ends the run.
 */
function watchProgram(q: QuantizedModel, flash: boolean, how: 'typed' | 'storage', free: number | undefined): string {
  const pre = flash ? `${flashWeights(q, emitOn(WATCH, true)).writer}\n` : '';
  if (how === 'typed') return `${pre}${fillAndLoad(q, flash, free)}`;
  const file = `setTimeout(function () { F = undefined; print("<<done>>"); }, 10);\n${fillAndLoad(q, flash, free)}`;
  return `${pre}${storageUploadCode('m.js', Buffer.from(file, 'latin1'))}\nload("m.js");\n`;
}

/** Blocks in use after the load and a step (from free as it is), or whether it loads with `free` blocks free. */
async function onWatch(
  q: QuantizedModel,
  flash: boolean,
  how: 'typed' | 'storage',
  free?: number,
): Promise<{ loaded: boolean; blocks?: number; free?: number }> {
  try {
    const source = watchProgram(q, flash, how, free);
    const out = (how === 'typed' ? await engineByName('bangle2')!.run(source) : await runOnWatchAsIs(source)).join('\n');
    const blocks = /BLOCKS (\d+)/.exec(out);
    const left = /FREE (\d+)/.exec(out);
    return {
      loaded: Boolean(blocks) && !/out of memory/i.test(out),
      blocks: blocks ? Number(blocks[1]) : undefined,
      free: left ? Number(left[1]) : undefined,
    };
  } catch (err) {
    if (err instanceof EngineCapacityError) return { loaded: false };
    throw err;
  }
}

/**
 * The peak: with `peak` blocks free the model loads and steps, with 1/1.3 of them it does not
 * (filled to 2 blocks less: the lines between the filler and the module hold a block or two).
 */
async function checkPeak(q: QuantizedModel, flash: boolean, how: 'typed' | 'storage', peak: number): Promise<string> {
  const enough = await onWatch(q, flash, how, peak - 2);
  const short = await onWatch(q, flash, how, Math.floor(peak / 1.3));
  expect(enough.free).toBeLessThanOrEqual(peak);
  expect(enough.loaded).toBe(true);
  expect(short.free).toBeGreaterThanOrEqual(Math.floor(peak / 1.3) - 2);
  expect(short.loaded).toBe(false);
  return `loads with ${enough.free} free, not with ${short.free}`;
}

describe.runIf(Boolean(BANGLE2))('the estimate against the Bangle.js 2 firmware', () => {
  it.each([
    { cell: 'lstm' as const, units: 32 },
    { cell: 'gru' as const, units: 16 },
    { cell: 'rnn' as const, units: 48 },
  ])(
    '$cell x $units: from Storage, loaded and while loading, not below what the watch measures and within 1.3x; typed, within 1.3x while loading',
    async ({ cell, units }) => {
      const q = randomQuantizedModel({ seed: 6, inputSize: 3, units, cell });
      const r = budgetOn(q, parseBoard('banglejs2'));
      for (const p of r.placements) {
        const flash = p.weights === 'flash';
        const loaded = await onWatch(q, flash, 'storage');
        expect(loaded.loaded).toBe(true);
        expect(p.total).toBeGreaterThanOrEqual(loaded.blocks!);
        expect(p.total).toBeLessThan(loaded.blocks! * 1.3);
        const storage = await checkPeak(q, flash, 'storage', p.peak);
        // Typed into the console (the IDE's upload; the bangle2 engine's runner): what engine-capacity holds against the watch.
        const typed = await checkPeak(q, flash, 'typed', p.typed.peak);
        console.log(
          `boards: ${cell} 3x${units}, weights in ${p.weights} on the watch: from Storage, estimate ${p.total} loaded (measured ${loaded.blocks}), ` +
            `${p.peak} while loading (${storage}); typed, estimate ${p.typed.peak} while loading (${typed})`,
        );
      }
    },
    600_000,
  );
});

describe('lstm-mcu codegen --board', () => {
  it('reports the budget; refuses a model that does not fit with one line and writes nothing', async () => {
    const small = path.join(tmp, 'small.q.pb');
    const large = path.join(tmp, 'large.q.pb');
    writeArtifact(small, encodeQuantizedModel(randomQuantizedModel({ seed: 7, inputSize: 3, units: 16 })));
    writeArtifact(large, encodeQuantizedModel(randomQuantizedModel({ seed: 8, inputSize: 3, units: 96 })));
    const ok = await runCli(['codegen', small, '--board', 'banglejs2', '--out-dir', path.join(tmp, 'ok'), '--json'], tmp);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Bangle\.js 2: 12000 blocks, 3000 kept for the app: the model may use 9000/);
    expect(ok.stdout).toMatch(
      /weights in ram: ~\d+ blocks loaded .*, ~\d+ while loading from Storage: fits; sent to RAM by typing: ~\d+ while loading/,
    );
    expect(JSON.parse(ok.stdout.trim().split('\n').pop()!).budget.placements).toHaveLength(2);
    const bad = await runCli(['codegen', large, '--board', 'puckjs', '--out-dir', path.join(tmp, 'bad')], tmp);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(
      /on Puck\.js while it loads from Storage with weights in ram .*more than the 1972 it may use .*--weights flash/,
    );
    expect(fs.existsSync(path.join(tmp, 'bad'))).toBe(false);
    const flash = await runCli(
      ['codegen', large, '--board', 'puckjs', '--weights', 'flash', '--target', 'espruino', '--out-dir', path.join(tmp, 'flash')],
      tmp,
    );
    expect(flash.code, flash.stderr).toBe(0);
    expect(flash.stdout).toMatch(/Puck\.js: 2630 blocks, 658 kept for the app: the model may use 1972/);
    expect(flash.stdout).toMatch(/weights in flash: ~\d+ blocks loaded .*, ~\d+ while loading from Storage: fits/);
    expect(fs.existsSync(path.join(tmp, 'flash', 'model.bin'))).toBe(true);
  }, 120_000);
});
