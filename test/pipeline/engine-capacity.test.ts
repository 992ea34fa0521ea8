/**
 * An engine that cannot hold the model, on the real engines: one line with
 * what the model needs against what the engine has, parity with the weights
 * in flash there; named with --engines, an error of one line. Weights in RAM
 * past byte 65535 are no such case: the module decodes them in parts.
 */
import { describe, expect, it } from 'vitest';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { emitModule } from '../../codegen/emit-module.ts';
import { simulateStep, watchFlashSegments } from '../../pipeline/simulate.ts';
import { surelyCannotLoad } from '../../pipeline/engine-capacity.ts';
import { randomSegments } from '../../parity/random-model.ts';
import type { QuantizedModel } from '../../core/model.ts';

const sourcesOf = (q: QuantizedModel) =>
  (['es5', 'espruino'] as const).map((target) => ({
    target,
    globalName: 'lstmModel',
    code: emitModule(q, { target, globalName: 'lstmModel', modelSha256: '', generatorVersion: 'test' }),
  }));
const options = { randomSegments: 1, randomSteps: 3, seed: 1 };

describe('what is known not to load on the watch without trying', () => {
  it('a need past 1.3 times its 12,000 blocks (the estimate is within 1.3x of the firmware), and nothing else', () => {
    const mnist = randomQuantizedModel({ seed: 2, inputSize: 28, units: 128, outputSize: 10 });
    expect(surelyCannotLoad(mnist, 'bangle2')).toMatch(
      /^bangle2: out of memory: ~\d+ blocks estimated while it loads, over 1\.3 times the 12000 it has \(not run\)$/,
    );
    expect(surelyCannotLoad(randomQuantizedModel({ seed: 3, inputSize: 3, units: 32 }), 'bangle2')).toBeUndefined();
    expect(surelyCannotLoad(mnist, 'espruino')).toBeUndefined();
    expect(surelyCannotLoad(mnist, 'jerry')).toBeUndefined();
  });
});

describe("the watch's share of a parity run with weights in flash", () => {
  it('is the first whole segments within 4 MB of gate-weight reads, at least one, all of them for a small model', () => {
    const mnist = randomQuantizedModel({ seed: 2, inputSize: 28, units: 128, outputSize: 10 });
    const segments = randomSegments(1, 28, new Array(14).fill(28), 0.1);
    const kept = watchFlashSegments(mnist, segments);
    // 79,872 bytes of gate weights a step: 50 steps fit, so one segment of 28
    expect(kept).toEqual(segments.slice(0, 1));
    expect(watchFlashSegments(mnist, [new Array(200).fill(new Int8Array(28))])).toHaveLength(1);
    const small = randomQuantizedModel({ seed: 3, inputSize: 28, units: 8 });
    expect(watchFlashSegments(small, segments)).toEqual(segments);
  });
});

describe.runIf(Boolean(process.env.ESPRUINO_BIN))('the Linux Espruino build and weights past byte 65535', () => {
  // 4 gates x 128 rows of 156: the last row view would start at byte 79,716 of one buffer; the module decodes it in parts.
  const q = randomQuantizedModel({ seed: 2, inputSize: 28, units: 128, outputSize: 10 });

  it('runs both targets with their weights in RAM, exact, and skips nothing', async () => {
    const r = await simulateStep(q, sourcesOf(q), { ...options, engines: ['espruino'] });
    expect(r.mismatches).toBe(0);
    expect(r.skipped).toEqual([]);
    expect(r.results.filter((x) => x.engine === 'espruino').map((x) => x.target)).toEqual(['es5', 'espruino']);
  }, 300_000);
});

describe.runIf(Boolean(process.env.BANGLE2_DIR))("the watch's firmware and an 8x64 LSTM", () => {
  const q = randomQuantizedModel({ seed: 2, inputSize: 8, units: 64 });

  it('asked for with --watch: one line with blocks needed against 12000, parity with flash weights', async () => {
    const r = await simulateStep(q, sourcesOf(q), { ...options, engines: undefined, watch: true });
    expect(r.mismatches).toBe(0);
    expect(r.engines).toContain('bangle2 (weights in flash)');
    const line = r.skipped.find((s) => s.startsWith('bangle2:'))!;
    expect(line).toMatch(
      /^bangle2: out of memory: the model needs ~(\d+) blocks while it loads with weights in RAM, it has 12000 blocks of 14 bytes; --weights flash would fit \(~(\d+) blocks\) \((es5, )?espruino not run there; parity checked there with the weights in flash\)$/,
    );
    const [, ram, flash] = /~(\d+) blocks while.*~(\d+) blocks\)/.exec(line)!.map(Number);
    expect(ram).toBeGreaterThan(12000);
    expect(flash).toBeLessThanOrEqual(12000);
  }, 600_000);

  it('named with --engines: an error of one line', async () => {
    await expect(simulateStep(q, sourcesOf(q), { ...options, engines: ['bangle2'] })).rejects.toThrow(
      /^bangle2: out of memory: the model needs ~\d+ blocks while it loads with weights in RAM, it has 12000 blocks of 14 bytes; --weights flash would fit \(~\d+ blocks\)$/,
    );
  }, 600_000);
});
