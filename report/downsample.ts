/**
 * Long series are thinned for the charts (a few thousand marks render in well
 * under a second): every k-th point, k the smallest that keeps at most `max`.
 * The chart's title says so (`thinnedText`).
 */

/** Points a line chart draws at most, per line: one per pixel of the plot's width (specs.ts); more draw nothing more. */
export const MAX_CHART_POINTS = 720;

/** The stride that keeps at most `max` of `count` points. */
export const strideFor = (count: number, max = MAX_CHART_POINTS): number => Math.max(1, Math.ceil(count / max));

/** The indices kept of `count` points: 0, k, 2k, ... */
export function keptIndices(count: number, max = MAX_CHART_POINTS): number[] {
  const k = strideFor(count, max);
  return Array.from({ length: Math.ceil(count / k) }, (_, i) => i * k);
}

/** For a chart's title: "" when every point is drawn, else which ones are. */
export function thinnedText(count: number, max = MAX_CHART_POINTS): string {
  const k = strideFor(count, max);
  return k === 1 ? '' : ` (every ${ordinal(k)} of ${count.toLocaleString('en-US')} points drawn)`;
}

function ordinal(k: number): string {
  const tens = k % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][k % 10] ?? 'th');
  return `${k}${suffix}`;
}
