/**
 * The es5 module generated with `codegen --native host` in the JerryScript host of
 * firmware/jerryscript/ (run_script.c with lstm_native.c and the kernel native/lstm-step.c,
 * built once here by scripts/build-jerry-host.sh with the system cc against JerryScript 3.0):
 * - with lstmNativeStep the module takes the native path (info.native "host"); without it, in the
 *   same host, the JavaScript step; both equal the simulator in every output, h, c and gate at
 *   every step, and each other (random models of every kind the kernel has, all of them stacked,
 *   the golden models it runs); a flipped weight is a mismatch, and one flipped in the context
 *   alone is a mismatch on the native path only; the argument contract holds on the native path;
 * - the host refuses what is not a context; the kernel refuses, on this CPU too, to compile
 *   without -fwrapv or optimisation; glue and kernel compile for a Cortex-M4 board;
 * - the fallback and its reason where no host provides the step (Node's vm), and at generation.
 * Skipped, with the reason, where the JerryScript folder or cc is missing; on CI a missing one fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitModule } from '../../codegen/emit-module.ts';
import { nativeModule } from '../../codegen/emit-native.ts';
import { CELL_KINDS, type QuantizedModel } from '../../core/model.ts';
import { NATIVE_CELL, NATIVE_MAGIC, buildNativeContext } from '../../native/context.ts';
import { NATIVE_DIR, nativeToolsMissing } from '../../native/toolchain.ts';
import { availableEngines } from '../../parity/engines.ts';
import { buildJerryHost, jerryHostMissing, jerryScriptDir, type JerryHost } from '../../parity/jerry-host.ts';
import { runNativeModule } from '../../parity/native-engines.ts';
import { parseStepCallTrace, simulateStepCalls, stepCallDriverSource, type StepCall } from '../../parity/step-call-driver.ts';
import { randomQuantizedModel, randomSegments } from '../../parity/random-model.ts';
import { modelFromJson, type GoldenFile } from '../golden/golden-io.ts';

const hostModule = (q: QuantizedModel) =>
  emitModule(q, { target: 'es5', globalName: 'nativeModel', modelSha256: '', generatorVersion: 'test', native: 'host' });

const missing = jerryHostMissing();
if (missing) console.log(`JerryScript host: skipped: ${missing}`);

/** The kinds the kernel has a step for (native/context.ts): one random model each, then all of them stacked. */
const NATIVE_KINDS = CELL_KINDS.filter((k) => NATIVE_CELL[k] !== undefined);
const MODELS = [
  ...NATIVE_KINDS.map((cell, i) => ({
    label: `random ${cell}`,
    q: randomQuantizedModel({
      seed: 70 + i,
      inputSize: 1 + i,
      units: 3 + 5 * i,
      outputSize: 1 + (i % 3),
      cell,
      weightRange: i % 2 ? 4 : 1,
    }),
  })),
  {
    label: `random stack of ${NATIVE_KINDS.join(', ')}`,
    q: randomQuantizedModel({
      seed: 80,
      inputSize: 3,
      units: 8,
      outputSize: 2,
      cell: NATIVE_KINDS[0],
      weightRange: 2,
      // units in whole words: the state the API shows is then one view of the context (codegen/emit-native.ts nativeViews)
      stacked: NATIVE_KINDS.slice(1).map((cell, i) => ({ cell, units: i % 2 ? 8 : 4 })),
    }),
  },
];
/** The golden models the kernel runs in a host (not the window models, the clockwork nor the depth-gated). */
const goldenDir = new URL('../golden/', import.meta.url);
const GOLDEN = fs
  .readdirSync(goldenDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ label: `golden ${f}`, golden: JSON.parse(fs.readFileSync(new URL(f, goldenDir), 'utf8')) as GoldenFile }))
  .map(({ label, golden }) => ({
    label,
    q: modelFromJson(golden.model),
    segments: golden.segments.map((s) => s.map((x) => Int8Array.from(x))),
  }))
  .filter((g) => nativeModule(g.q, 'es5', 'host', false).kind === 'native');
const segmentsOf = (q: QuantizedModel, seed: number) => randomSegments(seed, q.layers[0].inputSize, [40, 15], 0.2);

it('has JerryScript 3.0 and a C compiler on CI', () => {
  if (process.env.CI) expect(missing).toBe('');
});

