/**
 * The page `lstm-mcu replay` writes beside its files (`replay.html`): the
 * recording's readings with the app's forecasts over them and its alerts
 * marked, and the app's score against its alert threshold, drawn from
 * replayChartData (pipeline/replay-chart.ts), what the app printed and
 * advertised on the engine. Long recordings are thinned per line for the
 * chart (the title says so); every alert is drawn.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReplayChartData } from '../pipeline/replay-chart.ts';
import { keptIndices, thinnedText } from './downsample.ts';
import { pageHtml } from './html.ts';
import { SCHEMA, WIDTH } from './specs.ts';
import type { SectionMissing, SectionView } from './sections.ts';

/** The replay page's file name, beside replay.json. */
export const REPLAY_PAGE_FILE = 'replay.html';

/** Each series thinned on its own to the chart's points; the largest series' count, for the title. */
function thinnedBySeries<T extends { series: string }>(rows: T[]): { rows: T[]; largest: number } {
  const bySeries = new Map<string, T[]>();
  for (const row of rows) {
    const series = bySeries.get(row.series);
    if (series) series.push(row);
    else bySeries.set(row.series, [row]);
  }
  let largest = 0;
  const kept: T[] = [];
  for (const series of bySeries.values()) {
    largest = Math.max(largest, series.length);
    kept.push(...keptIndices(series.length).map((i) => series[i]!));
  }
  return { rows: kept, largest };
}

/** Readings and forecasts as lines over time, a red rule where each alert started. */
export function replaySeriesSpec(d: ReplayChartData): TopLevelSpec {
  const { rows, largest } = thinnedBySeries([...d.readings, ...d.forecasts]);
  const x = { field: 'time', type: 'quantitative' as const, title: d.timeField };
  return {
    $schema: SCHEMA,
    title: `Readings and the app's forecasts, ${d.alerts.length} alert${d.alerts.length === 1 ? '' : 's'} marked${thinnedText(largest)}`,
    width: WIDTH,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', strokeWidth: 1.2 },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: 'reading', scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      {
        data: { values: d.alerts },
        mark: { type: 'rule', color: '#d62728', strokeWidth: 1 },
        encoding: { x },
      },
    ],
  };
}

/** The score at each sample that had one, and the alert threshold. */
export function replayScoreSpec(d: ReplayChartData): TopLevelSpec {
  const kept = keptIndices(d.scores.length).map((i) => d.scores[i]!);
  const x = { field: 'time', type: 'quantitative' as const, title: d.timeField };
  return {
    $schema: SCHEMA,
    title: `The app's score${d.alertAbove !== undefined ? `, alert above ${d.alertAbove}` : ''}${thinnedText(d.scores.length)}`,
    width: WIDTH,
    height: 160,
    layer: [
      {
        data: { values: kept },
        mark: { type: 'line', strokeWidth: 1 },
        encoding: { x, y: { field: 'score', type: 'quantitative', title: 'score' } },
      },
      ...(d.alertAbove !== undefined
        ? [
            {
              data: { values: [{ threshold: d.alertAbove }] },
              mark: { type: 'rule' as const, color: '#d62728', strokeDash: [4, 3] },
              encoding: { y: { field: 'threshold', type: 'quantitative' as const } },
            },
          ]
        : []),
    ],
  };
}

/** The replay's section: both charts, or why there is nothing to draw. */
export function replaySection(d: ReplayChartData): SectionView | SectionMissing {
  const title = 'The app over the recording';
  if (d.readings.length === 0) return { title, missing: 'the recording holds no good reading' };
  return {
    title,
    charts: [replaySeriesSpec(d), ...(d.scores.length > 0 ? [replayScoreSpec(d)] : [])],
    notes: ['What the bundled app computed on the engine, sample by sample: each forecast at the time it is for.'],
  };
}

/** The replay page: the command's lines, then the section. */
export function replayPage(d: ReplayChartData, lines: string[]): Promise<string> {
  return pageHtml('lstm-mcu replay', lines, [replaySection(d)]);
}
