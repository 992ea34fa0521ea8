/**
 * The float host reference of the recurrent cells + dense head (float64
 * arithmetic). It is what the trainer's TensorFlow.js model computes (checked
 * within 1e-5 in test/reference/float-reference.test.ts) and what the quantizer
 * calibrates on. Gate orders: core/model.ts CELL_GATES.
 *
 * LSTM:      z = W x + U h + b (i, f, g, o);  c = σ(f) c + σ(i) tanh(g);  h = σ(o) tanh(c)
 * Peephole:  as LSTM with i = σ(z_i + p_i ⊙ c(t-1)), f = σ(z_f + p_f ⊙ c(t-1)), o = σ(z_o + p_o ⊙ c(t))
 * CIFG:      z = W x + U h + b (f, g, o);  f = σ(z_f);  c = f c + (1 − f) tanh(z_g);  h = σ(z_o) tanh(c)
 * GRU:       z = σ(W_z x + U_z h + b_z);  r = σ(W_r x + U_r h + b_r)
 *            h~ = tanh(W_h x + U_h (r ⊙ h) + b_h);  h = z ⊙ h + (1 − z) ⊙ h~
 * GRU reset-after (bias b on x, recurrent bias b' on h):
 *            z = σ(W_z x + b_z + U_z h + b'_z);  r = σ(W_r x + b_r + U_r h + b'_r)
 *            h~ = tanh(W_h x + b_h + r ⊙ (U_h h + b'_h));  h = z ⊙ h + (1 − z) ⊙ h~
 * RNN:       h = tanh(W x + U h + b)
 * Clockwork: at step t (the state's counter) the units of each module i with t mod T_i = 0 take
 *            h = tanh(W x + U h + b) (U is zero from faster modules); the others keep h;
 *            then t = (t + 1) mod lcm(T) (core/clock.ts)
 * Depth-gated (a layer l > 0 over an LSTM-family layer of its width, with c_below its c at the same step):
 *            as LSTM with the depth gate d = σ(z_d + w_c ⊙ c(t-1) + w_l ⊙ c_below);  c = f c + i g + d c_below
 * Stacked:   layer l > 0 reads the output of layer l - 1 at the same step
 * Bidirectional: a backward copy of the cell reads the window last step first;
 *            outputs merge per step as [h_f, h_b] or h_f + h_b (Keras' Bidirectional);
 *            the head reads the final states of both, or (readout 'last-step') the
 *            merged output at the last step (the backward h after one step)
 * Reverse:   the cell alone reads the window last step first; the head reads h after the first step
 * Head:      y = D h + d (h of the last layer, after the last step)
 */
import {
  hasRecurrentBias,
  CIFG_GATE,
  DEPTH_GATED_GATE,
  DEPTH_TERM,
  GATE,
  GRU_GATE,
  PEEPHOLE,
  assertNever,
  gateCount,
  readoutOf,
  hasCellState,
  type FloatDenseLayer,
  type FloatRecurrentLayer,
  type MergeMode,
} from '../core/model.ts';
import { clockModules, isActive, nextClock } from '../core/clock.ts';

