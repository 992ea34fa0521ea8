/**
 * Soak: the generated code and the simulator side by side for a long run
 * (in-process, Node's vm), comparing the outputs and the whole state at every
 * step. Deterministic: the inputs come from a seeded generator.
 */
import vm from 'node:vm';
import { Simulator } from '../reference/simulator.ts';
import { mulberry32 } from '../core/prng.ts';
import type { QuantizedModel } from '../core/model.ts';

export interface SoakResult {
  steps: number;
  /** First differing step, or -1. */
  firstMismatch: number;
  what?: string;
  /** A digest of the final state, to show two runs are the same run. */
  finalState: string;
}

interface GeneratedModule {
  reset(): void;
  stepQ(xq: ArrayLike<number>): Int32Array;
  state: { h: Int8Array; c: Int16Array; gates: Int16Array };
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** Steps between yields to the event loop, so a long run never starves the process's other work. */
const YIELD_EVERY = 5000;

export async function soak(
  q: QuantizedModel,
  code: string,
  globalName: string,
  steps: number,
  seed: number,
  resetEvery = 0,
): Promise<SoakResult> {
  const context: Record<string, unknown> = {};
  vm.runInNewContext(code, context);
  const device = context[globalName] as GeneratedModule;
  const sim = new Simulator(q);
  const rnd = mulberry32(seed);
  const xq = new Int8Array(q.layers[0].inputSize);
  device.reset();
  sim.reset();
  for (let t = 0; t < steps; t++) {
    if (t > 0 && t % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    if (resetEvery > 0 && t > 0 && t % resetEvery === 0) {
      device.reset();
      sim.reset();
    }
    // Mostly ordinary values, now and then a run of extremes.
    const extreme = rnd() < 0.05;
    for (let i = 0; i < xq.length; i++) xq[i] = extreme ? (rnd() < 0.5 ? -128 : 127) : Math.floor(rnd() * 256) - 128;
    const y = device.stepQ(xq);
    const ys = sim.stepQ(xq);
    const checks: [string, ArrayLike<number>, ArrayLike<number>][] = [
      ['y', y, ys],
      ['h', device.state.h, sim.state.hQ7],
      ['c', device.state.c, sim.state.cellQ],
      ['gates', device.state.gates, sim.state.gatesQ15],
    ];
    for (const [what, a, b] of checks) {
      if (!same(a, b))
        return {
          steps: t + 1,
          firstMismatch: t,
          what: `${what}: generated ${Array.from(a)} vs simulator ${Array.from(b)}`,
          finalState: '',
        };
    }
  }
  const finalState = [sim.state.hQ7, sim.state.cellQ, sim.outputAcc].map((a) => Array.from(a).join(',')).join('|');
  return { steps, firstMismatch: -1, finalState };
}
