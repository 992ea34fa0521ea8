/**
 * What the `example` commands share: the common options, the progress log,
 * deliver + summary + the printed lines after training.
 */
import { Option, type Command } from 'commander';
import { choiceOption, floatOption, fmt, intOption, printJson } from '../common.ts';
import { deliver, writeDelivery, type Delivery } from '../../pipeline/deliver.ts';
import { addBoardOption, reportFile } from '../report-file.ts';
import type { Board } from '../../codegen/boards.ts';
import type { TrainingHistory } from '../../report/run.ts';
import { QAT_DEFAULTS } from '../../pipeline/qat.ts';
import { addQatOptions, qatLine } from '../qat-options.ts';
import { deliveredJson, deliveredLines } from '../report-lines.ts';
import { parityJson, parityLines } from '../parity-lines.ts';
import type { BackendPref } from '../../trainer/backend.ts';
import { RECURRENT_KERNELS, type RecurrentKernel } from '../../trainer/train.ts';
import type { Dataset } from '../../data/windows.ts';
import { pickWindows } from '../../data/window-set.ts';
import type { FloatModel } from '../../core/model.ts';

/** The first `n` windows of the training split, as a dataset (what the quantizer calibrates on). */
export function firstWindows(ds: Dataset, n: number): Dataset {
  const m = Math.min(n, ds.train.n);
  const t = ds.train;
  return {
    ...ds,
    train: {
      x: pickWindows(
        t.x,
        Array.from({ length: m }, (_, k) => k),
      ),
      y: t.y.subarray(0, m),
      n: m,
      rawTargets: t.rawTargets.subarray(0, m),
      endRows: t.endRows.subarray(0, m),
    },
  };
}

/** What commonExampleOptions reads from the command line (commander's keys). */
export interface ExampleOptions {
  out: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  calibration: number;
  parityWindows: number;
  seed: number;
  backend: BackendPref;
  recurrentKernel: RecurrentKernel;
  json?: boolean;
  quiet?: boolean;
  watch?: boolean;
  qat?: number;
  qatLearningRate: number;
  qatBatchSize: number;
  board: Board;
}

/** Options every example takes: training schedule, calibration, parity, seed, backend, output. */
export function commonExampleOptions(c: Command, d: { out: string; epochs: number; learningRate: number; what: string }): Command {
  const options = c
    .addOption(new Option('--out <dir>', 'where to write every artifact').default(d.out))
    .addOption(new Option('--epochs <n>', 'maximum training epochs').argParser(intOption(1, 1000)).default(d.epochs))
    .addOption(new Option('--batch-size <n>', `${d.what} per gradient step`).argParser(intOption(1, 65536)).default(64))
    .addOption(
      new Option('--learning-rate <lr>', 'Adam learning rate')
        .argParser(floatOption(0, 10, { exclusiveMin: true }))
        .default(d.learningRate),
    )
    .addOption(
      new Option('--patience <n>', 'early stopping: epochs without a better validation loss (0: never)')
        .argParser(intOption(0, 1000))
        .default(3),
    )
    .addOption(
      new Option('--calibration <n>', `training ${d.what} the quantizer calibrates on`).argParser(intOption(1, 100000)).default(2000),
    )
    .addOption(
      new Option('--parity-windows <n>', `test ${d.what} replayed on every engine for the parity check`)
        .argParser(intOption(0, 100000))
        .default(10),
    )
    .addOption(new Option('--seed <n>', 'random seed (split, weights, shuffling)').argParser(intOption(0, 2 ** 31 - 1)).default(1))
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .argParser(choiceOption<BackendPref>(['auto', 'node', 'wasm', 'cpu']))
        .default('auto'),
    )
    .addOption(
      new Option(
        '--recurrent-kernel <kind>',
        'how the recurrent layer trains: fused (WebAssembly SIMD), tfjs (TensorFlow.js layers) or auto',
      )
        .argParser(choiceOption<RecurrentKernel>(RECURRENT_KERNELS))
        .default('auto'),
    )
    .option(
      '--watch',
      "also check parity on the Bangle.js 2 firmware's emulator (BANGLE2_DIR); where it cannot hold the model, one line and its weights in flash",
    )
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .option('--quiet', 'no progress output');
  return addBoardOption(addQatOptions(options, `the calibration ${d.what}`));
}

