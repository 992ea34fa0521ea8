/**
 * Turns a CSV table into windowed train / validation / test sets, split by
 * time without leakage, normalized with training-range statistics only.
 *
 * A window ending at row t covers feature rows t-W+1..t and predicts the
 * target (label) at row t+H. Within each series (group), rows are cut into
 * contiguous ranges [0,a) train, [a,b) validation, [b,n) test; a window
 * belongs to a split only if all its rows and its target row are inside that
 * split's range. Windows never cross a change of the group column.
 */
import { UserError } from '../core/errors.ts';
import type { Normalization, SequencePattern, TargetMode, Task } from '../core/model.ts';
import { quote, type CsvTable } from './csv.ts';
import { checkFiniteStats, checkNormalizedRange } from './value-range.ts';
import { rowWindows, type Windows } from './window-set.ts';
import { phaseTick } from '../core/progress-line.ts';

export interface SplitFractions {
  train: number;
  validation: number;
}

export interface DatasetSpec {
  features: string[];
  /**
   * Normalization the model was trained with elsewhere (an imported model):
   * used instead of the statistics of the training rows. Regression output
   * statistics only; a classifier has none.
   */
  normalization?: { input?: Normalization; output?: Normalization };
  task: Task;
  /** Regression: target columns. */
  targets?: string[];
  /** Classification: integer-valued label column. */
  label?: string;
  /** Optional series-id column; windows never cross a change in it. */
  group?: string;
  window: number;
  horizon: number;
  /** Fractions of each series; test gets the rest. Default 0.7 / 0.15. */
  split?: SplitFractions;
  /**
   * Regression: 'level' predicts target[t+H]; 'change' predicts
   * target[t+H] - target[t] (each target must also be a feature, so the
   * device can add the prediction to the reading it was given). Default 'level'.
   */
  targetMode?: TargetMode;
  /**
   * 'many-to-one' (default): one target per window, for its last row.
   * 'many-to-many': a target for every row r of the window (row r + horizon),
   * so y and rawTargets hold [n][window][...]. 'one-to-many' trains as
   * many-to-one (the device then feeds its forecasts back).
   */
  sequence?: SequencePattern;
  /** The seasonal baseline's period, carried to the Dataset (0: none; absent: found by autocorrelation). */
  season?: number;
}

export interface Split {
  /** The input windows, [n][window][features] normalized: each a view of the rows it covers. */
  x: Windows;
  /** Regression: [n][targets] normalized. Classification: [n] class index. Many-to-many: [n][window][...]. */
  y: Float32Array;
  n: number;
  /** Regression: [n][targets] in original units. Classification: [n] label values. Many-to-many: [n][window][...]. */
  rawTargets: Float64Array;
  /** Table row index of each window's last row (t); the target is at t + horizon. */
  endRows: Uint32Array;
}

/** One contiguous series (a run of equal group values) and its split cut points. */
export interface Segment {
  /** Group value, or NaN when no group column was given. */
  group: number;
  /** Table rows [start, end). */
  start: number;
  end: number;
  /** Absolute row indices: train [start, trainEnd), validation [trainEnd, validationEnd), test [validationEnd, end). */
  trainEnd: number;
  validationEnd: number;
}

/**
 * One series as the device would read it: the raw readings and targets of
 * every row of a segment, for streaming a split's rows from its start
 * (evaluation, baselines, streamed calibration).
 */
export interface Series {
  segment: Segment;
  /** Raw feature readings of rows [segment.start, segment.end), [rows][features]. */
  x: Float64Array;
  /** Raw targets of the same rows, [rows][targets] (classification: the label value, [rows]). */
  y: Float64Array;
}

/** Absolute row range [lo, hi) of a split in a segment. */
export function splitRange(s: Segment, name: SplitName): [number, number] {
  if (name === 'train') return [s.start, s.trainEnd];
  if (name === 'validation') return [s.trainEnd, s.validationEnd];
  return [s.validationEnd, s.end];
}

