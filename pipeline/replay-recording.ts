/**
 * A recording to replay: a CSV with one column per model input (by default
 * named as the model's features, as `train` read them) and, when it has one,
 * a time column. Each row is one sample, in file order.
 */
import { UserError } from '../core/errors.ts';
import type { QuantizedModel } from '../core/model.ts';
import type { ProgressLine } from '../core/progress-line.ts';
import { csvHeader } from '../data/csv-header.ts';
import { quote, readCsvColumns, type Delimiter, type MissingPolicy } from '../data/csv.ts';

/** The time column replay looks for when none is named: milliseconds, as `record` writes them. */
export const DEFAULT_TIME_COLUMN = 'time';

export interface RecordingOptions {
  /** The recording's columns that feed the model's inputs, in feature order (default: the feature names). */
  columns?: string[];
  /** The time column; default DEFAULT_TIME_COLUMN when the file has one, else the sample index is the time. */
  timeColumn?: string;
  delimiter?: Delimiter;
  missing?: MissingPolicy;
  progress?: ProgressLine;
}

export interface Recording {
  path: string;
  sha256: string;
  /** The columns read as the model's inputs, in feature order. */
  columns: string[];
  /** One row per sample: the readings in feature order (NaN where the cell was missing). */
  rows: Float64Array[];
  /** The time column and its value per sample; without one, the times are the sample indexes. */
  time?: { column: string; values: Float64Array };
}

/** The columns that feed the model, checked against its inputs and the file's header before a row is read. */
function inputColumns(path: string, header: string[], q: QuantizedModel, given: string[] | undefined, skipped: string[]): string[] {
  const features = q.featureNames;
  const reads = `the model reads ${features.length} feature${features.length === 1 ? '' : 's'} (${features.join(', ')})`;
  const columns = given ?? features;
  if (columns.length !== features.length)
    throw new UserError(`--columns names ${columns.length} column${columns.length === 1 ? '' : 's'}, but ${reads}`);
  const missing = columns.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    const data = header.filter((h) => !skipped.includes(h));
    const others = `${data.length} column${data.length === 1 ? '' : 's'}${skipped.length ? ` besides ${skipped.join(', ')}` : ''} (${data.join(', ') || 'none'})`;
    throw new UserError(
      `${path}: no column ${missing.map(quote).join(', ')}: ${reads} and the file has ${others}${given ? '' : '; name the columns to read with --columns'}`,
    );
  }
  return columns;
}

export async function readRecording(path: string, q: QuantizedModel, o: RecordingOptions = {}): Promise<Recording> {
  const header = csvHeader(path, o.delimiter);
  if (o.timeColumn !== undefined && !header.includes(o.timeColumn))
    throw new UserError(`--time-column ${quote(o.timeColumn)}: ${path} has no such column (it has ${header.join(', ')})`);
  const timeColumn = o.timeColumn ?? (header.includes(DEFAULT_TIME_COLUMN) ? DEFAULT_TIME_COLUMN : undefined);
  const columns = inputColumns(path, header, q, o.columns, timeColumn ? [timeColumn] : []);
  if (timeColumn !== undefined && columns.includes(timeColumn))
    throw new UserError(`${quote(timeColumn)} is both the time column and a model input: name another with --time-column`);
  const table = await readCsvColumns(path, timeColumn ? [...columns, timeColumn] : columns, {
    missing: o.missing ?? 'keep',
    ...(o.delimiter ? { delimiter: o.delimiter } : {}),
    ...(o.progress ? { progress: o.progress } : {}),
  });
  const rows = Array.from({ length: table.rows }, (_, t) => Float64Array.from(columns, (c) => table.columns[c]![t]!));
  return {
    path,
    sha256: table.sha256,
    columns,
    rows,
    ...(timeColumn !== undefined ? { time: { column: timeColumn, values: table.columns[timeColumn]! } } : {}),
  };
}
