/**
 * The generated code (both targets) against the simulator, step by step, on
 * every engine available: Node's vm, vm with the Espruino natives emulated,
 * Duktape (`duk`), and real Espruino / JerryScript builds and the Bangle.js 2
 * firmware when ESPRUINO_BIN / JERRY_BIN / BANGLE2_DIR are set. Zero tolerance.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { availableEngines, EngineCapacityError } from '../../parity/engines.ts';
import { checkParity, type ParityResult } from '../../parity/parity.ts';
import { parityInFlash } from '../../pipeline/simulate.ts';
import { randomQuantizedModel, randomSegments } from '../../parity/random-model.ts';
import { CELL_KINDS, gateCount, hasClock, isWindowModel, readsCellBelow, type CellKind, type QuantizedModel } from '../../core/model.ts';
import { validateQuantizedModel } from '../../core/artifact-validation.ts';

const { engines, skipped } = availableEngines(true);
const slowEngines = engines.some((e) => e.name === 'espruino' || e.name === 'jerry' || e.name === 'bangle2');
const seed = Number(process.env.PARITY_SEED ?? Date.now() % 2 ** 31);
console.log(`parity engines: ${engines.map((e) => e.name).join(', ')}; fast-check seed ${seed} (PARITY_SEED=${seed} to replay)`);
for (const s of skipped) console.log(`parity: skipped ${s}`);

/** Property cases run on the Bangle.js 2 firmware (each run boots it: about 1.5 s before the model loads). */
const BANGLE2_PROPERTY_CASES = 8;
let propertyCase = 0;

/**
 * The Espruino interpreters (the unoptimised Linux build, the watch's firmware in WebAssembly)
 * run a multiply-accumulate of a gate row about 150,000 times a second: 20 to 50 times slower than
 * JerryScript on the same code (a one-off measurement, case by case of one property run). A random case whose work is above this
 * budget (about 10 s there) runs on the other engines only; the fixed tests below run the
 * largest models (8x64, stacked, windows) on every engine.
 */
const ESPRUINO_WORK_BUDGET = 1_500_000;
const ESPRUINO_FAMILY: readonly string[] = ['espruino', 'bangle2'];
let overBudget = 0;

/** Gate-row multiply-accumulates of replaying `steps` steps: a window model reruns its window at every step. */
function work(q: QuantizedModel, steps: number): number {
  const perStep = q.layers
    .flatMap((l) => (l.backward ? [l, l.backward] : [l]))
    .reduce((s, l) => s + gateCount(l.cell) * l.units * (l.inputSize + l.units), 0);
  return perStep * steps * (isWindowModel(q) ? q.window : 1);
}

function sources(q: QuantizedModel) {
  return TARGETS.map((target) => ({
    target,
    globalName: 'lstmModel',
    code: emitModule(q, { target, globalName: 'lstmModel', modelSha256: '0'.repeat(64), generatorVersion: 'test' }),
  }));
}

/**
 * Exact on every engine, both targets. Only the watch's firmware (12,000 blocks of 14 bytes)
 * may run out of memory holding the weights in RAM; there its Storage takes them (the espruino
 * target with weights in flash), and that must be exact.
 */
async function expectExact(q: QuantizedModel, segs: Int8Array[][], on = engines) {
  for (const engine of on) {
    let results: ParityResult[] | undefined;
    try {
      results = await checkParity(q, sources(q), [engine], segs);
      expect(results.length).toBe(TARGETS.length);
    } catch (err) {
      if (!(err instanceof EngineCapacityError) || engine.name !== 'bangle2') throw err;
      results = await parityInFlash(q, 'lstmModel', engine, segs, () => {});
      expect(results, `${engine.name}: the weights in flash do not fit either`).toBeDefined();
    }
    for (const r of results!) {
      expect(r.mismatch, r.message).toBeUndefined();
      expect(r.steps).toBe(segs.reduce((s, x) => s + x.length, 0));
    }
  }
}

/**
 * A case holding a clockwork layer streams: its counter runs with the stream, so
 * the window flags the case drew (bidirectional, reverse, deployed as a window) are dropped.
 */
function streamingIfClocked<
  P extends {
    cell: CellKind;
    stacked: { cell: CellKind; bidirectional?: 'concat' | 'sum'; reverse: boolean }[];
    bidirectional?: 'concat' | 'sum';
    reverse: boolean;
    deployWindow: boolean;
  },
