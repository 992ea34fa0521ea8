/**
 * The float host reference of the LSTM + dense head (float64 arithmetic).
 * It is what the trainer's TensorFlow.js model computes (checked within 1e-5
 * in test/float-reference.test.ts) and what the quantizer calibrates on.
 *
 *   z = W x + U h + b              (gate pre-activations, order i, f, g, o)
 *   i = σ(z_i)  f = σ(z_f)  g = tanh(z_g)  o = σ(z_o)
 *   c = f ⊙ c + i ⊙ g
 *   h = o ⊙ tanh(c)
 *   y = D h + d                     (after the last step)
 */
import { GATE_COUNT, type FloatDenseLayer, type FloatRecurrentLayer } from './model.ts';

export interface FloatLstmState {
  h: Float64Array;
  c: Float64Array;
  /** Last step's gate pre-activations, [4*units] in gate order. */
  preActivations: Float64Array;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function newFloatState(units: number): FloatLstmState {
  return {
    h: new Float64Array(units),
    c: new Float64Array(units),
    preActivations: new Float64Array(GATE_COUNT * units),
  };
}

/** One LSTM step on a normalized input vector x, updating `state` in place. */
export function floatLstmStep(layer: FloatRecurrentLayer, state: FloatLstmState, x: ArrayLike<number>): void {
  const { inputSize, units, kernel, recurrentKernel, bias } = layer;
  const cols = GATE_COUNT * units;
  const z = state.preActivations;
  for (let col = 0; col < cols; col++) {
    let sum = bias[col];
    for (let i = 0; i < inputSize; i++) sum += kernel[i * cols + col] * x[i];
    for (let j = 0; j < units; j++) sum += recurrentKernel[j * cols + col] * state.h[j];
    z[col] = sum;
  }
  for (let u = 0; u < units; u++) {
    const i = sigmoid(z[u]);
    const f = sigmoid(z[units + u]);
    const g = Math.tanh(z[2 * units + u]);
    const o = sigmoid(z[3 * units + u]);
    state.c[u] = f * state.c[u] + i * g;
    state.h[u] = o * Math.tanh(state.c[u]);
  }
}

/** y = D h + d */
export function floatDense(head: FloatDenseLayer, h: ArrayLike<number>): Float64Array {
  const y = new Float64Array(head.outputSize);
  for (let o = 0; o < head.outputSize; o++) {
    let sum = head.bias[o];
    for (let j = 0; j < head.inputSize; j++) sum += head.kernel[j * head.outputSize + o] * h[j];
    y[o] = sum;
  }
  return y;
}

/**
 * Run one normalized window ([window][inputSize] row-major, starting at
 * `offset` in `x`) from a zero state; returns the head's output (normalized
 * units / logits). `onStep` sees the state after every step (calibration).
 */
export function floatPredictWindow(
  recurrent: FloatRecurrentLayer,
  head: FloatDenseLayer,
  x: ArrayLike<number>,
  offset: number,
  window: number,
  onStep?: (state: FloatLstmState) => void,
): Float64Array {
  const state = newFloatState(recurrent.units);
  const step = new Float64Array(recurrent.inputSize);
  for (let t = 0; t < window; t++) {
    for (let i = 0; i < recurrent.inputSize; i++) step[i] = x[offset + t * recurrent.inputSize + i];
    floatLstmStep(recurrent, state, step);
    onStep?.(state);
  }
  return floatDense(head, state.h);
}
