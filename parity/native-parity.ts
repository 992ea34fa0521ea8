/**
 * The native kernel against the simulator: one continuous int8 sequence through
 * both, every output, h, c and gate compared at every step (zero tolerance).
 */
import fs from 'node:fs';
import { Simulator } from '../reference/simulator.ts';
import { buildNativeContext, type NativeContext, type NativeState } from '../native/context.ts';
import { blobPath } from '../native/toolchain.ts';
import { MACHINE, TARGET_BLOB, runNative, type NativeTarget } from './native-qemu.ts';
import type { QuantizedModel } from '../core/model.ts';

export interface NativeParity {
  /** The first difference, as one line (undefined: none). */
  mismatch?: string;
  steps: number;
  /** The kernel's state after every step. */
  states: NativeState[];
}

/** Where two integer arrays first differ, or -1. */
const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
};

/** The first step and value where `states` (one per step of `xs`) differ from the simulator's, or undefined. */
export function firstNativeMismatch(model: QuantizedModel, xs: Int8Array, states: NativeState[]): string | undefined {
  const sim = new Simulator(model);
  const I = model.layers[0].inputSize;
  for (let t = 0; t < states.length; t++) {
    const y = sim.stepQ(xs.subarray(t * I, (t + 1) * I));
    const want = { outputAcc: y, hQ7: sim.state.hQ7, cellQ: sim.state.cellQ, gatesQ15: sim.state.gatesQ15 };
    for (const key of ['outputAcc', 'hQ7', 'cellQ', 'gatesQ15'] as const) {
      const i = firstDifference(states[t][key], want[key]);
      if (i >= 0) return `step ${t}: ${key}[${i}] is ${states[t][key][i]} natively, ${want[key][i]} in the simulator`;
    }
  }
  return undefined;
}

/** Runs `model` over `xs` (steps × I int8 values) on `target`'s board with the committed blob it runs (or `ctx` as given). */
export function nativeParity(
  model: QuantizedModel,
  xs: Int8Array,
  target: NativeTarget,
  ctx: NativeContext = buildNativeContext(model),
): NativeParity {
  const { states } = runNative(fs.readFileSync(blobPath(TARGET_BLOB[target])), ctx, xs, target);
  const mismatch = firstNativeMismatch(model, xs, states);
  return { mismatch: mismatch && `${MACHINE[target]}: ${mismatch}`, steps: states.length, states };
}
