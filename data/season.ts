/**
 * The season of a series, for the seasonal naive baseline ("the same hour
 * yesterday"): the lag at which the autocorrelation of its first differences
 * peaks. Differences, because a trend or a random walk (a level that wanders)
 * makes the autocorrelation of the levels fall slowly from lag 1 and hides a
 * cycle; a cycle survives differencing.
 *
 * r(k) = (Σ d_t d_{t+k} / pairs at lag k) / (Σ d_t² / n) over every series
 * (d mean-removed per series; each lag averaged over its own pairs, so long
 * lags are not shrunk), pooled so that several short series (one per sensor)
 * agree on one period. Differencing makes white noise's r(1) negative, so a
 * peak at lag 2 says nothing: the lags searched start at 3.
 * The season is the shortest lag k ≥ 3 whose local peak of r is above
 * max(0.1, 3/√n) (n differences in all) and within 10% of the largest such
 * peak (a cycle's multiples peak nearly as high); none when no peak clears it.
 */
import { phaseTick } from '../core/progress-line.ts';

export interface Season {
  period: number;
  /** r(period). */
  autocorrelation: number;
}

/** The lags searched: 3 .. a third of the longest series (a period must repeat), at most this. */
export const MAX_SEASON = 2000;

export function detectSeason(series: readonly ArrayLike<number>[]): Season | undefined {
  const diffs = series
    .filter((s) => s.length > 2)
    .map((s) => {
      const d = Float64Array.from({ length: s.length - 1 }, (_, t) => s[t + 1]! - s[t]!);
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      return d.map((v) => v - mean);
    });
  const n = diffs.reduce((a, d) => a + d.length, 0);
  const energy = diffs.reduce((a, d) => a + d.reduce((e, v) => e + v * v, 0), 0);
  if (n < 8 || !(energy > 0)) return undefined;
  const maxLag = Math.min(MAX_SEASON, Math.floor(Math.max(...diffs.map((d) => d.length)) / 3));
  if (maxLag < 3) return undefined;
  const r = new Float64Array(maxLag + 2);
  for (let k = 1; k <= maxLag + 1; k++) {
    phaseTick(k, maxLag + 1, 'lags');
    let sum = 0;
    let pairs = 0;
    for (const d of diffs) {
      for (let t = 0; t + k < d.length; t++) sum += d[t]! * d[t + k]!;
      pairs += Math.max(0, d.length - k);
    }
    r[k] = pairs ? sum / pairs / (energy / n) : 0;
  }
  const threshold = Math.max(0.1, 3 / Math.sqrt(n));
  const peaks: Season[] = [];
  for (let k = 3; k <= maxLag; k++)
    if (r[k]! > r[k - 1]! && r[k]! >= r[k + 1]! && r[k]! > threshold) peaks.push({ period: k, autocorrelation: r[k]! });
  const highest = Math.max(...peaks.map((p) => p.autocorrelation));
  return peaks.find((p) => p.autocorrelation >= 0.9 * highest);
}