export interface FloatRecurrentState {
  h: Float64Array;
  /** Cell state (LSTM family; empty for the other cells). */
  c: Float64Array;
  /** Last step's gate arguments (what σ / tanh is applied to), [G*units] in gate order. */
  preActivations: Float64Array;
  /** GRU reset-after: last step's recurrent part U_h h + b'_h of the candidate rows, [units]; else empty. */
  recurrentPart: Float64Array;
  /** Clockwork: the step counter t (core/clock.ts); 0 for the other cells. */
  clock: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** A zero state; a clockwork layer's counter starts at `clock` (0 after a reset). */
export function newFloatState(layer: Pick<FloatRecurrentLayer, 'cell' | 'units'>, clock = 0): FloatRecurrentState {
  return {
    clock,
    h: new Float64Array(layer.units),
    c: new Float64Array(hasCellState(layer.cell) ? layer.units : 0),
    preActivations: new Float64Array(gateCount(layer.cell) * layer.units),
    recurrentPart: new Float64Array(hasRecurrentBias(layer.cell) ? layer.units : 0),
  };
}

/** Σ_i kernel[i][col] x[i] (+ bias[col] when withBias) */
function inputPart(layer: FloatRecurrentLayer, col: number, x: ArrayLike<number>, withBias = true): number {
  const cols = gateCount(layer.cell) * layer.units;
  let sum = withBias ? layer.bias[col] : 0;
  for (let i = 0; i < layer.inputSize; i++) sum += layer.kernel[i * cols + col] * x[i];
  return sum;
}

/** Σ_j recurrentKernel[j][col] h[j] */
function recurrentProduct(layer: FloatRecurrentLayer, col: number, h: ArrayLike<number>): number {
  const cols = gateCount(layer.cell) * layer.units;
  let sum = 0;
  for (let j = 0; j < layer.units; j++) sum += layer.recurrentKernel[j * cols + col] * h[j];
  return sum;
}

/** Σ_i kernel[i][col] x[i] + Σ_j recurrentKernel[j][col] h[j] + bias[col] (+ recurrentBias[col]) */
function preActivation(layer: FloatRecurrentLayer, col: number, x: ArrayLike<number>, h: ArrayLike<number>): number {
  return inputPart(layer, col, x) + recurrentProduct(layer, col, h) + (layer.recurrentBias?.[col] ?? 0);
}

/**
 * One step on a normalized input vector x, updating `state` in place. `below` is the
 * state of the layer below after this step (what a depth-gated layer reads).
 */
export function floatRecurrentStep(
  layer: FloatRecurrentLayer,
  state: FloatRecurrentState,
  x: ArrayLike<number>,
  below?: FloatRecurrentState,
): void {
  const U = layer.units;
  const z = state.preActivations;
  const { h, c } = state;
  switch (layer.cell) {
    case 'gru': {
      for (let col = 0; col < 2 * U; col++) z[col] = preActivation(layer, col, x, h);
      const rh = new Float64Array(U);
      for (let u = 0; u < U; u++) rh[u] = sigmoid(z[GRU_GATE.reset * U + u]) * h[u];
      for (let u = 0; u < U; u++) z[GRU_GATE.candidate * U + u] = preActivation(layer, GRU_GATE.candidate * U + u, x, rh);
      gruHidden(U, z, h);
      return;
    }
    case 'gru-reset-after':
      return gruResetAfterStep(layer, state, x);
    case 'rnn': {
      for (let col = 0; col < z.length; col++) z[col] = preActivation(layer, col, x, h);
      for (let u = 0; u < U; u++) h[u] = Math.tanh(z[u]);
      return;
    }
    case 'clockwork':
      return clockworkStep(layer, state, x);
    case 'cifg': {
      for (let col = 0; col < z.length; col++) z[col] = preActivation(layer, col, x, h);
      for (let u = 0; u < U; u++) {
        const f = sigmoid(z[CIFG_GATE.forget * U + u]);
        c[u] = f * c[u] + (1 - f) * Math.tanh(z[CIFG_GATE.cell * U + u]);
        h[u] = sigmoid(z[CIFG_GATE.output * U + u]) * Math.tanh(c[u]);
      }
      return;
    }
    case 'peephole':
      return peepholeStep(layer, state, x);
    case 'depth-gated':
      depthGatedStep(layer, state, x, below);
      return;
    case 'lstm': {
      for (let col = 0; col < z.length; col++) z[col] = preActivation(layer, col, x, h);
      for (let u = 0; u < U; u++) {
        const i = sigmoid(z[GATE.input * U + u]);
        const f = sigmoid(z[GATE.forget * U + u]);
        const g = Math.tanh(z[GATE.cell * U + u]);
        const o = sigmoid(z[GATE.output * U + u]);
        c[u] = f * c[u] + i * g;
        h[u] = o * Math.tanh(c[u]);
      }
      return;
    }
    default:
      assertNever(layer.cell, 'cell kind');
  }
}

/** GRU reset-after: z, r over [x, h] with both biases; h~ = tanh(W_h x + b_h + r ⊙ (U_h h + b'_h)). */
function gruResetAfterStep(layer: FloatRecurrentLayer, state: FloatRecurrentState, x: ArrayLike<number>): void {
  const U = layer.units;
  const { h, preActivations: z } = state;
  const rb = layer.recurrentBias;
  if (!rb) throw new Error('GRU reset-after layer without a recurrent bias');
  for (let col = 0; col < 2 * U; col++) z[col] = preActivation(layer, col, x, h);
  for (let u = 0; u < U; u++) {
    const col = GRU_GATE.candidate * U + u;
    state.recurrentPart[u] = recurrentProduct(layer, col, h) + rb[col];
  }
  for (let u = 0; u < U; u++) {
    const col = GRU_GATE.candidate * U + u;
    z[col] = inputPart(layer, col, x) + sigmoid(z[GRU_GATE.reset * U + u]) * state.recurrentPart[u];
  }
  gruHidden(U, z, h);
}

/** Peephole LSTM: i, f see c(t-1); o sees c(t). */
function peepholeStep(layer: FloatRecurrentLayer, state: FloatRecurrentState, x: ArrayLike<number>): void {
  const U = layer.units;
  const { h, c, preActivations: z } = state;
  const p = layer.peephole;
  if (!p) throw new Error('peephole LSTM layer without peephole weights');
  for (let col = 0; col < z.length; col++) z[col] = preActivation(layer, col, x, h);
  for (let u = 0; u < U; u++) {
    z[GATE.input * U + u] += p[PEEPHOLE.input * U + u] * c[u];
    z[GATE.forget * U + u] += p[PEEPHOLE.forget * U + u] * c[u];
    const i = sigmoid(z[GATE.input * U + u]);
    const f = sigmoid(z[GATE.forget * U + u]);
    c[u] = f * c[u] + i * Math.tanh(z[GATE.cell * U + u]);
    z[GATE.output * U + u] += p[PEEPHOLE.output * U + u] * c[u];
    h[u] = sigmoid(z[GATE.output * U + u]) * Math.tanh(c[u]);
  }
}

/** Clockwork RNN: the active modules' rows over the old h, then their h; the counter moves on. */
function clockworkStep(layer: FloatRecurrentLayer, state: FloatRecurrentState, x: ArrayLike<number>): void {
  const periods = layer.clockPeriods;
  if (!periods) throw new Error('clockwork layer without clock periods');
  const z = state.preActivations;
  const active = clockModules(layer.units, periods).filter((m) => isActive(m.period, state.clock));
  for (const m of active) for (let u = m.start; u < m.end; u++) z[u] = preActivation(layer, u, x, state.h);
  for (const m of active) for (let u = m.start; u < m.end; u++) state.h[u] = Math.tanh(z[u]);
  state.clock = nextClock(state.clock, periods);
}

/** d = σ(z_d + w_c ⊙ c(t-1) + w_l ⊙ c_below);  c = σ(f) c + σ(i) tanh(g) + d c_below;  h = σ(o) tanh(c) */
function depthGatedStep(
  layer: FloatRecurrentLayer,
  state: FloatRecurrentState,
  x: ArrayLike<number>,
  below: FloatRecurrentState | undefined,
): void {
  const w = layer.depthGate;
  if (!w) throw new Error('depth-gated layer without depth-gate weights');
  if (!below) throw new Error('a depth-gated layer steps after the layer below it');
  const U = layer.units;
  const { h, c, preActivations: z } = state;
  const cBelow = below.c;
  for (let col = 0; col < z.length; col++) z[col] = preActivation(layer, col, x, h);
  for (let u = 0; u < U; u++) {
    z[DEPTH_GATED_GATE.depth * U + u] += w[DEPTH_TERM.cellPrevious * U + u] * c[u] + w[DEPTH_TERM.cellBelow * U + u] * cBelow[u];
    const i = sigmoid(z[GATE.input * U + u]);
    const f = sigmoid(z[GATE.forget * U + u]);
    const g = Math.tanh(z[GATE.cell * U + u]);
    const o = sigmoid(z[GATE.output * U + u]);
    const d = sigmoid(z[DEPTH_GATED_GATE.depth * U + u]);
    c[u] = f * c[u] + i * g + d * cBelow[u];
    h[u] = o * Math.tanh(c[u]);
  }
}

/**
 * One step of a streaming stack: layer l reads the h layer l - 1 has just
 * computed. Updates `states` in place; returns the top layer's h.
 */
export function floatStackStep(layers: readonly FloatRecurrentLayer[], states: FloatRecurrentState[], x: ArrayLike<number>): Float64Array {
  let input: ArrayLike<number> = x;
  layers.forEach((layer, l) => {
    floatRecurrentStep(layer, states[l]!, input, states[l - 1]);
    input = states[l]!.h;
  });
  return states[states.length - 1]!.h;
}

/** h = z ⊙ h + (1 − z) ⊙ tanh(h~) */
function gruHidden(U: number, z: Float64Array, h: Float64Array): void {
  for (let u = 0; u < U; u++) {
    const update = sigmoid(z[GRU_GATE.update * U + u]);
    h[u] = update * h[u] + (1 - update) * Math.tanh(z[GRU_GATE.candidate * U + u]);
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
 * Which weights of layer l a step ran: 'forward' the layer's own (layers[l],
 * whichever way it reads the window; a reverse layer's too), 'backward' a
 * bidirectional layer's backward direction (layers[l].backward).
 */
export type Direction = 'forward' | 'backward';

/** Run one direction over a sequence from a zero state; returns h after each input, indexed by time. */
function runDirection(
  layer: FloatRecurrentLayer,
  seq: readonly ArrayLike<number>[],
  reverse: boolean,
  onStep?: (state: FloatRecurrentState) => void,
): Float64Array[] {
  const state = newFloatState(layer);
  const out: Float64Array[] = new Array(seq.length);
  for (let k = 0; k < seq.length; k++) {
    const t = reverse ? seq.length - 1 - k : k;
    floatRecurrentStep(layer, state, seq[t]!);
    onStep?.(state);
    out[t] = Float64Array.from(state.h);
  }
  return out;
}

/** [h_f, h_b] ('concat') or h_f + h_b ('sum'). */
function mergeFloat(merge: MergeMode | undefined, f: Float64Array, b: Float64Array): Float64Array {
  if (merge === 'sum') return f.map((v, u) => v + b[u]!);
  const out = new Float64Array(f.length + b.length);
  out.set(f);
  out.set(b, f.length);
  return out;
}

/**
 * floatPredictWindow of forward-only layers, one step of the whole stack at a
 * time: the same values (each layer's step reads only its own state and the
 * layer below's h at that step) without holding the window's sequences, so a
 * stream of millions of steps (streamed calibration) needs no more memory
 * than one step. `onStep` sees the layers in order at every step.
 */
function floatStreamWindow(
  layers: readonly FloatRecurrentLayer[],
  head: FloatDenseLayer,
  x: ArrayLike<number>,
  offset: number,
  window: number,
  onStep?: (layer: number, direction: Direction, state: FloatRecurrentState) => void,
  startClock = 0,
): Float64Array {
  const inputSize = layers[0]!.inputSize;
  const states = layers.map((l) => newFloatState(l, startClock));
  const step = new Float64Array(inputSize);
  for (let t = 0; t < window; t++) {
    for (let i = 0; i < inputSize; i++) step[i] = x[offset + t * inputSize + i]!;
    let input: ArrayLike<number> = step;
    layers.forEach((layer, l) => {
      floatRecurrentStep(layer, states[l]!, input, states[l - 1]);
      onStep?.(l, 'forward', states[l]!);
      input = states[l]!.h;
    });
  }
  return floatDense(head, window > 0 ? states[states.length - 1]!.h : new Float64Array(layers[layers.length - 1]!.units));
}

/**
 * Run one normalized window ([window][inputSize] row-major, starting at
 * `offset` in `x`) through the stacked layers from a zero state; returns the
 * head's output (normalized units / logits). Each layer reads the output
 * sequence of the layer below. A bidirectional layer also runs backward from
 * the last step to the first and merges the two per step; the head then
 * reads merge(forward h after the last step, backward h after the first)
 * ('final-states'), or, readout 'last-step' of the top layer, the merged
 * output at the last step: merge(forward h after the last step, backward h
 * after one step on the last input alone).
 * A reverse layer runs only backward; the head then reads its h after the
 * first step. `onStep` sees every layer's state after every step of each direction
 * (calibration). A clockwork layer's counter starts at `startClock` (a streaming
 * model only; trainer/clock-column.ts: the clock the device has at the window's first row).
 */
export function floatPredictWindow(
  layers: readonly FloatRecurrentLayer[],
  head: FloatDenseLayer,
  x: ArrayLike<number>,
  offset: number,
  window: number,
  onStep?: (layer: number, direction: Direction, state: FloatRecurrentState) => void,
  startClock = 0,
): Float64Array {
  const inputSize = layers[0]!.inputSize;
  if (layers.every((l) => !l.backward && !l.reverse)) return floatStreamWindow(layers, head, x, offset, window, onStep, startClock);
  let seq: Float64Array[] = Array.from({ length: window }, (_, t) =>
    Float64Array.from({ length: inputSize }, (_, i) => x[offset + t * inputSize + i]!),
  );
  let top: Float64Array = new Float64Array(0);
  layers.forEach((layer, l) => {
    if (layer.reverse) {
      // a reverse layer: its h per step in time order; the head reads h after the first step
      seq = runDirection(layer, seq, true, (s) => onStep?.(l, 'forward', s));
      top = seq[0]!;
      return;
    }
    const forward = runDirection(layer, seq, false, (s) => onStep?.(l, 'forward', s));
    if (!layer.backward) {
      seq = forward;
      top = forward[window - 1]!;
      return;
    }
    const backwardOnStep = (s: FloatRecurrentState) => onStep?.(l, 'backward', s);
    const readout = readoutOf(layer);
    switch (readout) {
      case 'final-states': {
        const backward = runDirection(layer.backward, seq, true, backwardOnStep);
        seq = forward.map((f, t) => mergeFloat(layer.merge, f, backward[t]!));
        top = mergeFloat(layer.merge, forward[window - 1]!, backward[0]!);
        return;
      }
      case 'last-step': {
        // The top layer's output at the last step: its backward direction after
        // one step, which reads the last input alone from a zero state; its
        // other steps never reach the head, so they are not run (as on the device).
        const backward = runDirection(layer.backward, seq.slice(window - 1), true, backwardOnStep);
        top = mergeFloat(layer.merge, forward[window - 1]!, backward[0]!);
        return;
      }
      default:
        assertNever(readout, 'readout');
    }
  });
  return floatDense(head, top);
}