export interface Dataset {
  task: Task;
  train: Split;
  validation: Split;
  test: Split;
  inputNorm: Normalization;
  /** Regression: per-target statistics. Classification: empty arrays. */
  outputNorm: Normalization;
  /** Classification: label value of each class index (sorted). Regression: []. */
  classLabels: number[];
  /** Classification on a text label column: the text of each class index (classLabels then hold its codes). */
  classNames?: string[];
  featureNames: string[];
  /** Regression: target names. Classification: [label]. */
  targetNames: string[];
  window: number;
  horizon: number;
  segments: Segment[];
  /** Raw rows of each segment (absent for built-in sets that are not series: MNIST, text). */
  series?: Series[];
  /** As DatasetSpec.season. */
  season?: number;
  /** Regression: what `y` holds (see DatasetSpec.targetMode). */
  targetMode: TargetMode;
  /** 'change' mode: the feature index each target is added to. Otherwise []. */
  baseFeatures: number[];
  /** Targets per window: the last row's, or every row's (see DatasetSpec.sequence). */
  sequence: SequencePattern;
  /**
   * Token data (an embedding model's input): x holds token ids, one feature
   * ("token"), 0 for padding; ids are below `size`; `unknownToken` stands for
   * any token outside the vocabulary; `tokens` names each id.
   */
  vocabulary?: { size: number; unknownToken: number; tokens: string[] };
}

/** Target rows per window: 1, or the window (many-to-many). */
export const targetSteps = (ds: Pick<Dataset, 'sequence' | 'window'>): number => (ds.sequence === 'many-to-many' ? ds.window : 1);

export const DEFAULT_SPLIT: SplitFractions = { train: 0.7, validation: 0.15 };

export type SplitName = 'train' | 'validation' | 'test';
const SPLITS: SplitName[] = ['train', 'validation', 'test'];

function where(table: CsvTable, row: number): string {
  const line = table.lines?.[row];
  return line ? `${table.path}:${line}` : `${table.path}: row ${row + 1}`;
}

function column(table: CsvTable, name: string, role: string): Float64Array {
  const c = table.columns[name];
  if (!c) {
    throw new UserError(
      `${table.path}: ${role} column '${name}' was not loaded (loaded: ${Object.keys(table.columns)
        .map((k) => `'${k}'`)
        .join(', ')})`,
    );
  }
  return c;
}

/** Cut points of one series of `n` rows: [0,a) train, [a,b) validation, [b,n) test. */
export function cutPoints(n: number, split: SplitFractions): { a: number; b: number } {
  const a = Math.floor(n * split.train);
  const b = Math.floor(n * (split.train + split.validation));
  return { a, b };
}

function checkSpec(spec: DatasetSpec): SplitFractions {
  const split = spec.split ?? DEFAULT_SPLIT;
  if (!Number.isInteger(spec.window) || spec.window < 1) throw new UserError(`window must be an integer >= 1, got ${spec.window}`);
  const minH = spec.task === 'regression' ? 1 : 0;
  if (!Number.isInteger(spec.horizon) || spec.horizon < minH) {
    throw new UserError(`horizon must be an integer >= ${minH} for ${spec.task}, got ${spec.horizon}`);
  }
  if (spec.features.length === 0) throw new UserError('no feature columns given');
  if (new Set(spec.features).size !== spec.features.length) throw new UserError(`feature columns repeat: ${spec.features.join(', ')}`);
  if (spec.task === 'regression') {
    if (!spec.targets || spec.targets.length === 0) throw new UserError('regression needs at least one target column');
    if (new Set(spec.targets).size !== spec.targets.length) throw new UserError(`target columns repeat: ${spec.targets.join(', ')}`);
  } else if (!spec.label) {
    throw new UserError('classification needs a label column');
  }
  if ((spec.targetMode ?? 'level') === 'change') {
    if (spec.task !== 'regression') throw new UserError('target mode "change" is for regression (forecasting) only');
    const missing = spec.targets!.filter((t) => !spec.features.includes(t));
    if (missing.length) {
      throw new UserError(
        `target mode "change" adds the forecast change to the current reading, so each target must also be a feature: add ${missing.join(', ')} to the features`,
      );
    }
  }
  const { train, validation } = split;
  if (!(train > 0 && validation > 0 && train + validation < 1)) {
    throw new UserError(
      `split fractions must be > 0 and leave room for a test set (train + validation < 1), got train ${train}, validation ${validation}`,
    );
  }
  return split;
}

