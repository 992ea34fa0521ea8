/**
 * On a real Espruino interpreter (ESPRUINO_BIN): a step allocates nothing —
 * zero growth of used blocks over 10,000 steps — for every cell kind, with
 * the espruino target's native path. Skipped, and says so, without one.
 */
import { describe, expect, it } from 'vitest';
import { engineByName } from '../../parity/engines.ts';
import { emitModule } from '../../codegen/emit-module.ts';
import { CELL_KINDS } from '../../core/model.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';

const ESPRUINO = process.env.ESPRUINO_BIN;
const STEPS = 10_000;
if (!ESPRUINO) console.log('espruino-memory: skipped, ESPRUINO_BIN is not set to a Linux Espruino build');

const CASES = [
  ...CELL_KINDS.map((cell) => ({ name: cell, steps: STEPS, spec: { cell } })),
  // A stacked model, and a window model (bidirectional: every step runs over the whole window; fewer steps, each ~2x8x as long).
  { name: 'stacked lstm -> gru', steps: STEPS, spec: { cell: 'lstm' as const, stacked: [{ cell: 'gru' as const, units: 6 }] } },
  {
    name: 'bidirectional gru (sum) -> lstm',
    steps: 1000,
    spec: { cell: 'gru' as const, window: 8, bidirectional: 'sum' as const, stacked: [{ cell: 'lstm' as const, units: 4 }] },
  },
];

describe.runIf(Boolean(ESPRUINO))('memory on Espruino', () => {
  it.each(CASES)(
    `$name: zero block growth over $steps steps`,
    async ({ steps, spec }) => {
      const STEPS = steps;
      const q = randomQuantizedModel({ seed: 4, inputSize: 3, units: 8, ...spec });
      const program =
        emitModule(q, { target: 'espruino', globalName: 'm', modelSha256: '', generatorVersion: 'test' }) +
        `
var xq = new Int8Array([12, -100, 127]), i, before, after;
// Warm-up: the first call of step() makes Espruino allocate 2 blocks once; steps after it allocate nothing.
for (i = 0; i < 10; i++) { m.stepQ(xq); m.step([i, 1.5, -2]); }
before = process.memory().usage;
for (i = 0; i < ${STEPS}; i++) { xq[0] = (i * 37) % 255 - 127; m.stepQ(xq); m.step([i, 1.5, -2]); }
after = process.memory().usage;
print("GROWTH " + (after - before));
`;
      const out = (await engineByName('espruino')!.run(program)).join('\n');
      const m = /GROWTH (-?\d+)/.exec(out);
      expect(m, out.slice(-500)).not.toBeNull();
      expect(Number(m![1])).toBe(0);
    },
    300_000,
  );
});
