/**
 * How a clockwork layer trains on the phases the device will run
 * (docs/NUMERICS.md §5i, "Training windows and the clock").
 *
 * The device's counter is the number of steps since its last reset, modulo
 * the cycle L: streaming a split from its first row (pipeline/streamed-eval.ts)
 * it is (row − first row of the split) mod L. A training window starting at
 * table row s therefore starts at clock (s − split start) mod L
 * (core/clock.ts windowStartClock), and its step w runs at that clock + w.
 * The trainer hands the TensorFlow.js cell that clock as one more input
 * column (trainer/cells.ts splits it off): windows of every phase train
 * side by side, each with the clock the device has at the same rows.
 */
import { clockCycle, windowStartClock } from '../core/clock.ts';
import { splitRange, type Dataset, type Segment, type Split, type SplitName } from '../data/windows.ts';

/** The segment holding table row `row`. */
function segmentOf(segments: readonly Segment[], row: number): Segment {
  const s = segments.find((g) => row >= g.start && row < g.end);
  if (!s) throw new Error(`row ${row} is in no segment`);
  return s;
}

/** Which split of `ds` this is. */
function splitName(ds: Dataset, split: Split): SplitName {
  if (split === ds.train) return 'train';
  if (split === ds.validation) return 'validation';
  if (split === ds.test) return 'test';
  throw new Error('a split of another dataset');
}

/**
 * The clock at the first step of each window of `split`, [windows]. Windows
 * that are not rows of a series (no segments: images, texts) start at 0.
 */
export function windowStartClocks(ds: Dataset, split: Split, periods: readonly number[]): Int32Array {
  const name = splitName(ds, split);
  return Int32Array.from(split.endRows, (end) => {
    if (ds.segments.length === 0) return 0;
    const start = end - ds.window + 1;
    const [splitStart] = splitRange(segmentOf(ds.segments, end), name);
    return windowStartClock(start, splitStart, periods);
  });
}

/**
 * The clock at the first step of each window of `split` for a model whose
 * first layer is clockwork (the only place a clockwork layer can be), else
 * undefined: the model then has no clock.
 */
export function modelStartClocks(
  model: { layers: readonly { clockPeriods?: readonly number[] }[] },
  ds: Dataset,
  split: Split,
): Int32Array | undefined {
  const periods = model.layers[0]?.clockPeriods;
  return periods ? windowStartClocks(ds, split, periods) : undefined;
}

/**
 * Windows [n][W][F] with the clock as one more column, [n][W][F + 1]: step w
 * of window k runs at (startClocks[k] + w) mod L.
 */
export function withClockColumn(
  x: Float32Array,
  n: number,
  W: number,
  F: number,
  startClocks: ArrayLike<number>,
  periods: readonly number[],
): Float32Array {
  const L = clockCycle(periods);
  const out = new Float32Array(n * W * (F + 1));
  for (let k = 0; k < n; k++)
    for (let w = 0; w < W; w++) {
      const to = (k * W + w) * (F + 1);
      out.set(x.subarray((k * W + w) * F, (k * W + w + 1) * F), to);
      out[to + F] = (startClocks[k]! + w) % L;
    }
  return out;
}