describe.skipIf(missing !== '')('the es5 module in the JerryScript host (scripts/build-jerry-host.sh)', () => {
  let host: JerryHost;
  beforeAll(() => {
    host = buildJerryHost();
  }, 240_000);
  afterAll(() => {
    if (host) fs.rmSync(path.dirname(host.binary), { recursive: true, force: true });
  });

  it.each(MODELS)(
    '$label: the native step and the JavaScript step, every step exact',
    async ({ q }) => {
      const code = hostModule(q);
      const segments = segmentsOf(q, 9);
      const native = await runNativeModule(host.native, q, code, 'nativeModel', segments);
      expect(native.path).toBe('host');
      expect(native.mismatch, native.mismatch).toBeUndefined();
      const js = await runNativeModule(host.js, q, code, 'nativeModel', segments);
      expect(js.path).toBe('js: the host has no lstmNativeStep function (firmware/jerryscript/HOST_API.md)');
      expect(js.mismatch, js.mismatch).toBeUndefined();
      expect(native.trace).toEqual(js.trace);
      expect(native.trace.length).toBe(55);
    },
    60_000,
  );

  it.each(GOLDEN)(
    '$label: the native step, every step exact',
    async ({ q, segments }) => {
      const run = await runNativeModule(host.native, q, hostModule(q), 'nativeModel', segments);
      expect(run.path).toBe('host');
      expect(run.mismatch, run.mismatch).toBeUndefined();
      expect(run.trace.length).toBe(segments.reduce((n, s) => n + s.length, 0));
    },
    60_000,
  );

  it('runs every golden model but the window models, the clockwork and the depth-gated', () => {
    expect(GOLDEN.map((g) => g.label.replace(/^golden |\.json$/g, ''))).toEqual([
      'cifg-3x6',
      'embedding-lstm-12x4x6',
      'gru-3x6',
      'gru-reset-after-3x6',
      'lstm-2x4-saturating',
      'lstm-3x8',
      'peephole-3x6',
      'rnn-2x5',
      'stacked-lstm-gru-rnn-3x6x5x4',
    ]);
  });

  it('finds a difference: a flipped weight in the module is a mismatch', async () => {
    const q = MODELS[0].q;
    const flipped = { ...q, layers: [{ ...q.layers[0], weightsQ: q.layers[0].weightsQ.map((w, i) => (i === 0 ? w ^ 0x40 : w)) }] };
    const run = await runNativeModule(host.native, q, hostModule(flipped as QuantizedModel), 'nativeModel', segmentsOf(q, 9));
    expect(run.path).toBe('host');
    expect(run.mismatch).toMatch(/^jerry-host: first mismatch at segment 0, step \d+, /);
  }, 60_000);

  it('steps through the kernel: a weight flipped in the context alone is a mismatch there, not in the JavaScript step', async () => {
    const q = MODELS[MODELS.length - 1].q;
    const context = buildNativeContext(q);
    const bytes = context.bytes.slice();
    bytes[context.plan.layers[0].weightsOff] ^= 0x40;
    const code = hostModule(q);
    const literal = `var NATIVE_CONTEXT = "${Buffer.from(context.bytes).toString('base64')}";`;
    expect(code).toContain(literal);
    const changed = code.replace(literal, `var NATIVE_CONTEXT = "${Buffer.from(bytes).toString('base64')}";`);
    const native = await runNativeModule(host.native, q, changed, 'nativeModel', segmentsOf(q, 9));
    expect(native.path).toBe('host');
    expect(native.mismatch).toMatch(/^jerry-host: first mismatch at segment 0, step \d+, /);
    const js = await runNativeModule(host.js, q, changed, 'nativeModel', segmentsOf(q, 9));
    expect(js.mismatch, js.mismatch).toBeUndefined();
  }, 60_000);

  it('the native step takes the same arguments: its copy of an Int8Array, value by value for the rest, the same TypeError', async () => {
    const q = randomQuantizedModel({ seed: 5, inputSize: 2, units: 5, outputSize: 2 });
    const stepQ = ['new Int8Array([3, -4])', '[3, -4]', '[new Number(3), new Number(-4)]', '["3", true]', '[3.7, -3.7]', '[200, -1e10]'];
    const wrong = ['5', 'null', '[1, 2, 3]', 'new Int8Array(3)'];
    const step = ['[0.25, -1]', 'new Float64Array([0.25, -1])', '[NaN, Infinity]'];
    const calls: StepCall[] = [
      ...[...stepQ, ...wrong].map((arg) => ({ fn: 'stepQ' as const, arg })),
      ...step.map((arg) => ({ fn: 'step' as const, arg })),
    ];
    const lines = await host.native.run(
      `${hostModule(q)}${stepCallDriverSource('nativeModel', calls)}print("NATIVE " + nativeModel.info.native);\n`,
    );
    expect(lines).toContain('NATIVE host');
    const expected = simulateStepCalls(q, calls);
    expect(expected.filter((r) => r.startsWith('throws true ')).length).toBe(wrong.length);
    expect(parseStepCallTrace(lines, host.native.name)).toEqual(expected);
  }, 60_000);

  it('lstmNativeStep refuses what is not a context, and steps nothing', async () => {
    const context = hostModule(MODELS[0].q);
    const program = [
      context,
      'var bad = new ArrayBuffer(256), u = new Uint8Array(bad), i;',
      'print("MAGIC " + lstmNativeStep(bad));',
      'print("SMALL " + lstmNativeStep(new ArrayBuffer(8)));',
      // the right magic, one layer, offsets past the end of the buffer
      `u[0] = ${NATIVE_MAGIC & 0xff}; u[1] = ${(NATIVE_MAGIC >> 8) & 0xff}; u[2] = ${(NATIVE_MAGIC >> 16) & 0xff}; u[3] = ${NATIVE_MAGIC >>> 24}; u[4] = 1; u[8] = 0xff; u[9] = 0xff;`,
      'print("OFFSETS " + lstmNativeStep(bad));',
      'try { lstmNativeStep(new Int8Array(64)); } catch (e) { print("THROWS " + e.name + ": " + e.message); }',
      'print("END");',
    ].join('\n');
    const lines = await host.native.run(program);
    expect(lines).toContain('MAGIC -1');
    expect(lines).toContain('SMALL -17');
    expect(lines).toContain('OFFSETS -17');
    expect(lines).toContain("THROWS TypeError: lstmNativeStep(context): context must be an ArrayBuffer (the module's native context)");
  }, 60_000);

  it('the kernel refuses to compile for this CPU without -fwrapv or without optimisation', () => {
    const compile = (flags: string[]) =>
      spawnSync(process.env.CC ?? 'cc', ['-std=c11', '-c', path.join(NATIVE_DIR, 'lstm-step.c'), '-o', '/dev/null', ...flags], {
        encoding: 'utf8',
      });
    expect(compile(['-O2', '-fwrapv']).status).toBe(0);
    const noWrap = compile(['-O2']);
    expect(noWrap.status).not.toBe(0);
    expect(noWrap.stderr).toContain('compile with -fwrapv');
    expect(compile(['-O0', '-fwrapv']).stderr).toContain('build with optimisation');
  });
});

