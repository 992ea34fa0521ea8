/**
 * No run is thrown away because one engine cannot hold the model: an engine
 * not named that runs out of memory is reported in one line and the others
 * are checked; named with --engines, it is an error.
 */
import { describe, expect, it, vi } from 'vitest';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { emitModule } from '../../codegen/emit-module.ts';

vi.mock('../../parity/engines.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../parity/engines.ts')>();
  // vm as it is, and a "jerry" whose heap is always full
  const full = {
    name: 'jerry' as const,
    run: async () => {
      throw new real.EngineCapacityError('jerry: out of memory (its heap is full): the model does not fit this build');
    },
  };
  return { ...real, availableEngines: () => ({ engines: [real.engineByName('vm')!, full], skipped: [] }) };
});

const { simulateStep } = await import('../../pipeline/simulate.ts');

const q = randomQuantizedModel({ seed: 3, inputSize: 2, units: 4, outputSize: 1 });
const sources = [
  { target: 'es5', globalName: 'm', code: emitModule(q, { target: 'es5', globalName: 'm', modelSha256: '', generatorVersion: 'test' }) },
];
const options = { randomSegments: 2, randomSteps: 10, seed: 1 };

describe('simulate when an engine cannot hold the model', () => {
  it('not named: one line for it, parity on the others', async () => {
    const r = await simulateStep(q, sources, options);
    expect(r.engines).toEqual(['vm']);
    expect(r.mismatches).toBe(0);
    expect(r.steps).toBe(20);
    // The estimate's need against JerryScript's heap, and the target not run.
    expect(r.skipped).toHaveLength(1);
    expect(r.skipped[0]).toMatch(
      /^jerry: out of memory: the model needs ~\d+ bytes while it loads with weights in RAM, it has 524288 bytes \(es5 not run there\)$/,
    );
  });

  it('named with --engines: an error', async () => {
    await expect(simulateStep(q, sources, { ...options, engines: ['vm', 'jerry'] })).rejects.toThrow(
      /^jerry: out of memory: the model needs ~\d+ bytes/,
    );
  });
});