function findSegments(table: CsvTable, group: Float64Array | undefined, split: SplitFractions): Segment[] {
  const segments: Segment[] = [];
  const push = (start: number, end: number, g: number): void => {
    const { a, b } = cutPoints(end - start, split);
    segments.push({ group: g, start, end, trainEnd: start + a, validationEnd: start + b });
  };
  if (!group) {
    push(0, table.rows, NaN);
    return segments;
  }
  let start = 0;
  for (let r = 1; r <= table.rows; r++) {
    if (r === table.rows || group[r] !== group[start]) {
      push(start, r, group[start]!);
      start = r;
    }
  }
  return segments;
}

/** Window end rows t of one range [lo, hi): t-W+1 >= lo and t+H < hi. */
function endRowsIn(lo: number, hi: number, window: number, horizon: number): number[] {
  const out: number[] = [];
  for (let t = lo + window - 1; t + horizon < hi; t++) out.push(t);
  return out;
}

/** Smallest series length whose three ranges each hold at least `need` rows. */
function rowsNeeded(need: number, split: SplitFractions): number {
  for (let n = need; n < 1e9; n++) {
    const { a, b } = cutPoints(n, split);
    if (a >= need && b - a >= need && n - b >= need) return n;
  }
  return Infinity;
}

/** Mean and population std over the given row ranges; throws if the column is constant there. */
function stats(table: CsvTable, name: string, values: Float64Array, ranges: [number, number][]): { mean: number; std: number } {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const [lo, hi] of ranges) {
    for (let r = lo; r < hi; r++) {
      const v = values[r]!;
      sum += v;
      count++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const mean = sum / count;
  if (min === max) {
    throw new UserError(
      `${table.path}: column '${name}' is constant (${min}) in the training rows, so it cannot be normalized; leave it out`,
    );
  }
  let ss = 0;
  for (const [lo, hi] of ranges) {
    for (let r = lo; r < hi; r++) {
      const d = values[r]! - mean;
      ss += d * d;
    }
  }
  const result = { mean, std: Math.sqrt(ss / count) };
  checkFiniteStats(result, `column ${quote(name)}`, values, ranges, (row) => where(table, row));
  return result;
}

/** The columns of a spec, read once: what every part of buildDataset works on. */
interface Columns {
  table: CsvTable;
  spec: DatasetSpec;
  split: SplitFractions;
  classification: boolean;
  changeMode: boolean;
  featureNames: string[];
  targetNames: string[];
  feats: Float64Array[];
  targs: Float64Array[];
  group?: Float64Array;
  /** Rows (relative to the window's last row t) whose targets a window holds: t, or every row of the window. */
  targetOffsets: number[];
}

function columnsOf(table: CsvTable, spec: DatasetSpec): Columns {
  const split = checkSpec(spec);
  const W = spec.window;
  const classification = spec.task === 'classification';
  const featureNames = [...spec.features];
  const targetNames = classification ? [spec.label!] : [...spec.targets!];
  return {
    table,
    spec,
    split,
    classification,
    changeMode: !classification && spec.targetMode === 'change',
    featureNames,
    targetNames,
    feats: featureNames.map((f) => column(table, f, 'feature')),
    targs: targetNames.map((t) => column(table, t, classification ? 'label' : 'target')),
    ...(spec.group ? { group: column(table, spec.group, 'group') } : {}),
    targetOffsets: (spec.sequence ?? 'many-to-one') === 'many-to-many' ? Array.from({ length: W }, (_, s) => s - W + 1) : [0],
  };
}

/** Window end rows per split, over all series; a split without a window is an error that says how many rows it needs. */
function windowEnds(c: Columns, segments: Segment[]): Record<SplitName, number[]> {
  const { table, spec, split } = c;
  const W = spec.window;
  const H = spec.horizon;
  const ends: Record<SplitName, number[]> = { train: [], validation: [], test: [] };
  for (const s of segments) {
    for (const name of SPLITS) {
      const [lo, hi] = splitRange(s, name);
      for (const t of endRowsIn(lo, hi, W, H)) ends[name].push(t);
    }
  }
  for (const name of SPLITS) {
    if (ends[name].length > 0) continue;
    const need = W + H;
    const needed = rowsNeeded(need, split);
    const longest = Math.max(...segments.map((s) => s.end - s.start));
    const series = c.group ? `the longest series (by '${spec.group}') has` : 'the data has';
    throw new UserError(
      `${table.path}: too few rows for one ${name} window: window ${W} + horizon ${H} needs ${need} consecutive rows inside the ${name} range; ` +
        `${series} ${longest} rows, at least ${needed} are needed with split ${split.train}/${split.validation}/${+(1 - split.train - split.validation).toFixed(6)}`,
    );
  }
  return ends;
}

/** A mean and a positive std for each of `names`, or an error naming what the normalization is of. */
function checkNormalization(n: Normalization, names: string[], what: string): Normalization {
  if (n.mean.length !== names.length || n.std.length !== names.length || n.std.some((v) => !(v > 0))) {
    throw new UserError(
      `the ${what} normalization needs a mean and a positive std for each of the ${names.length} ${what === 'input' ? 'features' : 'targets'} (${names.join(', ')})`,
    );
  }
  return n;
}

/** Input statistics of the training rows only, unless the spec gives its own. */
function inputNormalization(c: Columns, trainRanges: [number, number][]): Normalization {
  const given = c.spec.normalization?.input;
  if (given) return checkNormalization(given, c.featureNames, 'input');
  const inStats = c.featureNames.map((f, i) => stats(c.table, f, c.feats[i]!, trainRanges));
  return checkNormalization({ mean: inStats.map((s) => s.mean), std: inStats.map((s) => s.std) }, c.featureNames, 'input');
}

/**
 * The class labels of the training windows (sorted), each an integer (a text
 * label's code); a label of a validation or test window unseen in training is
 * an error.
 */
function classLabelsOf(c: Columns, ends: Record<SplitName, number[]>, names: string[] | undefined): number[] {
  const { table, spec, targetOffsets } = c;
  const H = spec.horizon;
  const labelText = (v: number) => (names ? JSON.stringify(names[v]) : String(v));
  const labels = c.targs[0]!;
  const seen = new Set<number>();
  for (const name of SPLITS) {
    for (const end of ends[name]) {
      for (const o of targetOffsets) {
        const t = end + o;
        const v = labels[t + H]!;
        if (!Number.isInteger(v)) {
          throw new UserError(`${where(table, t + H)}: label column '${spec.label}': ${v} is not an integer class label`);
        }
        if (name === 'train') seen.add(v);
      }
    }
  }
  const classLabels = [...seen].sort((p, q) => p - q);
  if (classLabels.length < 2) {
    throw new UserError(
      `${table.path}: label column '${spec.label}' has only one class (${labelText(classLabels[0]!)}) in the training windows; classification needs at least two`,
    );
  }
  for (const name of ['validation', 'test'] as const) {
    for (const t of ends[name].flatMap((end) => targetOffsets.map((o) => end + o))) {
      const v = labels[t + H]!;
      if (!seen.has(v)) {
        throw new UserError(
          `${where(table, t + H)}: label ${labelText(v)} (column '${spec.label}') appears in the ${name} windows but never in the training windows (training classes: ${classLabels.map(labelText).join(', ')})`,
        );
      }
    }
  }
  return classLabels;
}

/** Regression targets' statistics: of target[t+H] − target[t] over the training windows ('change'), else of the training rows; or the spec's own. */
function outputNormalization(c: Columns, ends: Record<SplitName, number[]>, trainRanges: [number, number][]): Normalization {
  const given = c.spec.normalization?.output;
  if (given) return checkNormalization(given, c.targetNames, 'output');
  const H = c.spec.horizon;
  if (!c.changeMode) {
    const outStats = c.targetNames.map((t, i) => stats(c.table, t, c.targs[i]!, trainRanges));
    return { mean: outStats.map((s) => s.mean), std: outStats.map((s) => s.std) };
  }
  const outputNorm: Normalization = { mean: [], std: [] };
  c.targetNames.forEach((name, j) => {
    const d = ends.train.map((t) => c.targs[j]![t + H]! - c.targs[j]![t]!);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) * (b - mean), 0) / d.length);
    const change = `column ${quote(name)} (its change over ${H} step(s))`;
    checkFiniteStats({ mean, std }, change, d, [[0, d.length]], (k) => where(c.table, ends.train[k]! + H));
    if (!(std > 0))
      throw new UserError(
        `${c.table.path}: target '${name}' never changes over ${H} step(s) in the training windows; target mode "change" cannot be normalized`,
      );
    outputNorm.mean.push(mean);
    outputNorm.std.push(std);
  });
  return outputNorm;
}