const armMissing = nativeToolsMissing(['arm-none-eabi-gcc']);
describe.skipIf(missing !== '' || armMissing !== '')('on a Cortex-M4 JerryScript board (arm-none-eabi-gcc)', () => {
  it('the host glue and the kernel compile, the kernel to its SXTB16/SMLAD path', () => {
    const include = ['-I', NATIVE_DIR, '-I', path.join(jerryScriptDir(), 'include')];
    const flags = ['-std=c11', '-O2', '-fwrapv', '-fno-strict-aliasing', '-mthumb', '-mcpu=cortex-m4', '-Wall', '-Wextra', '-Werror', '-S'];
    const compile = (file: string) =>
      spawnSync('arm-none-eabi-gcc', [...flags, ...include, file, '-o', '-'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const glue = compile(path.join(NATIVE_DIR, '..', 'firmware', 'jerryscript', 'lstm_native.c'));
    expect(glue.status, glue.stderr).toBe(0);
    const kernel = compile(path.join(NATIVE_DIR, 'lstm-step.c'));
    expect(kernel.status, kernel.stderr).toBe(0);
    expect(kernel.stdout).toMatch(/\bsmlad\b/);
  });
});

describe('where no host provides the native step', () => {
  it('the module keeps the JavaScript step, exact, and says why (Node vm)', async () => {
    const vm = availableEngines().engines.find((e) => e.name === 'vm')!;
    const q = MODELS[MODELS.length - 1].q;
    const run = await runNativeModule(vm, q, hostModule(q), 'nativeModel', segmentsOf(q, 4));
    expect(run.path).toBe('js: the host has no lstmNativeStep function (firmware/jerryscript/HOST_API.md)');
    expect(run.mismatch, run.mismatch).toBeUndefined();
  });

  it('says at generation when a module holds no host step', () => {
    const q = MODELS[0].q;
    expect(nativeModule(q, 'espruino', 'host', false)).toEqual({
      kind: 'js',
      reason: "js: codegen --native host is for the es5 target (a JerryScript host's lstmNativeStep)",
    });
    expect(nativeModule(q, 'es5', 'auto', false)).toEqual({ kind: 'js', reason: 'js: the es5 target runs the JavaScript step' });
    const clockwork = randomQuantizedModel({ seed: 1, inputSize: 2, units: 8, cell: 'clockwork' });
    expect(nativeModule(clockwork, 'es5', 'host', false)).toEqual({
      kind: 'js',
      reason: 'js: clockwork layers run in JavaScript: the kernel has no step for them',
    });
  });
});
