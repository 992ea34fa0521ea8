/**
 * Type test of a generated module's .d.ts (checked by `tsc --noEmit` in
 * `npm test`, never run): the API a TypeScript host sees.
 */
import { info, reset, state, step, stepQ } from '../__snapshots__/lstm-3x8.es5.js';

reset();
const raw: Int32Array = stepQ([1, -2, 127]);
const real: Float64Array = step([0.5, 1.5, -2]);
const h: Int8Array = state.h;
const c: Int16Array = state.c;
const gates: Int16Array = state.gates;
const inputs: 3 = info.inputSize;
const order: ['input', 'forget', 'cell', 'output'] = info.gateOrder;
// @ts-expect-error step takes numbers
step('reading');
// @ts-expect-error the state is read-only
state.h = new Int8Array(8);
export { raw, real, h, c, gates, inputs, order };