/** Every row's features, normalized ([rows][features]): what the windows of all three splits are views of. */
function normalizedRows(c: Columns, inputNorm: Normalization): Float32Array {
  const F = c.featureNames.length;
  const rows = new Float32Array(c.table.rows * F);
  for (let f = 0; f < F; f++) {
    const values = c.feats[f]!;
    const mean = inputNorm.mean[f]!;
    const std = inputNorm.std[f]!;
    for (let r = 0; r < c.table.rows; r++) rows[r * F + f] = (values[r]! - mean) / std;
  }
  return rows;
}

/** The windows ending at `rowsEnd` (views of `rows`) and their targets (normalized, and raw). */
function makeSplit(c: Columns, rows: Float32Array, rowsEnd: number[], outputNorm: Normalization, classLabels: number[]): Split {
  const { targs, targetOffsets, classification, changeMode } = c;
  const H = c.spec.horizon;
  const T = c.targetNames.length;
  const classIndex = new Map(classLabels.map((v, i) => [v, i]));
  const n = rowsEnd.length;
  const S = targetOffsets.length;
  const y = new Float32Array((classification ? n : n * T) * S);
  const rawTargets = new Float64Array((classification ? n : n * T) * S);
  const endRows = Uint32Array.from(rowsEnd);
  for (let k = 0; k < n; k++) {
    if ((k & 1023) === 0) phaseTick(k, n, 'windows');
    const t = rowsEnd[k]!;
    targetOffsets.forEach((o, s) => {
      const r = t + o; // the row whose target this is (its target row is r + H)
      const row = k * S + s;
      if (classification) {
        const v = targs[0]![r + H]!;
        rawTargets[row] = v;
        y[row] = classIndex.get(v)!;
      } else {
        for (let j = 0; j < T; j++) {
          const v = targs[j]![r + H]!;
          rawTargets[row * T + j] = v;
          const value = changeMode ? v - targs[j]![r]! : v;
          y[row * T + j] = (value - outputNorm.mean[j]!) / outputNorm.std[j]!;
        }
      }
    });
  }
  return { x: rowWindows(rows, endRows, c.spec.window, c.featureNames.length), y, n, rawTargets, endRows };
}