>(p: P): P {
  if (![p.cell, ...p.stacked.map((s) => s.cell)].some(hasClock)) return p;
  const stacked = p.stacked.map((s) => ({ ...s, bidirectional: undefined, reverse: false }));
  return { ...p, stacked, bidirectional: undefined, reverse: false, deployWindow: false };
}

describe('generated code matches the simulator bit for bit', () => {
  it('requires duk on CI', () => {
    if (process.env.CI) expect(engines.map((e) => e.name)).toContain('duk');
  });

  it(
    'random models (every cell, 1-64 units, 1-3 layers, some bidirectional or reverse, some with an embedding) and random int8 sequences with extremes (property)',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            cell: fc.constantFrom(...CELL_KINDS),
            seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
            inputSize: fc.integer({ min: 1, max: 5 }),
            // 1-64 units, mostly small so a run stays quick on the slow engines.
            units: fc.oneof(
              { arbitrary: fc.integer({ min: 1, max: 12 }), weight: 4 },
              { arbitrary: fc.integer({ min: 13, max: 64 }), weight: 1 },
            ),
            outputSize: fc.integer({ min: 1, max: 3 }),
            weightRange: fc.constantFrom(0.1, 1, 4, 16),
            biasRange: fc.constantFrom(0, 0.5, 4),
            extremeShare: fc.constantFrom(0, 0.2, 1),
            lengths: fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 4 }),
            // 0-2 more layers stacked on the first, each of any cell kind.
            stacked: fc.array(
              fc.record({
                cell: fc.constantFrom(...CELL_KINDS),
                units: fc.oneof(
                  { arbitrary: fc.integer({ min: 1, max: 12 }), weight: 4 },
                  { arbitrary: fc.integer({ min: 13, max: 64 }), weight: 1 },
                ),
                bidirectional: fc.constantFrom(undefined, 'concat' as const, 'sum' as const),
                // reverse when not bidirectional
                reverse: fc.constantFrom(false, false, true),
              }),
              { maxLength: 2 },
            ),
            // The first layer bidirectional, sometimes (then the model runs over its window at every step).
            bidirectional: fc.constantFrom(undefined, undefined, 'concat' as const, 'sum' as const),
            // Or reverse, sometimes (a window model too).
            reverse: fc.constantFrom(false, false, false, true),
            // A bidirectional top layer read at the last step, sometimes (y[:, -1, :]).
            readout: fc.constantFrom(undefined, undefined, 'last-step' as const),
            // Sometimes token input: an embedding table of this many ids (its rows are the int8 steps).
            vocabulary: fc.constantFrom(undefined, undefined, undefined, 2, 50),
            // A forward model deployed as a window, sometimes (the last `window` inputs from a zero state at every step).
            deployWindow: fc.constantFrom(false, false, false, true),
          }),
          async (drawn) => {
            const p = streamingIfClocked(drawn);
            const streamed = randomQuantizedModel(p);
            // a depth-gated stack only streams (NUMERICS.md §5j)
            const windowed = p.deployWindow && !streamed.layers.some((l) => readsCellBelow(l.cell));
            const q = { ...streamed, ...(windowed ? { deployment: 'window' as const } : {}) };
            const segs = randomSegments(p.seed, p.inputSize, p.lengths, p.extremeShare);
            // the watch's firmware boots for each run: the first cases only; the Espruino family within the budget
            const heavy =
              work(
                q,
                segs.reduce((s, x) => s + x.length, 0),
              ) > ESPRUINO_WORK_BUDGET;
            if (heavy) overBudget++;
            const on = engines.filter(
              (e) => !(e.name === 'bangle2' && ++propertyCase > BANGLE2_PROPERTY_CASES) && !(heavy && ESPRUINO_FAMILY.includes(e.name)),
            );
            await expectExact(q, segs, on);
          },
        ),
        { seed, numRuns: 30 },
      );
      if (slowEngines)
        console.log(`parity property: ${overBudget} of 30 cases above the Espruino work budget ran on the other engines only`);
      // The real Espruino and JerryScript builds (when set) run each case far slower than vm and duk.
    },
    slowEngines ? 1_200_000 : 300_000,
  );

  /** An 8-input model of the kind over 120 steps. */
  const larger = async (cell: CellKind, units: number) => {
    const q = randomQuantizedModel({ seed: 7, inputSize: 8, units, outputSize: 2, cell });
    await expectExact(q, randomSegments(7, 8, [60, 60], 0.1));
  };
  it.each(CELL_KINDS.filter((c) => !readsCellBelow(c)))(
    'a larger %s model (8 inputs x 64 units) over 120 steps',
    (cell) => larger(cell, 64),
    300_000,
  );
  // Two layers of 64 (an LSTM under it: 59 k weights) do not fit the watch's firmware, even with its weights in flash;
  // two of 32 (15 k) hold about the weights of one LSTM of 64 (18 k) and do.
  it.each(CELL_KINDS.filter(readsCellBelow))(
    'a larger %s model (8 inputs x 32 units, over an LSTM of 32) over 120 steps',
    (cell) => larger(cell, 32),
    300_000,
  );

  it('a depth-gated model is refused as a window model: its layers read the lower cell of the same step (NUMERICS.md §5j)', () => {
    const q: QuantizedModel = {
      ...randomQuantizedModel({ seed: 21, inputSize: 3, units: 7, cell: 'depth-gated', window: 6 }),
      deployment: 'window',
    };
    expect(() => validateQuantizedModel(q)).toThrow(/layer 1 \(depth-gated\) runs only as a stream/);
  });

  it.each(CELL_KINDS.filter((k) => !hasClock(k) && !readsCellBelow(k)))(
    'a %s model deployed as a window (its last 6 inputs from a zero state at every step) over 40 steps',
    async (cell) => {
      const q: QuantizedModel = {
        ...randomQuantizedModel({ seed: 21, inputSize: 3, units: 7, outputSize: 2, cell, window: 6, stacked: [{ cell: 'gru', units: 4 }] }),
        deployment: 'window',
      };
      await expectExact(q, randomSegments(21, 3, [25, 15], 0.2));
    },
    300_000,
  );

  it.each(['concat', 'sum'] as const)(
    "a bidirectional %s model read at the last step (PyTorch's y[:, -1, :]) over a bidirectional layer, over 40 steps",
    async (merge) => {
      const q = randomQuantizedModel({
        seed: 23,
        inputSize: 3,
        units: 5,
        outputSize: 2,
        cell: 'lstm',
        bidirectional: 'concat',
        window: 6,
        stacked: [{ cell: 'gru-reset-after', units: 4, bidirectional: merge }],
        readout: 'last-step',
      });
      expect(q.layers.map((l) => l.readout)).toEqual([undefined, 'last-step']);
      await expectExact(q, randomSegments(23, 3, [25, 15], 0.2));
    },
    300_000,
  );

  it('a stacked model of three different cells (peephole 16 -> GRU reset-after 8 -> CIFG 5) over 120 steps', async () => {
    const q = randomQuantizedModel({
      seed: 8,
      inputSize: 4,
      units: 16,
      outputSize: 2,
      cell: 'peephole',
      stacked: [
        { cell: 'gru-reset-after', units: 8 },
        { cell: 'cifg', units: 5 },
      ],
    });
    expect(q.layers.map((l) => [l.cell, l.inputSize, l.units])).toEqual([
      ['peephole', 4, 16],
      ['gru-reset-after', 16, 8],
      ['cifg', 8, 5],
    ]);
    await expectExact(q, randomSegments(8, 4, [60, 60], 0.1));
  }, 300_000);

  it("weights split over several string literals (long data, JerryScript's 64 KiB literal limit)", async () => {
    const q = randomQuantizedModel({ seed: 13, inputSize: 4, units: 16 });
    const code = TARGETS.map((target) => ({
      target,
      globalName: 'lstmModel',
      code: emitModule(q, { target, globalName: 'lstmModel', modelSha256: '0'.repeat(64), generatorVersion: 'test', base64Chunk: 100 }),
    }));
    expect(code[0].code).toMatch(/var W_B64 = \["[^"]{100}", "/);
    const segs = randomSegments(13, 4, [30]);
    for (const r of await checkParity(q, code, engines, segs)) expect(r.mismatch, r.message).toBeUndefined();
  });

  it('every weight scale granularity', async () => {
    for (const scale of ['per-row', 'per-gate', 'per-tensor'] as const) {
      const q = randomQuantizedModel({ seed: 11, inputSize: 3, units: 6 }, scale);
      await expectExact(q, randomSegments(11, 3, [40]));
    }
  });
});
