/**
 * The known steps an app runs once at load (from a reset state) and reports
 * with verify(): fixed int8 inputs, so the host knows the exact output the
 * device must give (the simulator's), whatever the model.
 */
import type { QuantizedModel } from '../core/model.ts';
import { Simulator } from '../reference/simulator.ts';

/** Steps in the self-test. */
export const SELF_TEST_STEPS = 4;

/** Input k of self-test step t: spread over the whole int8 range, never the same twice in a row. */
export function selfTestInputs(inputSize: number): Int8Array {
  const xq = new Int8Array(SELF_TEST_STEPS * inputSize);
  for (let t = 0; t < SELF_TEST_STEPS; t++) {
    for (let k = 0; k < inputSize; k++) xq[t * inputSize + k] = ((t * 53 + k * 29 + 17) % 255) - 127;
  }
  return xq;
}

/** The head accumulator after the self-test steps, as the simulator computes it. */
export function expectedSelfTest(q: QuantizedModel): number[] {
  const inputSize = q.layers[0].inputSize;
  const xq = selfTestInputs(inputSize);
  const sim = new Simulator(q);
  sim.reset();
  let y: ArrayLike<number> = [];
  for (let t = 0; t < SELF_TEST_STEPS; t++) y = sim.stepQ(xq.subarray(t * inputSize, (t + 1) * inputSize));
  return Array.from(y);
}
