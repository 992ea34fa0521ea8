/** Float-model metrics: RMSE in target units, accuracy, argmax. */
import type { Normalization } from '../core/model.ts';
import type { Dataset, Split } from './windows.ts';

/** Index of the largest of row `row` of a [rows][cols] array (first one on ties). */
export function argmax(values: ArrayLike<number>, row = 0, cols = values.length): number {
  let best = 0;
  let bestV = -Infinity;
  for (let j = 0; j < cols; j++) {
    const v = values[row * cols + j]!;
    if (v > bestV) {
      bestV = v;
      best = j;
    }
  }
  return best;
}

/**
 * RMSE in original target units over all n windows and all targets.
 * `predNorm` and `trueNorm` are [n][targets] normalized with `outputNorm`
 * (de-normalized here: x = z*std + mean). If several targets have different
 * units, use rmsePerTarget.
 */
export function rmse(predNorm: ArrayLike<number>, trueNorm: ArrayLike<number>, outputNorm: Normalization): number {
  const per = rmsePerTarget(predNorm, trueNorm, outputNorm);
  const T = per.length;
  return Math.sqrt(per.reduce((s, r) => s + r * r, 0) / T);
}

export function rmsePerTarget(predNorm: ArrayLike<number>, trueNorm: ArrayLike<number>, outputNorm: Normalization): number[] {
  const T = outputNorm.std.length;
  if (predNorm.length !== trueNorm.length || T === 0 || predNorm.length % T !== 0) {
    throw new Error(`rmse: shapes disagree (${predNorm.length} predictions, ${trueNorm.length} targets, ${T} per row)`);
  }
  const n = predNorm.length / T;
  const out: number[] = [];
  for (let j = 0; j < T; j++) {
    let ss = 0;
    for (let k = 0; k < n; k++) {
      const d = (predNorm[k * T + j]! - trueNorm[k * T + j]!) * outputNorm.std[j]!;
      ss += d * d;
    }
    out.push(n === 0 ? NaN : Math.sqrt(ss / n));
  }
  return out;
}

/** Fraction of rows whose argmax over `logits` ([n][classes]) equals the class index in `labels` ([n]). */
export function accuracy(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  const n = labels.length;
  // Two classes and one logit per row: a sigmoid head, class 1 when the logit is positive.
  const binary = classes === 2 && logits.length === n;
  if (!binary && logits.length !== n * classes) throw new Error(`accuracy: ${logits.length} logits for ${n} rows of ${classes} classes`);
  let hit = 0;
  for (let k = 0; k < n; k++) if ((binary ? (logits[k]! > 0 ? 1 : 0) : argmax(logits, k, classes)) === labels[k]) hit++;
  return n === 0 ? NaN : hit / n;
}

/**
 * Baseline RMSE (target units) of the "persistence" forecast: predict each
 * target as its value in the window's last row. Undefined unless every
 * target is also a feature. The last value is recovered from the float32
 * normalized x, so it is exact only up to float32 rounding (~1e-7 relative).
 */
export function persistenceRmse(ds: Dataset, split: Split): number | undefined {
  if (ds.task !== 'regression' || ds.sequence === 'many-to-many') return undefined;
  const F = ds.featureNames.length;
  const T = ds.targetNames.length;
  const cols = ds.targetNames.map((t) => ds.featureNames.indexOf(t));
  if (cols.some((c) => c < 0)) return undefined;
  let ss = 0;
  for (let k = 0; k < split.n; k++) {
    const last = (ds.window - 1) * F;
    const values = split.x.at(k);
    for (let j = 0; j < T; j++) {
      const f = cols[j]!;
      // Undo the input normalization to get the raw last value (compute in float64).
      const lastRaw = values[last + f]! * ds.inputNorm.std[f]! + ds.inputNorm.mean[f]!;
      const d = lastRaw - split.rawTargets[k * T + j]!;
      ss += d * d;
    }
  }
  return Math.sqrt(ss / (split.n * T));
}
