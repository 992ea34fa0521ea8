/**
 * Options that choose the data and the training run, shared by `train`
 * and `demo`.
 */
import { MAX_HORIZON, MAX_WINDOW } from '../core/artifact-validation.ts';
import { Command, Option } from 'commander';
import { choiceOption, delimiterOption, floatOption, intOption, listOption, splitOption } from './common.ts';
import type { TrainStepOptions } from '../pipeline/train.ts';
import { DEPLOY_CHOICES } from '../pipeline/quantize.ts';
import { UserError } from '../core/errors.ts';
import { addClockOptions, clockPeriodsOf } from './clock-options.ts';
import type { BackendPref } from '../trainer/backend.ts';
import { RECURRENT_KERNELS, clockworkRefusal, type RecurrentKernel } from '../trainer/train.ts';
import type { Delimiter, MissingPolicy } from '../data/csv.ts';
import {
  CELLS,
  hasClock,
  CELL_KINDS,
  HEAD_ACTIVATIONS,
  MERGE_MODES,
  SEQUENCE_PATTERNS,
  type CellKind,
  type HeadActivation,
  type MergeMode,
  type SequencePattern,
  type TargetMode,
} from '../core/model.ts';

export interface TrainingDefaults {
  data?: string;
  /** How --help names the default data. */
  dataDescription?: string;
  features?: string[];
  target?: string[];
  group?: string;
  /** 'auto' (training): change when every target is a feature, level otherwise. */
  targetMode: TargetMode | 'auto';
  window: number;
  horizon: number;
  units: number;
  epochs: number;
  batchSize: number;
}

export function addDataOptions(cmd: Command, d: Partial<TrainingDefaults> = {}): Command {
  return cmd
    .addOption(new Option('--data <csv>', 'numeric CSV time series with a header row').default(d.data, d.dataDescription ?? d.data))
    .addOption(
      new Option('--features <names>', 'comma-separated input columns').argParser(listOption).default(d.features, d.features?.join(',')),
    )
    .addOption(
      new Option('--target <names>', 'regression: comma-separated target columns')
        .argParser(listOption)
        .default(d.target, d.target?.join(',')),
    )
    .addOption(new Option('--label <name>', 'classification: label column, integers or text (instead of --target)'))
    .addOption(
      d.targetMode === 'auto'
        ? new Option(
            '--target-mode <mode>',
            'regression: forecast the level of the target, or its change from the current reading (the target must then be a feature); auto: change when every target is a feature, level otherwise',
          )
            .argParser(choiceOption<TargetMode | 'auto'>(['auto', 'level', 'change']))
            .default('auto')
        : new Option(
            '--target-mode <mode>',
            'regression: the model forecasts the level of the target, or its change from the current reading (the target must then be a feature)',
          )
            .argParser(choiceOption<TargetMode>(['level', 'change']))
            .default(d.targetMode ?? 'level'),
    )
    .addOption(
      new Option(
        '--group <name>',
        `series id column: windows never cross a change in it; without it the CSV is one series${d.group ? ` (default: ${d.group} for ${d.dataDescription ?? 'the default data'})` : ''}`,
      ),
    )
    .addOption(new Option('--window <steps>', 'time steps per window').argParser(intOption(1, MAX_WINDOW)).default(d.window ?? 24))
    .addOption(
      new Option('--horizon <steps>', 'predict the target this many steps after the window (0: the last step, classification only)')
        .argParser(intOption(0, MAX_HORIZON))
        .default(d.horizon ?? 1),
    )
    .addOption(
      new Option('--split <train,validation>', 'fractions of each series by time; test gets the rest')
        .argParser(splitOption)
        .default({ train: 0.7, validation: 0.15 }, '0.7,0.15'),
    )
    .addOption(
      new Option(
        '--interval <ms>',
        'milliseconds between rows: the sampling period the device must keep (recorded in the model; bundle samples at it by default)',
      ).argParser(intOption(1, 2 ** 31 - 1)),
    )
    .addOption(
      new Option(
        '--time <column>',
        'a column of timestamps in seconds: the sampling period is the median step between rows (instead of --interval)',
      ),
    )
    .addOption(
      new Option(
        '--season <n>',
        'period of the seasonal naive baseline in readings (24: the same hour yesterday, for hourly data); 0 for none; default: found by autocorrelation on the training rows',
      ).argParser(intOption(0, 1_000_000)),
    )
    .addOption(
      new Option('--missing <policy>', 'empty / NA / NaN / null cells: error, drop the row, or ffill (repeat the previous value)')
        .argParser(choiceOption<MissingPolicy>(['error', 'drop', 'ffill']))
        .default('error'),
    )
    .addOption(
      new Option('--delimiter <char>', "the CSV's field delimiter: ',', ';' or tab (also written \\t)")
        .argParser(delimiterOption)
        .default(','),
    );
}

