/**
 * The float model's outputs on a set of windows, as the trainer scores them:
 * one output row per window (many-to-one), or one per step of every window
 * (many-to-many, [n][window][outputs]). Token windows run the table rows of
 * their tokens with padding left out, as the device runs them (NUMERICS.md §3a).
 */
import { floatDense, floatPredictWindow, floatStackStep, newFloatState } from './float-reference.ts';
import { embedWindows, windowSteps } from '../core/embedding.ts';
import type { FloatDenseLayer, FloatEmbedding, FloatRecurrentLayer, SequencePattern } from '../core/model.ts';

export interface FloatNetwork {
  embedding?: FloatEmbedding;
  layers: readonly FloatRecurrentLayer[];
  head: FloatDenseLayer;
  sequence?: SequencePattern;
}

/** Outputs (normalized units / logits) of the first `n` windows of x ([n][window][features], or token ids [n][window]). */
export function floatWindowOutputs(net: FloatNetwork, x: Float32Array, n: number, window: number): Float64Array {
  const O = net.head.outputSize;
  const I = net.layers[0]!.inputSize;
  if (net.sequence === 'many-to-many') {
    // an output after every step, the stack streaming through the window
    const out = new Float64Array(n * window * O);
    for (let w = 0; w < n; w++) {
      const states = net.layers.map((l) => newFloatState(l));
      for (let t = 0; t < window; t++) {
        const top = floatStackStep(net.layers, states, x.subarray((w * window + t) * I, (w * window + t + 1) * I));
        out.set(floatDense(net.head, top), (w * window + t) * O);
      }
    }
    return out;
  }
  const out = new Float64Array(n * O);
  const rows = net.embedding ? embedWindows(net.embedding, x.subarray(0, n * window)) : undefined;
  for (let w = 0; w < n; w++) {
    const y = rows
      ? (({ x: steps, steps: k }) => floatPredictWindow(net.layers, net.head, steps, 0, k))(windowSteps(rows.x, rows.padding, w, window, I))
      : floatPredictWindow(net.layers, net.head, x, w * window * I, window);
    out.set(y, w * O);
  }
  return out;
}
