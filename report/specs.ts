/**
 * The Vega-Lite specs of the report's charts, one function per chart, from
 * the gathered data (gather.ts, gather-device.ts). The data goes inline
 * (`data.values`): the page loads nothing.
 */
import type { TopLevelSpec } from 'vega-lite';
import { thinnedText } from './downsample.ts';
import type { ConfusionData, ForecastData, LossData } from './gather.ts';
import type { ErrorData, MemoryData, RangeData } from './gather-device.ts';

/** Width of a chart's plot area, in pixels. */
export const WIDTH = 720;
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const fmtCount = (n: number) => n.toLocaleString('en-US');

export function lossSpec(d: LossData): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: `Loss per epoch (epoch ${d.kept} kept: the best validation loss)`,
    width: WIDTH,
    height: 220,
    layer: [
      {
        data: { values: d.rows },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } },
          color: { field: 'split', type: 'nominal', title: null },
        },
      },
      {
        data: { values: [{ epoch: d.kept }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { x: { field: 'epoch', type: 'quantitative' } },
      },
    ],
  };
}

/** The whole streamed test series (thinned), or with `closeUp` the first points of the first series. */
export function forecastSpec(d: ForecastData, closeUp = false): TopLevelSpec {
  const title = closeUp
    ? `${d.target}, a closer look: the first ${d.closeUp.length / d.lines.length} points of the first series, every one`
    : `${d.target}: the test series streamed as the device runs them${thinnedText(d.points)}`;
  return {
    $schema: SCHEMA,
    title,
    width: WIDTH,
    height: 260,
    data: { values: closeUp ? d.closeUp : d.rows },
    mark: { type: 'line', strokeWidth: 1.2 },
    encoding: {
      x: { field: 'point', type: 'quantitative', title: closeUp ? 'scored point' : `scored point (${d.series} series one after another)` },
      y: { field: 'value', type: 'quantitative', title: d.target, scale: { zero: false } },
      color: { field: 'line', type: 'nominal', title: null, sort: d.lines, scale: { domain: d.lines }, legend: { labelLimit: 320 } },
      strokeDash: {
        condition: { test: `indexof(${JSON.stringify(d.lines.slice(0, 3))}, datum.line) < 0`, value: [4, 3] },
        value: [1, 0],
      },
    },
  };
}

export function confusionSpec(d: ConfusionData, m: ConfusionData['matrices'][number]): TopLevelSpec {
  const side = Math.min(420, 36 * d.classes.length + 40);
  return {
    $schema: SCHEMA,
    title: `${m.model}: accuracy ${(100 * m.accuracy).toFixed(2)}% on the ${d.on} (rows true, columns predicted)`,
    width: side,
    height: side,
    data: { values: m.cells },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: d.classes },
      y: { field: 'truth', type: 'ordinal', sort: d.classes },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' } } } },
      { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'count', type: 'quantitative' } } },
    ],
  };
}

export function errorLineSpec(d: ErrorData): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: `int8 − float of each output on the test windows, in ${d.unit}${thinnedText(d.count)}`,
    width: WIDTH,
    height: 200,
    data: { values: d.rows },
    mark: { type: 'line', strokeWidth: 1 },
    encoding: {
      x: { field: 'index', type: 'quantitative', title: 'test window' },
      y: { field: 'error', type: 'quantitative', title: `int8 − float (${d.unit})` },
      color: { field: 'output', type: 'nominal', title: null, sort: d.outputs },
    },
  };
}

/** Each output's largest |error| when there are a few, else the largest of all. */
function largestText(d: ErrorData): string {
  if (d.outputs.length <= 4)
    return d.maxAbs.map((v, k) => `${d.outputs.length > 1 ? `${d.outputs[k]} ` : ''}${v.toPrecision(3)}`).join(', ');
  return `${Math.max(...d.maxAbs).toPrecision(3)} over all`;
}

export function errorHistogramSpec(d: ErrorData): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: `Distribution of int8 − float: all ${fmtCount(d.count)} values of each output (largest |error| ${largestText(d)})`,
    width: WIDTH,
    height: 200,
    data: { values: d.histogram },
    mark: { type: 'rect', opacity: 0.6 },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: `int8 − float (${d.unit})` },
      x2: { field: 'end' },
      y: { field: 'count', type: 'quantitative' },
      y2: { datum: 0 },
      color: { field: 'output', type: 'nominal', title: null, sort: d.outputs },
    },
  };
}

export function rangeSpec(d: RangeData): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: 'Float range of each tensor on the calibration windows (what the int8 scales cover)',
    width: WIDTH - 160,
    height: { step: 16 },
    data: { values: d.rows },
    mark: 'bar',
    encoding: {
      y: { field: 'name', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
      x: { field: 'min', type: 'quantitative', title: 'float value' },
      x2: { field: 'max' },
      color: { field: 'group', type: 'nominal', title: null },
      tooltip: [{ field: 'min' }, { field: 'max' }],
    },
  };
}

export function memorySpec(d: MemoryData): TopLevelSpec {
  const b = d.budget;
  const rows = b.placements.flatMap((p) => [
    ...[
      { part: 'data and state', value: p.data },
      { part: 'code', value: p.code },
      { part: 'info', value: p.info },
    ].map((x) => ({ bar: `${p.weights}: loaded`, ...x })),
    { bar: `${p.weights}: while loading (${p.fits ? 'fits' : 'does not fit'})`, part: 'while loading', value: p.peak },
  ]);
  const limits = [
    { x: b.budget, label: `the model may use ${fmtCount(b.budget)}` },
    { x: b.budget + b.appReserve, label: `${b.board.name}: ${fmtCount(b.budget + b.appReserve)}` },
  ];
  return {
    $schema: SCHEMA,
    title: `${b.board.name}: the model's need in ${b.unit} against the board (${fmtCount(b.appReserve)} kept for the app)`,
    width: WIDTH - 160,
    height: { step: 28 },
    layer: [
      {
        data: { values: rows },
        mark: 'bar',
        encoding: {
          y: { field: 'bar', type: 'nominal', title: 'weights in', sort: null, axis: { labelLimit: 320 } },
          x: { field: 'value', type: 'quantitative', title: b.unit, stack: 'zero' },
          color: { field: 'part', type: 'nominal', title: null },
        },
      },
      {
        data: { values: limits },
        layer: [
          { mark: { type: 'rule', color: 'firebrick', strokeDash: [4, 3] }, encoding: { x: { field: 'x', type: 'quantitative' } } },
          {
            mark: { type: 'text', align: 'left', dx: 3, dy: -4, baseline: 'bottom', color: 'firebrick' },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
          },
        ],
      },
    ],
  };
}

export function bytesSpec(d: MemoryData): TopLevelSpec {
  const weights = d.bytes.find((b) => b.part === 'weights')!.bytes;
  return {
    $schema: SCHEMA,
    title: `The model's arrays in bytes: ${fmtCount(weights)} B of int8 weights`,
    width: WIDTH - 160,
    height: { step: 24 },
    data: { values: d.bytes },
    mark: 'bar',
    encoding: {
      y: { field: 'part', type: 'nominal', title: null, sort: null },
      x: { field: 'bytes', type: 'quantitative', title: 'bytes' },
    },
  };
}