/** Progress lines on stderr unless --quiet. */
export const exampleLog = (quiet: boolean) => (s: string) => {
  if (!quiet) process.stderr.write(s + '\n');
};

/** deliver()'s fine-tuning options from an example's `--qat` ones, or none. */
function qatOptions(o: { seed: number; qat?: number; qatLearningRate?: number; qatBatchSize?: number }) {
  if (!o.qat) return {};
  const learningRate = o.qatLearningRate ?? QAT_DEFAULTS.learningRate;
  return { qat: { epochs: o.qat, learningRate, batchSize: o.qatBatchSize ?? QAT_DEFAULTS.batchSize, seed: o.seed } };
}

/**
 * Quantize, generate, check parity, write everything, and print the summary
 * lines: `describe` gives the example's own lines (data, model, metric).
 */
export async function finishExample(
  name: string,
  float: FloatModel,
  dataset: Dataset,
  o: {
    out: string;
    seed: number;
    calibration: number;
    parityWindows: number;
    json?: boolean;
    quiet?: boolean;
    watch?: boolean;
    qat?: number;
    qatLearningRate?: number;
    qatBatchSize?: number;
    board: Board;
    /** The training run's losses, for report.html. */
    history: TrainingHistory;
  },
  started: number,
  describe: (m: { float: number; int8: number }) => { lines: string[]; data: object; model: object },
): Promise<void> {
  const delivery = await deliver(float, dataset, {
    out: o.out,
    seed: o.seed,
    calibration: firstWindows(dataset, o.calibration),
    parityWindows: o.parityWindows,
    randomSegments: 2,
    randomSteps: dataset.window,
    watch: o.watch,
    log: exampleLog(Boolean(o.quiet)),
    ...qatOptions(o),
  });
  const { report, generated, parity, ram } = delivery;
  // With QAT: the float model trained against the int8 model on the device.
  const t = delivery.qat?.summary.test;
  const m = t ? { ...report.metrics, float: t.float, int8: t.int8Qat } : report.metrics;
  const own = describe(m);
  const summary = {
    command: `example ${name}`,
    data: own.data,
    model: own.model,
    metrics: { name: m.name, float: m.float, int8: m.int8, difference: m.int8 - m.float, split: 'test', windows: m.windows },
    ...deliveredJson(report),
    ...(delivery.qat
      ? { qat: { ...delivery.qat.summary.test, bestEpoch: delivery.qat.summary.bestEpoch, epochs: delivery.qat.summary.epochs } }
      : {}),
    parity: parityJson(parity),
    weightBytes: ram.weightBytes,
    ram,
    code: Object.fromEntries(generated.map((g) => [g.target, Buffer.byteLength(g.code)])),
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  const lines = exampleLines(own.lines, m, delivery, dataset.window, o.out);
  const { q, details } = delivery;
  const run = { command: `example ${name}`, lines, q, dataset, report, details, history: o.history, board: o.board };
  const page = await reportFile(o.out, run);
  writeDelivery(delivery, summary, [page]);
  for (const line of lines) console.log(line);
  console.log(`report       ${page.path}`);
  if (o.json) printJson(summary);
  if (parity.mismatches > 0) process.exitCode = 1;
}

/** The lines an example prints after its own: accuracy, QAT, what the device delivers, weights, parity, artifacts. */
function exampleLines(own: string[], m: { float: number; int8: number }, delivery: Delivery, window: number, out: string): string[] {
  const { report, parity, ram } = delivery;
  return [
    ...own,
    `test accuracy float ${fmt(100 * m.float, 4)}%  int8 ${fmt(100 * m.int8, 4)}%  (${m.int8 >= m.float ? '+' : ''}${fmt(100 * (m.int8 - m.float), 3)} points)`,
    ...(delivery.qat ? [`QAT          ${qatLine(delivery.qat.summary)}`] : []),
    ...deliveredLines(report, window),
    `weights      ${ram.weightBytes} B int8; device RAM ~${ram.blocks} Espruino blocks (${ram.tableBytes} B tables, ${ram.stateBytes} B state)`,
    ...parityLines(parity, ''),
    ...parity.skipped.map((s) => `  skipped ${s}`),
    `artifacts    ${out}/`,
  ];
}