/** Every normalized input row within what the float32 trainer holds (see value-range.ts). */
function checkTrainableRows(c: Columns, rows: Float32Array, inputNorm: Normalization): void {
  const F = c.featureNames.length;
  checkNormalizedRange(
    rows,
    (i) => {
      const f = i % F;
      const row = Math.floor(i / F);
      const what = `column ${quote(c.featureNames[f]!)}`;
      return { row, what, value: c.feats[f]![row]!, mean: inputNorm.mean[f]!, std: inputNorm.std[f]! };
    },
    (row) => where(c.table, row),
  );
}

/** Each normalized target of a split within what the float32 trainer holds (see value-range.ts). */
function checkTrainableTargets(c: Columns, split: Split, outputNorm: Normalization): void {
  if (c.classification) return;
  const H = c.spec.horizon;
  const T = c.targetNames.length;
  const S = c.targetOffsets.length;
  // y is [n][S][targets]: element i is target i % T of the row endRows[k] + targetOffsets[s] (its target row + H).
  checkNormalizedRange(
    split.y,
    (i) => {
      const j = i % T;
      const r = split.endRows[Math.floor(i / (S * T))]! + c.targetOffsets[Math.floor(i / T) % S]!;
      const value = c.changeMode ? c.targs[j]![r + H]! - c.targs[j]![r]! : c.targs[j]![r + H]!;
      const what = `column ${quote(c.targetNames[j]!)}${c.changeMode ? ` (its change over ${H} step(s))` : ''}`;
      return { row: r + H, what, value, mean: outputNorm.mean[j]!, std: outputNorm.std[j]! };
    },
    (row) => where(c.table, row),
  );
}

