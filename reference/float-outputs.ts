/**
 * The float model's outputs on a set of windows, as the trainer scores them:
 * one output row per window (many-to-one), or one per step of every window
 * (many-to-many, [n][window][outputs]). Token windows run the table rows of
 * their tokens with padding left out, as the device runs them (NUMERICS.md §3a).
 */
import { floatDense, floatPredictWindow, floatStackStep, newFloatState } from './float-reference.ts';
import { embedWindows, windowSteps } from '../core/embedding.ts';
import type { Windows } from '../data/window-set.ts';
import type { FloatDenseLayer, FloatEmbedding, FloatRecurrentLayer, SequencePattern } from '../core/model.ts';

export interface FloatNetwork {
  embedding?: FloatEmbedding;
  layers: readonly FloatRecurrentLayer[];
  head: FloatDenseLayer;
  sequence?: SequencePattern;
}

/**
 * Outputs (normalized units / logits) of every window of x ([window][features] each, or token ids [window]).
 * A clockwork layer's counter starts window w at `startClocks[w]` (trainer/clock-column.ts; 0 when absent).
 */
export function floatWindowOutputs(net: FloatNetwork, x: Windows, window: number, startClocks?: ArrayLike<number>): Float64Array {
  const O = net.head.outputSize;
  const I = net.layers[0]!.inputSize;
  const n = x.count;
  if (net.sequence === 'many-to-many') {
    // an output after every step, the stack streaming through the window
    const out = new Float64Array(n * window * O);
    for (let w = 0; w < n; w++) {
      const states = net.layers.map((l) => newFloatState(l, startClocks?.[w] ?? 0));
      const steps = x.at(w);
      for (let t = 0; t < window; t++) {
        const top = floatStackStep(net.layers, states, steps.subarray(t * I, (t + 1) * I));
        out.set(floatDense(net.head, top), (w * window + t) * O);
      }
    }
    return out;
  }
  const out = new Float64Array(n * O);
  for (let w = 0; w < n; w++) {
    const rows = net.embedding ? embedWindows(net.embedding, x.at(w)) : undefined;
    const y = rows
      ? (({ x: steps, steps: k }) => floatPredictWindow(net.layers, net.head, steps, 0, k))(windowSteps(rows.x, rows.padding, 0, window, I))
      : floatPredictWindow(net.layers, net.head, x.at(w), 0, window, undefined, startClocks?.[w] ?? 0);
    out.set(y, w * O);
  }
  return out;
}
