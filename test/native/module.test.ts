/**
 * The generated `espruino` module with the native kernels (codegen --native):
 * - through E.nativeCall on espruino-armhf under qemu-arm (as PUCKJS: m4; as
 *   ESPRUINOBOARD: m3) and on Espruino's STM32F405 firmware (its own board name:
 *   m4), every output, h, c and gate equal to the simulator at every step, and
 *   the same module as LINUXARM (the JavaScript step) equal to the native run;
 *   E.defrag() moving the module's flat string between steps (armhf);
 * - the fallback, with its reason in info.native, on the x86 Linux Espruino,
 *   Node's vm and Duktape;
 * - the board table of the load-time choice, without any engine.
 * The ARM runs are skipped, with the reason, where their engines or tools are
 * missing (.ci/run installs and points at them); on CI a missing one fails.
 */
import fs from 'node:fs';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { emitModule, flashWeights } from '../../codegen/emit-module.ts';
import { DEFAULT_NATIVE, NATIVE_BOARD_CPU, nativeForBoard, nativeModule, type NativeOption } from '../../codegen/emit-native.ts';
import { parseBoard } from '../../codegen/boards.ts';
import { modelDataCrc32 } from '../../codegen/checksum.ts';
import { es5Lines } from '../../codegen/es5-source.ts';
import { availableEngines } from '../../parity/engines.ts';
import { armhfEngine, runNativeModule, stm32f405Engine, type NativeEngine } from '../../parity/native-engines.ts';
import type { StorageFile } from '../../parity/stm32f405.ts';
import { randomQuantizedModel, randomSegments } from '../../parity/random-model.ts';
import { modelFromJson, type GoldenFile } from '../golden/golden-io.ts';
import { isWindowModel, type CellKind, type QuantizedModel } from '../../core/model.ts';

const EMIT = { target: 'espruino', globalName: 'nativeModel', modelSha256: '', generatorVersion: 'test' } as const;
const module = (q: QuantizedModel, native: NativeOption = 'auto') => emitModule(q, { ...EMIT, native });

const armhf = armhfEngine();
const stm32 = stm32f405Engine();
for (const [name, e] of [
  ['espruino-armhf', armhf],
  ['stm32f405', stm32],
] as const)
  if (typeof e === 'string') console.log(`native module on ${name}: skipped: ${e}`);

/** Random streaming models of every cell kind (several sizes), and two stacks (units not multiples of 4 in each). */
const CELLS: CellKind[] = ['lstm', 'peephole', 'cifg', 'gru', 'gru-reset-after', 'rnn'];
const RANDOM_MODELS = [
  ...CELLS.map((cell, i) => ({
    label: `random ${cell}`,
    q: randomQuantizedModel({
      seed: 40 + i,
      inputSize: 1 + i,
      units: 3 + 5 * i,
      outputSize: 1 + (i % 3),
      cell,
      weightRange: i % 2 ? 4 : 1,
    }),
  })),
  {
    label: 'random stacked lstm 5 / gru-reset-after 3 / peephole 6 (state packed, an h mid-word)',
    q: randomQuantizedModel({
      seed: 51,
      inputSize: 2,
      units: 5,
      outputSize: 1,
      cell: 'lstm',
      stacked: [
        { cell: 'gru-reset-after', units: 3 },
        { cell: 'peephole', units: 6 },
      ],
    }),
  },
  {
    label: 'random stacked lstm 8 / gru 4 / rnn 5',
    q: randomQuantizedModel({
      seed: 50,
      inputSize: 3,
      units: 8,
      outputSize: 2,
      cell: 'lstm',
      stacked: [
        { cell: 'gru', units: 4 },
        { cell: 'rnn', units: 5 },
      ],
    }),
  },
];
const goldenDir = new URL('../golden/', import.meta.url);
const GOLDEN = fs
  .readdirSync(goldenDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ label: `golden ${f}`, golden: JSON.parse(fs.readFileSync(new URL(f, goldenDir), 'utf8')) as GoldenFile }))
  .map(({ label, golden }) => ({
    label,
    q: modelFromJson(golden.model),
    segments: golden.segments.map((s) => s.map((x) => Int8Array.from(x))),
  }));

const segmentsOf = (q: QuantizedModel, seed: number) => randomSegments(seed, q.layers[0].inputSize, [25, 10], 0.2);