/** The raw rows of each segment, as the device would read them. */
function seriesOf(c: Columns, segments: Segment[]): Series[] {
  const F = c.featureNames.length;
  const T = c.targetNames.length;
  return segments.map((segment) => {
    const rows = segment.end - segment.start;
    const x = new Float64Array(rows * F);
    const y = new Float64Array(rows * T);
    for (let r = 0; r < rows; r++) {
      for (let f = 0; f < F; f++) x[r * F + f] = c.feats[f]![segment.start + r]!;
      for (let j = 0; j < T; j++) y[r * T + j] = c.targs[j]![segment.start + r]!;
    }
    return { segment, x, y };
  });
}

export function buildDataset(table: CsvTable, spec: DatasetSpec): Dataset {
  const c = columnsOf(table, spec);
  const segments = findSegments(table, c.group, c.split);
  const ends = windowEnds(c, segments);
  // Normalization from the training ranges only.
  const trainRanges = segments.map((s) => splitRange(s, 'train'));
  const inputNorm = inputNormalization(c, trainRanges);
  const names = c.classification ? table.categories?.[spec.label!] : undefined;
  const classLabels = c.classification ? classLabelsOf(c, ends, names) : [];
  const outputNorm = c.classification ? { mean: [], std: [] } : outputNormalization(c, ends, trainRanges);
  const rows = normalizedRows(c, inputNorm);
  checkTrainableRows(c, rows, inputNorm);
  const make = (rowsEnd: number[]) => {
    const split = makeSplit(c, rows, rowsEnd, outputNorm, classLabels);
    checkTrainableTargets(c, split, outputNorm);
    return split;
  };
  return {
    task: spec.task,
    series: seriesOf(c, segments),
    train: make(ends.train),
    validation: make(ends.validation),
    test: make(ends.test),
    inputNorm,
    outputNorm,
    classLabels,
    ...(names ? { classNames: classLabels.map((code) => names[code]!) } : {}),
    featureNames: c.featureNames,
    targetNames: c.targetNames,
    window: spec.window,
    horizon: spec.horizon,
    segments,
    targetMode: c.changeMode ? 'change' : 'level',
    baseFeatures: c.changeMode ? c.targetNames.map((t) => c.featureNames.indexOf(t)) : [],
    sequence: spec.sequence ?? 'many-to-one',
    ...(spec.season !== undefined ? { season: spec.season } : {}),
  };
}
