/**
 * The es5 target on Espruino's builds replays a share of each kind of segment
 * (pipeline/parity-share.ts); every other engine/target pair replays them all,
 * and the run says how many steps the share held.
 */
import { describe, expect, it, vi } from 'vitest';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { emitModule } from '../../codegen/emit-module.ts';
import { randomSegments } from '../../parity/random-inputs.ts';
import { replaysShare, shareOfEachKind, shareSteps, weightsPerStep, SHARE_WEIGHT_READS } from '../../pipeline/parity-share.ts';

// vm+E (vm with Espruino's natives) as it is, and under the name "espruino" (its runs counted by their steps)
const espruinoRuns: number[] = [];
vi.mock('../../parity/engines.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../parity/engines.ts')>();
  const vm = real.engineByName('vm+E')!;
  const espruino = {
    name: 'espruino' as const,
    run: async (source: string) => {
      const lines = await vm.run(source);
      espruinoRuns.push(lines.filter((l) => l.startsWith('T ')).length);
      return lines;
    },
  };
  return { ...real, availableEngines: () => ({ engines: [vm, espruino], skipped: [] }) };
});

const { simulateStep } = await import('../../pipeline/simulate.ts');

describe('a share of each kind of segment', () => {
  const windows = randomSegments(1, 2, new Array(30).fill(10));
  const streams = randomSegments(2, 2, [200, 200]);

  it('each kind gets an equal part of what is left, a stream its first steps when none fits whole', () => {
    const random = randomSegments(3, 2, [20, 20, 20]);
    const share = shareOfEachKind(
      [
        { name: 'windows', segments: windows },
        { name: 'streams', segments: streams },
        { name: 'random', segments: random },
      ],
      150,
    )!;
    // 50 each: 5 windows, the first 50 steps of a stream, 2 random sequences of 20 (40 <= 50)
    expect(share.description).toBe('5 of 30 windows, the first 50 steps of 1 of 2 streams, 2 of 3 random');
    expect(share.segments.map((s) => s.length)).toEqual([10, 10, 10, 10, 10, 50, 20, 20]);
    expect(share.steps).toBe(140);
    expect(share.segments[5]).toEqual(streams[0].slice(0, 50));
  });

  it('none when every step fits', () => {
    expect(shareOfEachKind([{ name: 'windows', segments: windows }], 300)).toBeUndefined();
    expect(shareOfEachKind([{ name: 'windows', segments: windows }], 299)).toBeDefined();
  });

  it('the pairs that replay it: es5 on the Linux Espruino, every target on the watch', () => {
    expect(replaysShare('espruino', 'es5')).toBe(true);
    expect(replaysShare('espruino', 'espruino')).toBe(false);
    expect(replaysShare('bangle2', 'es5')).toBe(true);
    expect(replaysShare('bangle2', 'espruino')).toBe(true);
    for (const engine of ['vm', 'vm+E', 'duk', 'jerry'] as const)
      for (const target of ['es5', 'espruino']) expect(replaysShare(engine, target)).toBe(false);
  });

  it('the steps a model may replay follow its weights per step', () => {
    const q = randomQuantizedModel({ seed: 4, inputSize: 2, units: 8, outputSize: 1 });
    expect(weightsPerStep(q)).toBe(q.layers[0].weightsQ.length);
    expect(shareSteps(q)).toBe(Math.floor(SHARE_WEIGHT_READS / q.layers[0].weightsQ.length));
  });

  it('simulate: es5 on espruino replays the share, the espruino target and vm+E every step; all exact', async () => {
    const q = randomQuantizedModel({ seed: 5, inputSize: 2, units: 64, outputSize: 1 });
    const budget = shareSteps(q);
    const long = randomSegments(6, 2, [budget, budget]);
    const sources = (['espruino', 'es5'] as const).map((target) => ({
      target,
      globalName: 'm',
      code: emitModule(q, { target, globalName: 'm', modelSha256: '', generatorVersion: 'test' }),
    }));
    const r = await simulateStep(q, sources, {
      randomSegments: 2,
      randomSteps: 10,
      seed: 1,
      kinds: [{ name: 'streams', segments: long }],
    });
    expect(r.mismatches).toBe(0);
    expect(r.steps).toBe(2 * budget + 20);
    // vm+E both targets, espruino the espruino target: every step
    expect(r.results.map((x) => `${x.target} on ${x.engine}: ${x.steps}`)).toEqual([
      `espruino on vm+E: ${r.steps}`,
      `es5 on vm+E: ${r.steps}`,
      `espruino on espruino: ${r.steps}`,
      expect.stringMatching(/^es5 on espruino: \d+$/),
    ]);
    const share = r.results[3];
    expect(share.steps).toBeLessThanOrEqual(budget);
    expect(share.steps).toBeGreaterThan(budget / 2);
    expect(espruinoRuns).toEqual([r.steps, share.steps]);
    expect(r.shares).toEqual([
      {
        engine: 'espruino',
        target: 'es5',
        steps: share.steps,
        of: r.steps,
        description: expect.stringMatching(/^the first \d+ steps of 1 of 2 streams, 2 of 2 random sequences$/),
      },
    ]);
  });
});