it('has both ARM Espruino builds and their tools on CI', () => {
  if (process.env.CI) {
    expect(armhf).not.toBeTypeOf('string');
    expect(stm32).not.toBeTypeOf('string');
  }
});

describe('the load-time choice (codegen/es5/native-kernel.js)', () => {
  const choose = (E: unknown, board: string, kernels: Record<string, string>, env: Record<string, unknown> = {}) => {
    const lines = es5Lines('native-kernel', {
      words: { BOARD_CPUS: JSON.stringify(NATIVE_BOARD_CPU), STATE_OFF: '0', STATE_BYTES: '0' },
    });
    return vm.runInNewContext(`${lines.join('\n')}\nnativeCpu(KERNELS)`, {
      E,
      process: { env: { BOARD: board, ...env } },
      KERNELS: kernels,
    });
  };
  const withNativeCall = { nativeCall: () => 0, toFlatString: (s: string) => s };

  it.each(Object.entries(NATIVE_BOARD_CPU))('board %s runs the %s kernel', (board, cpu) => {
    expect(choose(withNativeCall, board, { m4: 'x', m3: 'x' })).toBe(cpu);
    expect(choose(withNativeCall, board, { [cpu === 'm4' ? 'm3' : 'm4']: 'x' })).toMatch(
      /^js: board \w+ runs the m[34] kernel, which this module does not hold/,
    );
  });

  it('a Puck.js: its firmware names PUCKJS, which runs m4; a module for --board puckjs holds m4 alone and takes it', () => {
    const puck = parseBoard('puckjs');
    expect(puck.kind === 'espruino' && puck.envBoard).toBe('PUCKJS');
    expect(NATIVE_BOARD_CPU.PUCKJS).toBe('m4');
    expect(DEFAULT_NATIVE).toBe('auto');
    expect(nativeForBoard(DEFAULT_NATIVE, 'PUCKJS')).toBe('m4');
    expect(nativeForBoard(DEFAULT_NATIVE, 'ESPRUINOBOARD')).toBe('m3');
    expect(nativeForBoard('off', 'PUCKJS')).toBe('off');
    const code = module(RANDOM_MODELS[0].q, nativeForBoard(DEFAULT_NATIVE, 'PUCKJS'));
    expect(code).toMatch(/var NATIVE_KERNELS = \{ m4: "/);
    expect(code).not.toMatch(/\bm3: "/);
    expect(choose(withNativeCall, 'PUCKJS', { m4: 'x' })).toBe('m4');
  });

  it('keeps the JavaScript step on the Web IDE emulator, which names its board but runs no Thumb-2 code', () => {
    expect(choose(withNativeCall, 'BANGLEJS2', { m4: 'x', m3: 'x' }, { EMULATED: true })).toBe(
      'js: board BANGLEJS2 is emulated (process.env.EMULATED), which runs no Thumb-2 code',
    );
  });

  it('keeps the JavaScript step on other boards and without E.nativeCall', () => {
    for (const board of ['ESP32', 'ESP8266', 'RPI_PICO_W', 'LINUX', 'LINUXARM', 'MICROBIT1', 'toString'])
      expect(choose(withNativeCall, board, { m4: 'x', m3: 'x' })).toBe(
        `js: board ${board} is not a Cortex-M3/M4 board the kernel is built for`,
      );
    expect(choose({ convolve: () => 0 }, 'PUCKJS', { m4: 'x' })).toMatch(/^js: E\.nativeCall is missing/);
    expect(choose(undefined, 'PUCKJS', { m4: 'x' })).toMatch(/^js: E\.nativeCall is missing/);
  });

  it('says why a model keeps the JavaScript step at generation', () => {
    const info = (code: string) => (vm.runInNewContext(`${code}\nnativeModel.info`, {}) as { native: string }).native;
    const q = randomQuantizedModel({ seed: 1, inputSize: 2, units: 5, cell: 'lstm' });
    expect(info(module(q, 'off'))).toBe('js: generated with codegen --native off');
    const window = randomQuantizedModel({ seed: 1, inputSize: 2, units: 4, cell: 'gru', bidirectional: 'concat', window: 6 });
    expect(isWindowModel(window)).toBe(true);
    expect(info(module(window))).toMatch(/^js: window models .* the kernel has the streaming step only$/);
    // a stack whose units are not multiples of 4 has its state packed: it holds the kernels
    const ragged = randomQuantizedModel({ seed: 1, inputSize: 2, units: 5, cell: 'lstm', stacked: [{ cell: 'gru', units: 3 }] });
    expect(nativeModule(ragged, 'espruino', 'auto', false).kind).toBe('native');
    const clockwork = randomQuantizedModel({ seed: 1, inputSize: 2, units: 8, cell: 'clockwork' });
    expect(info(module(clockwork))).toBe('js: clockwork layers run in JavaScript: the kernel has no step for them');
  });
});

describe('the fallback where the kernel cannot run: exact, with its reason', () => {
  const { engines } = availableEngines();
  it.each(RANDOM_MODELS.slice(0, 2).concat(RANDOM_MODELS.slice(-1)))('$label', async ({ q }) => {
    for (const engine of engines) {
      const run = await runNativeModule(engine, q, module(q), 'nativeModel', segmentsOf(q, 3));
      expect(run.mismatch, run.mismatch).toBeUndefined();
      const why = engine.name === 'espruino' ? /^js: board LINUX is not a Cortex-M3\/M4 board/ : /^js: E\.nativeCall is missing/;
      expect(run.path, engine.name).toMatch(why);
    }
  });
});

/**
 * Blocks the module `code` holds after loading and one step on `engine` as `board` (`files` in its Storage),
 * by the engine's own process.memory(), kept before the board's name replaces process; its checksum() and path.
 */
async function heldAfterStep(engine: NativeEngine, board: string, code: string, files: StorageFile[] = []) {
  const program =
    `var RP = process;\nvar process = { env: { BOARD: ${JSON.stringify(board)} } };\nvar U0 = RP.memory().usage;\n${code}\n` +
    `nativeModel.stepQ(new Int8Array(3));\nprint("BLOCKS " + (RP.memory().usage - U0) + " " + RP.memory().blocksize);\n` +
    `print("CRC " + nativeModel.checksum());\nprint("NATIVE " + nativeModel.info.native);\nprint("END");\n`;
  const out = (await engine.run(program, files)).join('\n');
  const [, blocks, blockSize] = /BLOCKS (\d+) (\d+)/.exec(out)!.map(Number);
  return { blocks, blockSize, crc: Number(/CRC (\d+)/.exec(out)![1]), path: /NATIVE (.*)/.exec(out)![1]!.trim() };
}

/** The module as `boards` on `engine`: the first must take `cpu`; every native run and the JavaScript run equal the simulator and each other. */
async function expectNativeExact(
  engine: NativeEngine,
  q: QuantizedModel,
  segments: Int8Array[][],
  boards: [string, string][],
  jsBoard?: string,
) {
  const code = module(q);
  const runs = [];
  for (const [board, cpu] of boards) {
    const run = await runNativeModule(engine, q, code, 'nativeModel', segments, board);
    expect(run.path, `${engine.name} as ${board}`).toBe(cpu);
    expect(run.mismatch, run.mismatch).toBeUndefined();
    runs.push(run);
  }
  if (jsBoard) {
    const js = await runNativeModule(engine, q, code, 'nativeModel', segments, jsBoard);
    expect(js.path).toMatch(/^js: /);
    expect(js.mismatch, js.mismatch).toBeUndefined();
    for (const run of runs) expect(run.trace).toEqual(js.trace);
  }
  expect(runs[0].trace.length).toBe(segments.reduce((s, x) => s + x.length, 0));
}

describe.skipIf(typeof armhf === 'string')('through E.nativeCall on espruino-armhf (qemu-arm)', () => {
  const engine = armhf as NativeEngine;
  const BOARDS: [string, string][] = [
    ['PUCKJS', 'm4'],
    ['ESPRUINOBOARD', 'm3'],
  ];
  it.each(RANDOM_MODELS)(
    '$label: m4, m3 and the JavaScript step, every step exact',
    async ({ q }) => {
      await expectNativeExact(engine, q, segmentsOf(q, 9), BOARDS, 'LINUXARM');
    },
    120_000,
  );

  // The golden models the kernel runs (not the window models: 'says why' above), the stack of 6, 5 and 4 units among them.
  it.each(GOLDEN.filter((g) => nativeModule(g.q, 'espruino', 'auto', false).kind === 'native'))(
    '$label: m4 and m3, every step exact',
    async ({ q, segments }) => {
      await expectNativeExact(engine, q, segments, BOARDS);
    },
    120_000,
  );

  it("weights once: where the kernel runs, the JavaScript step's weights are not built; checksum() is the host's on both paths", async () => {
    const q = randomQuantizedModel({ seed: 62, inputSize: 3, units: 32, outputSize: 2, cell: 'lstm' });
    const code = module(q);
    const host = modelDataCrc32(q, { target: 'espruino', globalName: 'nativeModel', modelSha256: '', generatorVersion: 'test' });
    const held = (board: string) => heldAfterStep(engine, board, code);
    const kernel = await held('PUCKJS');
    const js = await held('LINUXARM');
    expect(kernel.path).toBe('m4');
    expect(js.path).toMatch(/^js: /);
    expect(kernel.crc).toBe(host);
    expect(js.crc).toBe(host);
    // The kernel path holds the kernel's flat string besides the context, and still saves at least the gate weight matrix.
    const gateWeightBlocks = Math.ceil(q.layers[0].weightsQ.length / kernel.blockSize);
    console.log(
      `native module on espruino-armhf, LSTM 3x32: ${kernel.blocks} blocks where the kernel runs, ${js.blocks} where the JavaScript step runs`,
    );
    expect(js.blocks - kernel.blocks).toBeGreaterThanOrEqual(gateWeightBlocks);
  }, 120_000);

  it('finds a difference: a changed weight in the module is a mismatch', async () => {
    const q = RANDOM_MODELS[0].q;
    const changed = { ...q, layers: [{ ...q.layers[0], weightsQ: q.layers[0].weightsQ.map((w, i) => (i === 0 ? w ^ 0x40 : w)) }] };
    const run = await runNativeModule(engine, q, module(changed as QuantizedModel), 'nativeModel', segmentsOf(q, 9), 'PUCKJS');
    expect(run.path).toBe('m4');
    expect(run.mismatch).toMatch(/^espruino-armhf as PUCKJS: first mismatch at segment 0, step \d+, /);
  }, 60_000);
});

describe.skipIf(typeof stm32 === 'string')("through E.nativeCall on Espruino's STM32F405 firmware (qemu-system-arm)", () => {
  const engine = stm32 as NativeEngine;
  // The firmware's own name chooses m4; an unknown name keeps the JavaScript step on the same firmware.
  const BOARDS: [string, string][] = [['STM32F405RG', 'm4']];
  const JS_BOARD = 'NOT_A_CORTEX_M_BOARD';
  it.each(RANDOM_MODELS)(
    '$label: m4 and the JavaScript step, every step exact',
    async ({ q }) => {
      await expectNativeExact(engine, q, segmentsOf(q, 9), BOARDS, JS_BOARD);
    },
    120_000,
  );

  it.each(GOLDEN.filter((g) => nativeModule(g.q, 'espruino', 'auto', false).kind === 'native'))(
    '$label: m4, every step exact',
    async ({ q, segments }) => {
      await expectNativeExact(engine, q, segments, BOARDS);
    },
    120_000,
  );

  // The demo's size, every kind, with weights in ±1 and in ±4 (which saturate).
  it.each(CELLS.flatMap((cell) => [1, 4].map((weightRange) => ({ cell, units: 32, weightRange }))))(
    '$cell 3x$units (weights in ±$weightRange): m4 and the JavaScript step, every step exact',
    async ({ cell, units, weightRange }) => {
      const q = randomQuantizedModel({ seed: 60, inputSize: 3, units, outputSize: 2, cell, weightRange });
      await expectNativeExact(engine, q, randomSegments(61, 3, [12, 6], 0.2), BOARDS, JS_BOARD);
    },
    120_000,
  );

  // Weights in flash: the Storage file (context, kernels, the JavaScript step's arrays) is in the firmware's memory-mapped flash.
  const flashOptions = { ...EMIT, flash: { file: 'nm.bin', writer: 'nm.weights.js' } };
  const flashRun = (q: QuantizedModel, board: string, segments: Int8Array[][]) =>
    runNativeModule(
      { name: engine.name, run: (program) => engine.run(program, [{ name: 'nm.bin', bytes: flashWeights(q, flashOptions).bytes }]) },
      q,
      emitModule(q, flashOptions),
      'nativeModel',
      segments,
      board,
    );
  it.each([
    ...RANDOM_MODELS,
    { label: 'lstm 3x32', q: randomQuantizedModel({ seed: 62, inputSize: 3, units: 32, outputSize: 2, cell: 'lstm' }) },
  ])(
    'weights in flash, $label: m4 reads them from the Storage file in place; equal to the simulator and the JavaScript step',
    async ({ q }) => {
      const segments = segmentsOf(q, 9);
      const native = await flashRun(q, 'STM32F405RG', segments);
      expect(native.path).toBe('m4');
      expect(native.mismatch, native.mismatch).toBeUndefined();
      const js = await flashRun(q, JS_BOARD, segments);
      expect(js.path).toMatch(/^js: board NOT_A_CORTEX_M_BOARD/);
      expect(js.mismatch, js.mismatch).toBeUndefined();
      expect(native.trace).toEqual(js.trace);
    },
    120_000,
  );

  it("weights in flash: an LSTM 3x32's kernel path holds at least its weights fewer blocks than with weights in RAM", async () => {
    const q = randomQuantizedModel({ seed: 62, inputSize: 3, units: 32, outputSize: 2, cell: 'lstm' });
    const held = async (code: string, files: StorageFile[]) => {
      const run = await heldAfterStep(engine, 'STM32F405RG', code, files);
      expect(run.path).toBe('m4');
      return run;
    };
    const ram = await held(module(q), []);
    const flash = await held(emitModule(q, flashOptions), [{ name: 'nm.bin', bytes: flashWeights(q, flashOptions).bytes }]);
    console.log(`native module on stm32f405, LSTM 3x32: ${ram.blocks} blocks with weights in RAM, ${flash.blocks} with weights in flash`);
    const weightBlocks = Math.ceil((q.layers[0].weightsQ.length + 4096) / ram.blockSize);
    expect(ram.blocks - flash.blocks).toBeGreaterThanOrEqual(weightBlocks);
  }, 60_000);

  it('finds a difference: a changed weight in the module is a mismatch', async () => {
    const q = RANDOM_MODELS[0].q;
    const changed = { ...q, layers: [{ ...q.layers[0], weightsQ: q.layers[0].weightsQ.map((w, i) => (i === 0 ? w ^ 0x40 : w)) }] };
    const run = await runNativeModule(engine, q, module(changed as QuantizedModel), 'nativeModel', segmentsOf(q, 9), 'STM32F405RG');
    expect(run.path).toBe('m4');
    expect(run.mismatch).toMatch(/^stm32f405 as STM32F405RG: first mismatch at segment 0, step \d+, /);
  }, 60_000);
});

describe.skipIf(typeof armhf === 'string')('E.defrag() between steps (espruino-armhf, qemu-arm)', () => {
  it('moves the flat string of context and kernel, and every step stays exact: the entry stub finds the context from its own address', async () => {
    const engine = armhf as NativeEngine;
    const q = RANDOM_MODELS[0].q;
    const code = module(q);
    // Garbage allocated before the module and freed after it: E.defrag() then moves the module's flat string down.
    const junk = 'var JUNK = []; for (var j = 0; j < 400; j++) JUNK.push("junk " + j);\n';
    const address = 'E.getAddressOf(nativeModel.state.h, true)';
    const defrag = `\nvar A0 = ${address}; nativeModel.stepQ(new Int8Array(${q.layers[0].inputSize})); nativeModel.reset(); JUNK = undefined; E.defrag();\nprint("MOVED " + A0 + " " + ${address});\n`;
    let lines: string[] = [];
    const moving = { name: engine.name, run: async (p: string) => (lines = await engine.run(p.replace(code, junk + code + defrag))) };
    const run = await runNativeModule(moving, q, code, 'nativeModel', segmentsOf(q, 9), 'PUCKJS');
    const [, before, after] = /MOVED (\d+) (\d+)/.exec(lines.join('\n'))!.map(Number);
    expect(run.path).toBe('m4');
    expect(before).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    expect(run.mismatch, run.mismatch).toBeUndefined();
  }, 60_000);
});