/**
 * The defaults `train` and `demo` share (the demo adds its data). Measured on a
 * daily cycle with drift (test/helpers/series.ts): forecasting the change beat
 * the level (streamed RMSE 0.43–0.46 against 0.68–0.73); batch 64 and 256 were
 * alike, 256 trains in fewer steps. One-off runs of `lstm-mcu train` (docs/CLI.md), not rerun by a script.
 */
export const TRAINING_DEFAULTS = { targetMode: 'auto', window: 24, horizon: 1, units: 16, epochs: 30, batchSize: 256 } as const;

export function addTrainingOptions(cmd: Command, d: Partial<TrainingDefaults> = {}): Command {
  d = { ...TRAINING_DEFAULTS, ...d };
  const withCell = addDataOptions(cmd, d).addOption(
    new Option('--cell <kind>', `recurrent cell: ${CELL_KINDS.map((k) => `${k} (${CELLS[k].title})`).join(', ')}`)
      .argParser(choiceOption<CellKind>(CELL_KINDS))
      .default('lstm'),
  );
  return addClockOptions(withCell)
    .addOption(
      new Option('--layers <n>', 'stacked recurrent layers (each feeds its hidden sequence to the next)')
        .argParser(intOption(1, 8))
        .default(1),
    )
    .addOption(
      new Option(
        '--bidirectional [merge]',
        'make every layer bidirectional (forward and backward over the whole window at each step), merged by concat (the default) or sum',
      ).argParser(choiceOption<MergeMode>(MERGE_MODES)),
    )
    .addOption(
      new Option(
        '--head <activation>',
        'output activation: linear (regression), softmax (classes) or sigmoid (two classes, one logit); default: linear for --target, softmax for --label',
      ).argParser(choiceOption<HeadActivation>(HEAD_ACTIVATIONS)),
    )
    .addOption(
      new Option(
        '--sequence <pattern>',
        'many-to-one (a target per window), many-to-many (a target for every reading) or one-to-many (many-to-one, forecasts fed back on the device)',
      )
        .argParser(choiceOption<SequencePattern>(SEQUENCE_PATTERNS))
        .default('many-to-one'),
    )
    .addOption(new Option('--units <n>', 'recurrent units (of every layer)').argParser(intOption(1, 512)).default(d.units ?? 16))
    .addOption(new Option('--epochs <n>', 'maximum training epochs').argParser(intOption(1, 100000)).default(d.epochs ?? 30))
    .addOption(new Option('--batch-size <n>', 'windows per gradient step').argParser(intOption(1, 65536)).default(d.batchSize ?? 64))
    .addOption(
      new Option('--learning-rate <lr>', 'Adam learning rate').argParser(floatOption(0, 10, { exclusiveMin: true })).default(0.005),
    )
    .addOption(
      new Option('--patience <n>', 'early stopping: epochs without a better validation loss (0: never stop early)')
        .argParser(intOption(0, 100000))
        .default(5),
    )
    .addOption(new Option('--seed <n>', 'random seed (weights, shuffling)').argParser(intOption(0, 2 ** 31 - 1)).default(1))
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend: auto (tfjs-node when installed, else wasm), node, wasm, cpu')
        .argParser(choiceOption<BackendPref>(['auto', 'node', 'wasm', 'cpu']))
        .default('auto'),
    )
    .addOption(
      new Option(
        '--class-weights <how>',
        "classification: 'balanced' weighs each class by n / (classes × its count) in the loss, for imbalanced labels; 'none'",
      )
        .argParser(choiceOption(['none', 'balanced'] as const))
        .default('none'),
    )
    .addOption(
      new Option(
        '--recurrent-kernel <kind>',
        'how recurrent layers train: fused (whole sequences in one WebAssembly SIMD call; every cell, except a gru with dropout), tfjs (TensorFlow.js layers) or auto (fused where it applies)',
      )
        .argParser(choiceOption<RecurrentKernel>(RECURRENT_KERNELS))
        .default('auto'),
    );
}

