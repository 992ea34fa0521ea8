/**
 * The kernel blobs against the simulator, bit for bit at every step (every
 * output, h, c and gate), on bare-metal QEMU: the M4 blob on mps2-an386
 * (Cortex-M4) and on mps2-an505 (Cortex-M33 with the DSP extension), the M3 blob
 * on mps2-an385 (Cortex-M3). Random streaming models of
 * every cell kind, stacked, with weights large enough to saturate, and int8
 * sequences with extremes, and every golden model the kernel runs (test/golden). Skipped, with the reason, where the cross compiler or
 * qemu-system-arm is missing (CI installs both: .ci/run).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import fc from 'fast-check';
import { CELL_KINDS, type QuantizedModel } from '../../core/model.ts';
import { randomQuantizedModel, randomSegments } from '../../parity/random-model.ts';
import { nativeParity } from '../../parity/native-parity.ts';
import { NATIVE_CELL, buildNativeContext, nativeUnsupported, type NativeState } from '../../native/context.ts';
import { nativeToolsMissing } from '../../native/toolchain.ts';
import { MACHINE, NATIVE_TARGETS } from '../../parity/native-qemu.ts';
import { modelFromJson, type GoldenFile } from '../golden/golden-io.ts';

const missing = nativeToolsMissing(['arm-none-eabi-gcc', 'qemu-system-arm']);
/**
 * The kinds the kernel has a step for: a clockwork layer and a depth-gated stack keep the JavaScript step
 * (native/context.ts; the depth-gated refusal is checked below).
 */
const NATIVE_KINDS = CELL_KINDS.filter((k) => NATIVE_CELL[k] !== undefined);
if (missing) console.log(`native parity: skipped: ${missing}`);
const seed = Number(process.env.PARITY_SEED ?? Date.now() % 2 ** 31);
if (!missing) console.log(`native parity: fast-check seed ${seed} (PARITY_SEED=${seed} to replay)`);

/** The golden models the kernel has a step for (not the window models, the clockwork nor the depth-gated), by file name. */
const goldenDir = new URL('../golden/', import.meta.url);
const GOLDEN = fs
  .readdirSync(goldenDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ f, golden: JSON.parse(fs.readFileSync(new URL(f, goldenDir), 'utf8')) as GoldenFile }))
  .map(({ f, golden }) => ({ f, q: modelFromJson(golden.model), segments: golden.segments }))
  .filter(({ q }) => nativeUnsupported(q) === undefined);

/** One continuous int8 sequence of `steps` inputs with a share of extremes. */
const sequence = (seed: number, inputSize: number, steps: number, extremeShare: number): Int8Array =>
  Int8Array.from(randomSegments(seed, inputSize, [steps], extremeShare)[0].flatMap((x) => Array.from(x)));

function expectExact(q: QuantizedModel, xs: Int8Array) {
  for (const target of NATIVE_TARGETS) {
    const run = nativeParity(q, xs, target);
    expect(run.mismatch, run.mismatch).toBeUndefined();
    expect(run.steps).toBe(xs.length / q.layers[0].inputSize);
  }
}

it('refuses a depth-gated stack in one line: the kernel steps each layer on its own', () => {
  const q = randomQuantizedModel({ seed: 4, inputSize: 2, units: 4, cell: 'depth-gated' });
  expect(nativeUnsupported(q)).toBe('depth-gated layers run in JavaScript: the kernel steps each layer on its own and has no depth gate');
  expect(() => buildNativeContext(q)).toThrow(/^native context: depth-gated layers run in JavaScript/);
});

it('has the cross compiler and qemu-system-arm on CI', () => {
  if (process.env.CI) expect(missing).toBe('');
});

