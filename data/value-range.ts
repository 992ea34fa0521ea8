/**
 * Values the trainer can hold. A finite cell can still be too large: its
 * column's mean or standard deviation overflows a double (a 1e308 among the
 * training rows makes the std Infinity and every normalized value 0), or its
 * normalized value overflows the float32 trainer (a 1e308 in a validation row
 * becomes Infinity there, and training "diverges"). Both are refused once the
 * windows are built, naming the column and the row.
 */
import { UserError } from '../core/errors.ts';
import { fmt } from '../core/format.ts';

/**
 * Largest |z| (standard deviations from the training rows' mean) a window may
 * carry. The trainer computes in float32 (largest value 3.4e38); its loss
 * squares a value and sums up to ~1e8 of them: (1e15)² · 1e8 = 1e38 still fits.
 */
export const MAX_NORMALIZED = 1e15;

/** Where a table row is in the file ("data.csv:12"), for messages. */
export type RowPlace = (row: number) => string;

/** The row in `ranges` whose value is largest in magnitude (the one that made a statistic overflow). */
function largestRow(values: ArrayLike<number>, ranges: [number, number][]): number {
  let best = ranges[0]![0];
  for (const [lo, hi] of ranges) for (let r = lo; r < hi; r++) if (Math.abs(values[r]!) > Math.abs(values[best]!)) best = r;
  return best;
}

/**
 * A column's mean and std over `ranges` must be finite: a sum or a square that
 * overflows a double is refused, naming `what` ("column 'a'") and its largest value's row.
 */
export function checkFiniteStats(
  stat: { mean: number; std: number },
  what: string,
  values: ArrayLike<number>,
  ranges: [number, number][],
  place: RowPlace,
): void {
  if (Number.isFinite(stat.mean) && Number.isFinite(stat.std)) return;
  const row = largestRow(values, ranges);
  const statistic = Number.isFinite(stat.mean) ? 'standard deviation' : 'mean';
  throw new UserError(
    `${place(row)}: ${what}: ${values[row]} is too large to normalize (the training rows' ${statistic} overflows a double); remove the row or rescale the column`,
  );
}

/** Element i of a normalized array: the table row, what it is ("column 'a'"), its value before normalizing, and that normalization. */
export interface NormalizedValue {
  row: number;
  what: string;
  value: number;
  mean: number;
  std: number;
}

/** Every value of a normalized array (x or y of a split) within ±MAX_NORMALIZED; `describe(i)` says what element i is. */
export function checkNormalizedRange(values: Float32Array, describe: (i: number) => NormalizedValue, place: RowPlace): void {
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]!) <= MAX_NORMALIZED) continue;
    const { row, what, value, mean, std } = describe(i);
    const z = (value - mean) / std;
    throw new UserError(
      `${place(row)}: ${what}: ${value} lies ${fmt(Math.abs(z), 2)} standard deviations from the training rows' mean ` +
        `(${fmt(mean)}, std ${fmt(std)}), beyond the ${MAX_NORMALIZED.toExponential()} the float32 trainer holds; remove the row or rescale the column`,
    );
  }
}