/** Commander's parsed options -> the train step's options, with cross-option checks. */
export function trainStepOptions(o: Record<string, unknown>, quiet: boolean): TrainStepOptions {
  if (!o.data) throw new UserError('--data <csv> is required');
  if (!o.features) throw new UserError('--features <names> is required');
  const label = o.label as string | undefined;
  const classification = label !== undefined;
  if (!classification && !o.target) throw new UserError('give --target <names> (regression) or --label <name> (classification)');
  if (!classification && (o.horizon as number) < 1)
    throw new UserError('--horizon must be at least 1 for forecasting (0 is for classification)');
  if (o.interval !== undefined && o.time !== undefined)
    throw new UserError('--interval and --time both give the sampling period: pass one');
  if (o.group !== undefined && String(o.group).trim() === '')
    throw new UserError('--group: expected a column name, got an empty string (leave --group out: the CSV is then one series)');
  return {
    data: o.data as string,
    features: o.features as string[],
    task: classification ? 'classification' : 'regression',
    targets: classification ? [] : (o.target as string[]),
    label,
    group: o.group as string | undefined,
    targetMode: classification
      ? 'level'
      : resolveTargetMode(o.targetMode as TargetMode | 'auto', o.target as string[], o.features as string[]),
    window: o.window as number,
    horizon: o.horizon as number,
    split: o.split as { train: number; validation: number },
    missing: o.missing as MissingPolicy,
    ...(o.delimiter !== ',' ? { delimiter: o.delimiter as Delimiter } : {}),
    ...(o.season !== undefined ? { season: o.season as number } : {}),
    ...(o.interval !== undefined ? { intervalMs: o.interval as number } : {}),
    ...(o.time !== undefined ? { time: o.time as string } : {}),
    cell: o.cell as CellKind,
    layers: o.layers as number,
    head: o.head as HeadActivation | undefined,
    sequence: o.sequence as SequencePattern,
    bidirectional: o.bidirectional === undefined ? undefined : o.bidirectional === true ? 'concat' : (o.bidirectional as MergeMode),
    units: o.units as number,
    epochs: o.epochs as number,
    batchSize: o.batchSize as number,
    learningRate: o.learningRate as number,
    patience: o.patience as number,
    seed: o.seed as number,
    backend: o.backend as BackendPref,
    recurrentKernel: o.recurrentKernel as RecurrentKernel,
    classWeights: o.classWeights as 'balanced' | 'none',
    ...clockOption(o),
    quiet,
  };
}

/** --clock-periods (or --clock-base, --clock-modules) as the train step's option, if given; a clockwork run is checked before the data is read. */
function clockOption(o: Record<string, unknown>): { clockPeriods?: number[] } {
  const clockPeriods = clockPeriodsOf(o, o.cell as CellKind);
  if (hasClock(o.cell as CellKind)) {
    const bidirectional = o.bidirectional === undefined ? undefined : ('concat' as const);
    const refusal = clockworkRefusal({ layers: o.layers as number, bidirectional, units: o.units as number, clockPeriods });
    if (refusal) throw new UserError(refusal);
  }
  return clockPeriods ? { clockPeriods } : {};
}

/** --deploy: how the device runs a forward many-to-one model (train, quantize, demo). */
export function addDeployOption(cmd: Command): Command {
  return cmd.addOption(
    new Option(
      '--deploy <how>',
      'how the device runs the model: stream (one step per reading, the state kept from power-on), window (the last window readings from a zero state at every reading, as trained; window times the cost) or auto (the better streamed validation metric)',
    )
      .argParser(choiceOption(DEPLOY_CHOICES))
      .default('auto'),
  );
}

/** --target-mode auto: forecast the change of each target from its current reading when every target is a feature (the device then has that reading). */
export function resolveTargetMode(mode: TargetMode | 'auto', targets: string[], features: string[]): TargetMode {
  if (mode !== 'auto') return mode;
  return targets.every((t) => features.includes(t)) ? 'change' : 'level';
}
