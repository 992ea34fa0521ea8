/**
 * One-to-many models: how good are the device's multi-step forecasts? Over
 * the test windows, the float model and the int8 simulator each read a
 * window, then forecast K steps ahead by feeding every forecast back as its
 * feature's next reading (as `forecast(n, out)` does on the device); both are
 * scored against the readings that followed, next to persistence (repeating
 * the window's last reading). Horizon 1 only: a forecast is the next reading.
 */
import { feedbackFeatures, type FloatModel, type QuantizedModel } from '../core/model.ts';
import { floatDense, floatStackStep, newFloatState } from '../reference/float-reference.ts';
import { Simulator } from '../reference/simulator.ts';
import type { Dataset } from '../data/windows.ts';

export interface ForecastMetrics {
  /** Steps ahead. */
  steps: number;
  /** Test windows with K observed readings after them (in the same series and split). */
  windows: number;
  /** RMSE over all K steps and targets, in target units. */
  float: number;
  int8: number;
  persistence: number;
}

export function forecastMetrics(float: FloatModel, q: QuantizedModel, ds: Dataset, steps: number): ForecastMetrics | undefined {
  if (q.sequence !== 'one-to-many' || ds.horizon !== 1 || ds.task !== 'regression') return undefined;
  const split = ds.test;
  const F = ds.featureNames.length;
  const T = ds.targetNames.length;
  const W = ds.window;
  const feedback = feedbackFeatures(float);
  // The window ending at row r holds the reading of row r + 1 as its target: index windows by end row.
  const byEnd = new Map<number, number>();
  split.endRows.forEach((r, k) => byEnd.set(r, k));
  const reading = (k: number, t: number, f: number) => split.x.at(k)[t * F + f]! * ds.inputNorm.std[f]! + ds.inputNorm.mean[f]!;
  const sims = new Simulator(q);
  let ssFloat = 0;
  let ssInt = 0;
  let ssPersist = 0;
  let count = 0;
  let windows = 0;
  for (let k = 0; k < split.n; k++) {
    const end = split.endRows[k]!;
    // Observed targets of rows end+1 .. end+K: the targets of the windows ending at end .. end+K-1.
    const future: number[][] = [];
    for (let s = 0; s < steps; s++) {
      const w = byEnd.get(end + s);
      if (w === undefined) break;
      future.push(Array.from({ length: T }, (_, j) => split.rawTargets[w * T + j]!));
    }
    if (future.length < steps) continue;
    windows++;
    const last = Array.from({ length: F }, (_, f) => reading(k, W - 1, f));
    // int8: the simulator reads the window's readings, then forecasts.
    sims.reset();
    for (let t = 0; t < W; t++) sims.step(Array.from({ length: F }, (_, f) => reading(k, t, f)));
    const intForecast = sims.forecast(steps);
    // float: the same loop with the float reference, in real units between steps.
    const states = float.layers.map((l) => newFloatState(l));
    const run = (x: ArrayLike<number>) => floatDense(float.head, floatStackStep(float.layers, states, x));
    let y: Float64Array = new Float64Array(0);
    const values = split.x.at(k);
    for (let t = 0; t < W; t++) y = run(Array.from({ length: F }, (_, f) => values[t * F + f]!));
    const x = [...last];
    for (let s = 0; s < steps; s++) {
      if (s > 0) y = run(x.map((v, f) => (v - ds.inputNorm.mean[f]!) / ds.inputNorm.std[f]!));
      for (let j = 0; j < T; j++) {
        const change = y[j]! * ds.outputNorm.std[j]! + ds.outputNorm.mean[j]!;
        const forecast = ds.targetMode === 'change' ? x[feedback[j]!]! + change : change;
        x[feedback[j]!] = forecast;
        const observed = future[s]![j]!;
        ssFloat += (forecast - observed) ** 2;
        ssInt += (intForecast[s * T + j]! - observed) ** 2;
        ssPersist += (last[feedback[j]!]! - observed) ** 2;
        count++;
      }
    }
  }
  if (count === 0) return undefined;
  return { steps, windows, float: Math.sqrt(ssFloat / count), int8: Math.sqrt(ssInt / count), persistence: Math.sqrt(ssPersist / count) };
}
