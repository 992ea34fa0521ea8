/**
 * The data of the report's charts about the model's forecasts, gathered from
 * the run's own figures (report/run.ts): the training losses, the streamed
 * test series with the forecasts and baselines the command scored, and the
 * confusion matrices float and int8. A section the run holds no data for
 * gets `{ missing }`: one line saying why, never made-up values.
 */
import { classNamesOf } from '../core/model.ts';
import { windowClasses } from '../pipeline/window-classes.ts';
import { keptIndices } from './downsample.ts';
import type { ReportRun } from './run.ts';

export interface Missing {
  missing: string;
}

export type Gathered<T> = T | Missing;

export const isMissing = <T>(g: Gathered<T>): g is Missing => typeof g === 'object' && g !== null && 'missing' in g;

export interface LossData {
  rows: { epoch: number; split: 'training' | 'validation'; loss: number }[];
  kept: number;
}

export function lossData(run: ReportRun): Gathered<LossData> {
  const h = run.history;
  if (!h) return { missing: run.noHistory ?? 'this run holds no training history' };
  return {
    rows: [
      ...h.loss.map((loss, i) => ({ epoch: i + 1, split: 'training' as const, loss })),
      ...h.valLoss.map((loss, i) => ({ epoch: i + 1, split: 'validation' as const, loss })),
    ],
    kept: h.kept,
  };
}

/** One target's streamed test series: observed values and forecasts at every kept point, long form. */
export interface ForecastData {
  target: string;
  /** The lines in drawing order: observed, int8, float, then the baselines. */
  lines: string[];
  rows: ForecastRow[];
  /** Points scored (before thinning), and the series they come from. */
  points: number;
  series: number;
  /** A closer look: the first CLOSE_UP_POINTS points of the first series, every one. */
  closeUp: ForecastRow[];
}

export interface ForecastRow {
  point: number;
  line: string;
  value: number;
}

/** Points of the close-up chart. */
export const CLOSE_UP_POINTS = 200;

export const OBSERVED = 'observed';
export const INT8_LINE = 'int8 (as the device)';
export const FLOAT_LINE = 'float';

export function forecastData(run: ReportRun): Gathered<ForecastData[]> {
  if (run.dataset.task === 'classification') return { missing: 'a classifier: its forecasts are classes, in the confusion matrices' };
  const s = run.details.streamedSeries;
  if (!s || s.series.length === 0) return { missing: 'no test series were streamed through the app (the data keeps no series)' };
  const T = s.targets.length;
  const P = s.series.length;
  const kept = keptIndices(P);
  const seriesCount = new Set(s.series).size;
  // The close-up: the first series' first points, up to CLOSE_UP_POINTS.
  let closeUpPoints = 0;
  while (closeUpPoints < Math.min(P, CLOSE_UP_POINTS) && s.series[closeUpPoints] === s.series[0]) closeUpPoints++;
  const closeUp = Array.from({ length: closeUpPoints }, (_, p) => p);
  return s.targets.map((target, k) => {
    const lines: { name: string; values: number[] }[] = [
      { name: OBSERVED, values: s.observed },
      { name: INT8_LINE, values: s.int8 },
      ...(s.float.length ? [{ name: FLOAT_LINE, values: s.float }] : []),
      ...s.baselines,
    ];
    const rowsAt = (points: number[]) => lines.flatMap((l) => points.map((p) => ({ point: p, line: l.name, value: l.values[p * T + k]! })));
    return { target, lines: lines.map((l) => l.name), rows: rowsAt(kept), points: P, series: seriesCount, closeUp: rowsAt(closeUp) };
  });
}

/** Confusion matrices, int8 and float, as cells: rows true, columns predicted. */
export interface ConfusionData {
  classes: string[];
  /** Where they were counted: the streamed test series or the test windows. */
  on: 'streamed test series' | 'test windows';
  matrices: { model: 'int8' | 'float'; accuracy: number; cells: { truth: string; predicted: string; count: number }[] }[];
}

export function confusionData(run: ReportRun): Gathered<ConfusionData> {
  const { dataset, report } = run;
  if (dataset.task !== 'classification') return { missing: 'a regression model: no classes to confuse' };
  const classes = classNamesOf(dataset);
  const s = report.streamed?.task === 'classification' ? report.streamed : undefined;
  const wc = report.windowClasses;
  const floatWc = wc ? windowClasses(dataset, run.details.windowOutputs.float) : undefined;
  const pairs = s ? { int8: s.confusion, float: s.floatConfusion } : wc ? { int8: wc.confusion, float: floatWc?.confusion } : undefined;
  if (!pairs) return { missing: 'a many-to-many classifier without series: no confusion matrix was counted' };
  const matrix = (model: 'int8' | 'float', m: number[][]) => {
    const total = m.flat().reduce((a, b) => a + b, 0);
    const hits = m.reduce((a, row, i) => a + row[i]!, 0);
    const cells = m.flatMap((row, t) => row.map((count, p) => ({ truth: classes[t]!, predicted: classes[p]!, count })));
    return { model, accuracy: total ? hits / total : NaN, cells };
  };
  return {
    classes,
    on: s ? 'streamed test series' : 'test windows',
    matrices: [matrix('int8', pairs.int8), ...(pairs.float ? [matrix('float', pairs.float)] : [])],
  };
}
