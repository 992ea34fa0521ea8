/**
 * The float host reference of the recurrent cells + dense head (float64
 * arithmetic). It is what the trainer's TensorFlow.js model computes (checked
 * within 1e-5 in test/float-reference.test.ts) and what the quantizer
 * calibrates on. Gate orders: runtime/model.ts CELL_GATES.
 *
 * LSTM:  z = W x + U h + b (i, f, g, o);  c = σ(f) c + σ(i) tanh(g);  h = σ(o) tanh(c)
 * GRU:   z = σ(W_z x + U_z h + b_z);  r = σ(W_r x + U_r h + b_r)
 *        h~ = tanh(W_h x + U_h (r ⊙ h) + b_h);  h = z ⊙ h + (1 − z) ⊙ h~
 * RNN:   h = tanh(W x + U h + b)
 * Head:  y = D h + d (after the last step)
 */
import { GATE, GRU_GATE, gateCount, type FloatDenseLayer, type FloatRecurrentLayer } from './model.ts';

export interface FloatRecurrentState {
  h: Float64Array;
  /** LSTM cell state (empty for the other cells). */
  c: Float64Array;
  /** Last step's gate pre-activations, [G*units] in gate order. */
  preActivations: Float64Array;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function newFloatState(layer: Pick<FloatRecurrentLayer, 'cell' | 'units'>): FloatRecurrentState {
  return {
    h: new Float64Array(layer.units),
    c: new Float64Array(layer.cell === 'lstm' ? layer.units : 0),
    preActivations: new Float64Array(gateCount(layer.cell) * layer.units),
  };
}

/** Σ_i kernel[i][col] x[i] + Σ_j recurrentKernel[j][col] h[j] + bias[col] */
function preActivation(layer: FloatRecurrentLayer, col: number, x: ArrayLike<number>, h: ArrayLike<number>): number {
  const cols = gateCount(layer.cell) * layer.units;
  let sum = layer.bias[col];
  for (let i = 0; i < layer.inputSize; i++) sum += layer.kernel[i * cols + col] * x[i];
  for (let j = 0; j < layer.units; j++) sum += layer.recurrentKernel[j * cols + col] * h[j];
  return sum;
}

/** One step on a normalized input vector x, updating `state` in place. */
export function floatRecurrentStep(layer: FloatRecurrentLayer, state: FloatRecurrentState, x: ArrayLike<number>): void {
  const U = layer.units;
  const z = state.preActivations;
  if (layer.cell === 'gru') {
    for (let col = 0; col < 2 * U; col++) z[col] = preActivation(layer, col, x, state.h);
    const rh = new Float64Array(U);
    for (let u = 0; u < U; u++) rh[u] = sigmoid(z[GRU_GATE.reset * U + u]) * state.h[u];
    for (let u = 0; u < U; u++) z[GRU_GATE.candidate * U + u] = preActivation(layer, GRU_GATE.candidate * U + u, x, rh);
    for (let u = 0; u < U; u++) {
      const update = sigmoid(z[GRU_GATE.update * U + u]);
      state.h[u] = update * state.h[u] + (1 - update) * Math.tanh(z[GRU_GATE.candidate * U + u]);
    }
    return;
  }
  for (let col = 0; col < z.length; col++) z[col] = preActivation(layer, col, x, state.h);
  if (layer.cell === 'rnn') {
    for (let u = 0; u < U; u++) state.h[u] = Math.tanh(z[u]);
    return;
  }
  for (let u = 0; u < U; u++) {
    const i = sigmoid(z[GATE.input * U + u]);
    const f = sigmoid(z[GATE.forget * U + u]);
    const g = Math.tanh(z[GATE.cell * U + u]);
    const o = sigmoid(z[GATE.output * U + u]);
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
  layer: FloatRecurrentLayer,
  head: FloatDenseLayer,
  x: ArrayLike<number>,
  offset: number,
  window: number,
  onStep?: (state: FloatRecurrentState) => void,
): Float64Array {
  const state = newFloatState(layer);
  const step = new Float64Array(layer.inputSize);
  for (let t = 0; t < window; t++) {
    for (let i = 0; i < layer.inputSize; i++) step[i] = x[offset + t * layer.inputSize + i];
    floatRecurrentStep(layer, state, step);
    onStep?.(state);
  }
  return floatDense(head, state.h);
}
