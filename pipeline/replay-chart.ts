/**
 * A replay as the rows a chart plots (long form, one row per point, as
 * Vega-Lite reads `data.values`): the readings, the app's forecasts placed
 * at the time they forecast, its score, and its alerts.
 */
import type { ReplayResult } from './replay.ts';

export interface ReplayChartData {
  /** What `time` is: the recording's time column (its name), or "sample" (the sample index). */
  timeField: string;
  /** Each reading: one row per sample and feature (missing readings left out). */
  readings: { time: number; series: string; value: number }[];
  /**
   * Each forecast, at the time of the sample it is for: the output for target k made at sample t,
   * `horizon` samples ahead, at the time of sample t + horizon (horizon 0: at t), for every
   * sample the model stepped on (those of the warm-up too: `scores` says which counted). Regression only.
   */
  forecasts: { time: number; series: string; value: number }[];
  /** The app's score at each sample where it had one. */
  scores: { time: number; score: number }[];
  /** Where alerts started. */
  alerts: { time: number; sample: number; score: number }[];
  alertAbove?: number;
}

export function replayChartData(r: ReplayResult): ReplayChartData {
  const { samples } = r;
  const h = r.model.horizon;
  const readings = samples.flatMap((s) =>
    s.readings.flatMap((v, i) => (v === null ? [] : [{ time: s.time, series: r.model.features[i]!, value: v }])),
  );
  const forecasts =
    r.model.task === 'regression'
      ? samples.flatMap((s, t) => {
          const at = samples[t + h];
          if (!s.stepped || at === undefined) return [];
          return r.model.targets.map((target, k) => ({ time: at.time, series: `forecast ${target}`, value: s.outputs[k]! }));
        })
      : [];
  return {
    timeField: r.recording.timeColumn ?? 'sample',
    readings,
    forecasts,
    scores: samples.flatMap((s) => (s.score === null ? [] : [{ time: s.time, score: s.score }])),
    alerts: r.alerts,
    ...(r.app.alertAbove !== undefined ? { alertAbove: r.app.alertAbove } : {}),
  };
}