describe.skipIf(missing !== '')('the native kernel matches the simulator bit for bit', () => {
  it('random streaming models (every cell, 1-40 units, 1-3 layers, saturating weights) and int8 sequences with extremes (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          cell: fc.constantFrom(...NATIVE_KINDS),
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          inputSize: fc.integer({ min: 1, max: 6 }),
          units: fc.oneof(
            { arbitrary: fc.integer({ min: 1, max: 12 }), weight: 3 },
            { arbitrary: fc.integer({ min: 13, max: 40 }), weight: 1 },
          ),
          outputSize: fc.integer({ min: 1, max: 3 }),
          weightRange: fc.constantFrom(0.1, 1, 4, 16),
          biasRange: fc.constantFrom(0, 0.5, 4),
          extremeShare: fc.constantFrom(0, 0.2, 1),
          steps: fc.integer({ min: 1, max: 60 }),
          stacked: fc.array(fc.record({ cell: fc.constantFrom(...NATIVE_KINDS), units: fc.integer({ min: 1, max: 16 }) }), {
            maxLength: 2,
          }),
        }),
        (p) => expectExact(randomQuantizedModel(p), sequence(p.seed, p.inputSize, p.steps, p.extremeShare)),
      ),
      { seed, numRuns: 20 },
    );
  }, 300_000);

  it.each(NATIVE_KINDS)('a larger %s model (8 inputs x 64 units, two outputs) over 100 steps', (cell) => {
    const q = randomQuantizedModel({ seed: 7, inputSize: 8, units: 64, outputSize: 2, cell });
    expectExact(q, sequence(7, 8, 100, 0.1));
  });

  it.each(GOLDEN.map((g) => [g.f, g] as const))('golden %s: every segment from a fresh context', (_, { q, segments }) => {
    for (const segment of segments) expectExact(q, Int8Array.from(segment.flat()));
  });

  it('runs the golden models of every cell kind the kernel has', () => {
    expect(new Set(GOLDEN.flatMap((g) => g.q.layers.map((l) => l.cell)))).toEqual(new Set(NATIVE_KINDS));
  });

  it('every cell kind stacked in one model', () => {
    const [first, ...rest] = NATIVE_KINDS;
    const q = randomQuantizedModel({
      seed: 12,
      inputSize: 3,
      units: 9,
      outputSize: 3,
      cell: first,
      stacked: rest.map((cell, i) => ({ cell, units: 4 + i })),
    });
    expectExact(q, sequence(12, 3, 80, 0.2));
  });

  it('a stack whose units are not multiples of 4: h, c and gates packed, so a layer reads an h that starts mid-word', () => {
    const q = randomQuantizedModel({
      seed: 21,
      inputSize: 5,
      units: 5,
      outputSize: 2,
      cell: 'lstm',
      stacked: [
        { cell: 'gru', units: 3 },
        { cell: 'peephole', units: 7 },
        { cell: 'rnn', units: 1 },
        { cell: 'cifg', units: 6 },
      ],
    });
    const { plan } = buildNativeContext(q);
    expect(plan.layers.map((p) => p.hOff % 4)).toEqual([0, 1, 0, 3, 0]);
    expectExact(q, sequence(21, 5, 60, 0.2));
  });

  it.each(NATIVE_TARGETS)(
    'saturating models saturate natively too on %s: gate inputs past the table, h at 127/−128, c at the int16 ends',
    (target) => {
      const wide = randomQuantizedModel({ seed: 5, inputSize: 4, units: 16, cell: 'lstm', weightRange: 16, biasRange: 4 });
      // The same weights with the cell in Q0.15 (K = 0) instead of its calibrated format: c reaches ±1 and saturates.
      const narrowCell: QuantizedModel = { ...wide, layers: [{ ...wide.layers[0], cellIntBits: 0 }] };
      const xs = sequence(5, 4, 60, 1);
      const [runWide, runNarrow] = [wide, narrowCell].map((q) => nativeParity(q, xs, target));
      for (const run of [runWide, runNarrow]) expect(run.mismatch, run.mismatch).toBeUndefined();
      const T = wide.tables.tanhQ15;
      // A gate input at or past either end of the table reads its first or last entry (σ: through (T + 2^15) >> 1).
      const gateEnds = [T[0], T[2047], (T[0] + 32768) >> 1, (T[2047] + 32768) >> 1];
      const seen = (states: NativeState[], pick: (s: NativeState) => ArrayLike<number>, values: number[]) =>
        states.some((s) => Array.from(pick(s)).some((v) => values.includes(v)));
      expect(seen(runWide.states, (s) => s.hQ7, [127, -128])).toBe(true);
      expect(seen(runWide.states, (s) => s.gatesQ15, gateEnds)).toBe(true);
      expect(seen(runNarrow.states, (s) => s.cellQ, [32767, -32768])).toBe(true);
    },
  );

  it('every cell format: c in Q0.15 through Q6.9 (K = 0..6: the argument of tanh(c) shifted right, kept, or multiplied)', () => {
    const base = randomQuantizedModel({ seed: 6, inputSize: 3, units: 6, cell: 'lstm', weightRange: 4, biasRange: 1 });
    const xs = sequence(6, 3, 40, 0.3);
    for (const K of [0, 1, 2, 3, 4, 6]) {
      const q: QuantizedModel = { ...base, layers: [{ ...base.layers[0], cellIntBits: K }] };
      for (const target of NATIVE_TARGETS) {
        const run = nativeParity(q, xs, target);
        expect(run.mismatch, `K = ${K}: ${run.mismatch}`).toBeUndefined();
      }
    }
  });

  it.each(NATIVE_TARGETS)('finds a difference on %s: one weight changed in the context is a mismatch at the first step', (target) => {
    const q = randomQuantizedModel({ seed: 3, inputSize: 2, units: 4, cell: 'gru' });
    const ctx = buildNativeContext(q);
    ctx.bytes[ctx.plan.layers[0].weightsOff] ^= 0x40;
    const run = nativeParity(q, Int8Array.from([100, -100, 50, 20]), target, ctx);
    const line = /^step 0: (outputAcc|hQ7|cellQ|gatesQ15)\[\d+\] is -?\d+ natively, -?\d+ in the simulator$/;
    expect(run.mismatch?.startsWith(`${MACHINE[target]}: `), run.mismatch).toBe(true);
    expect(run.mismatch?.slice(`${MACHINE[target]}: `.length)).toMatch(line);
  });
});
