/**
 * The float model on real readings, one reading at a time, run the way the
 * device runs its int8 twin: streaming (the state carried from the first
 * reading) or as a window (the last `window` readings from a zero state at
 * every reading). Real units in and out, as Simulator.step: normalized inside,
 * target mode 'change' adds the forecast change to the current reading.
 */
import { floatDense, floatPredictWindow, floatStackStep, newFloatState, type FloatRecurrentState } from './float-reference.ts';
import { isWindowModel, type Deployment, type FloatModel } from '../core/model.ts';

export class FloatStepper {
  private states: FloatRecurrentState[] = [];
  /** Window runs: the last `window` normalized inputs, oldest first. */
  private readonly recent: Float64Array[] = [];
  private readonly windowed: boolean;

  constructor(
    private readonly model: FloatModel,
    deployment: Deployment,
  ) {
    this.windowed = isWindowModel({ layers: model.layers, deployment });
    this.reset();
  }

  reset(): void {
    this.states = this.model.layers.map((l) => newFloatState(l));
    this.recent.length = 0;
  }

  step(reading: ArrayLike<number>): Float64Array {
    const { inputNorm, outputNorm, task, targetMode, baseFeatures, layers, head, window } = this.model;
    const x = Float64Array.from(inputNorm.mean, (m, i) => (reading[i]! - m) / inputNorm.std[i]!);
    let y: Float64Array;
    if (this.windowed) {
      this.recent.push(x);
      if (this.recent.length > window) this.recent.shift();
      const flat = new Float64Array(this.recent.length * x.length);
      this.recent.forEach((r, t) => flat.set(r, t * x.length));
      y = floatPredictWindow(layers, head, flat, 0, this.recent.length);
    } else y = floatDense(head, floatStackStep(layers, this.states, x));
    if (task !== 'regression') return y;
    for (let k = 0; k < y.length; k++) y[k] = y[k]! * outputNorm.std[k]! + outputNorm.mean[k]!;
    if (targetMode === 'change') baseFeatures.forEach((f, k) => (y[k] = reading[f]! + y[k]!));
    return y;
  }
}
