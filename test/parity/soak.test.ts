/**
 * Long runs: the generated code and the simulator agree at every one of
 * 200,000 steps (state never diverges), and the run is deterministic. The
 * 1,000,000-step version runs in `npm run soak`.
 */
import { describe, expect, it } from 'vitest';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { soak } from '../../parity/soak.ts';
import { CELL_KINDS } from '../../core/model.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';

const STEPS = 200_000;

describe.each(CELL_KINDS)('soak, %s', (cell) => {
  it(`${STEPS} steps without a reset: identical at every step, twice the same`, async () => {
    const q = randomQuantizedModel({ seed: 99, inputSize: 3, units: 8, cell, weightRange: 2 });
    for (const target of TARGETS) {
      const code = emitModule(q, { target, globalName: 'm', modelSha256: '', generatorVersion: 'test' });
      const first = await soak(q, code, 'm', STEPS, 7);
      expect(first.what).toBeUndefined();
      expect(first.firstMismatch).toBe(-1);
      const again = await soak(q, code, 'm', STEPS, 7);
      expect(again.finalState).toBe(first.finalState);
    }
  }, 300_000);
});
