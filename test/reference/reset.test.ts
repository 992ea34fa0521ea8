/**
 * State reset halfway through a sequence: after reset() the model computes
 * exactly what a fresh model computes, in the simulator and in the generated
 * code on every engine.
 */
import { describe, expect, it } from 'vitest';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { availableEngines, driverSource } from '../../parity/engines.ts';
import { parseTrace } from '../../parity/engines.ts';
import { simulateTrace } from '../../parity/trace.ts';
import { Simulator } from '../../reference/simulator.ts';
import { randomQuantizedModel, randomSegments, type RandomModelSpec } from '../../parity/random-model.ts';
import { CELL_KINDS } from '../../core/model.ts';

const [first, second] = randomSegments(21, 3, [30, 30]);
/** Every cell, a stack, a window (bidirectional) model, and a model with an embedding (its int8 steps are table rows). */
const MODELS: { name: string; spec: Partial<RandomModelSpec> }[] = [
  ...CELL_KINDS.map((cell) => ({ name: cell, spec: { cell } })),
  {
    name: 'stacked peephole -> gru-reset-after',
    spec: { cell: 'peephole' as const, stacked: [{ cell: 'gru-reset-after' as const, units: 4 }] },
  },
  { name: 'bidirectional cifg (concat)', spec: { cell: 'cifg' as const, bidirectional: 'concat' as const, window: 6 } },
  { name: 'embedding -> lstm', spec: { vocabulary: 20 } },
];

describe.each(MODELS)('reset halfway through a sequence: $name', ({ spec }) => {
  const q = randomQuantizedModel({ seed: 21, inputSize: 3, units: 7, outputSize: 2, ...spec });
  it('simulator: the second half after reset() equals a fresh run of it, and differs without the reset', () => {
    const withReset = simulateTrace(q, [first, second]).slice(first.length);
    const fresh = simulateTrace(q, [second]);
    expect(withReset.map((s) => [s.y, s.h, s.c, s.gates])).toEqual(fresh.map((s) => [s.y, s.h, s.c, s.gates]));
    const noReset = simulateTrace(q, [[...first, ...second]]).slice(first.length);
    expect(noReset.map((s) => s.h)).not.toEqual(fresh.map((s) => s.h));
  });

  it('simulator: reset() zeroes h, c, gates and the output', () => {
    const sim = new Simulator(q);
    for (const xq of first) sim.stepQ(xq);
    expect(sim.state.hQ7.some((v) => v !== 0)).toBe(true);
    sim.reset();
    for (const a of [sim.state.hQ7, sim.state.cellQ, sim.state.gatesQ15, sim.outputAcc])
      expect(Array.from(a).every((v) => v === 0)).toBe(true);
  });

  for (const target of TARGETS) {
    it(`${target} code on every engine: the half after reset() equals a fresh run`, async () => {
      const code = emitModule(q, { target, globalName: 'lstmModel', modelSha256: '', generatorVersion: 'test' });
      for (const engine of availableEngines().engines) {
        const both = parseTrace(await engine.run(code + driverSource('lstmModel', 3, [first, second])), engine.name);
        const fresh = parseTrace(await engine.run(code + driverSource('lstmModel', 3, [second])), engine.name);
        const strip = (t: typeof both) => t.map((s) => [s.y, s.h, s.c, s.gates]);
        expect(strip(both.slice(first.length)), engine.name).toEqual(strip(fresh));
      }
    });
  }
});
