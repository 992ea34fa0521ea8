import path from 'node:path';
import { Command, Option } from 'commander';
import { addDeployOption, addTrainingOptions, trainStepOptions } from './training-options.ts';
import { deliveredJson, deliveredLines } from './report-lines.ts';
import { parityJson, parityLines } from './parity-lines.ts';
import { fmt, printJson, runAction } from './common.ts';
import { builtinSensorCsv, DEMO_DEFAULTS } from './builtin-data.ts';
import { trainStep, type EpochSummary, type Trained } from '../pipeline/train.ts';
import { addBoardOption, reportFile } from './report-file.ts';
import { REPORT_FILE } from '../report/html.ts';
import type { Board } from '../codegen/boards.ts';
import { deliver, writeDelivery, type Delivery } from '../pipeline/deliver.ts';
import type { QuantizeReport, QuantizeStepOptions } from '../pipeline/quantize.ts';
import { addQatOptions, qatLine } from './qat-options.ts';
import { persistenceRmse } from '../data/metrics.ts';
import { architectureName, lastLayer, type FloatModel } from '../core/model.ts';
import type { Dataset } from '../data/windows.ts';

/** Steps replayed in the demo's parity check: test windows plus random sequences with extremes. */
const PARITY_WINDOWS = 200;
const PARITY_RANDOM_SEGMENTS = 20;
const PARITY_RANDOM_STEPS = 50;

/** What `demo` reads from its command line besides the training options (trainStepOptions reads those). */
interface DemoOptions {
  out: string;
  json?: boolean;
  quiet?: boolean;
  watch?: boolean;
  seed: number;
  group?: string;
  qat?: number;
  qatLearningRate: number;
  qatBatchSize: number;
  deploy: QuantizeStepOptions['deploy'];
  board: Board;
}

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('the whole path on built-in real sensor data: train, quantize, generate code, check parity')
    .addOption(new Option('--out <dir>', 'where to write every artifact').default('out'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .option('--quiet', 'no progress output')
    .option(
      '--watch',
      "also check parity on the Bangle.js 2 firmware's emulator (BANGLE2_DIR); where it cannot hold the model, one line and its weights in flash",
    );
  addTrainingOptions(cmd, {
    data: builtinSensorCsv(),
    dataDescription: 'the built-in TelosB mote data',
    ...DEMO_DEFAULTS,
    features: [...DEMO_DEFAULTS.features],
    target: [...DEMO_DEFAULTS.target],
  });
  addQatOptions(cmd);
  addDeployOption(cmd);
  addBoardOption(cmd);
  cmd.action((o: DemoOptions & Record<string, unknown>) =>
    runAction('demo', () => runDemo(o, cmd.getOptionValueSource('data') === 'default')),
  );
  return cmd;
}

/** A demo run: the trained float model, its data, what was delivered, and the test figures the demo reports. */
interface DemoRun {
  float: FloatModel;
  dataset: Dataset;
  backend: string;
  epochs: EpochSummary;
  history: Trained['history'];
  delivery: Delivery;
  /** The test metrics; with QAT, of the float model trained against the int8 model on the device. */
  testMetrics: QuantizeReport['metrics'];
  /** The naive forecast (the target's last reading), for scale: a model should beat it. */
  persistence: number | undefined;
}

/** Train, deliver (quantize, generate, check parity), write everything, print the summary; `builtinData`: --data not given. */
async function runDemo(o: DemoOptions & Record<string, unknown>, builtinData: boolean): Promise<void> {
  const started = performance.now();
  const log = (s: string) => {
    if (!o.quiet) process.stderr.write(s + '\n');
  };
  // The built-in data is four motes' series: its group column applies only to it.
  const options = trainStepOptions({ ...o, group: o.group ?? (builtinData ? DEMO_DEFAULTS.group : undefined) }, Boolean(o.quiet));
  log('1/4 train');
  const { model: float, dataset, backend, epochs, history } = await trainStep(options);
  const delivery = await deliver(float, dataset, {
    out: o.out,
    seed: o.seed,
    parityWindows: PARITY_WINDOWS,
    randomSegments: PARITY_RANDOM_SEGMENTS,
    randomSteps: PARITY_RANDOM_STEPS,
    watch: o.watch,
    log,
    deploy: o.deploy,
    ...(o.qat ? { qat: { epochs: o.qat, learningRate: o.qatLearningRate, batchSize: o.qatBatchSize, seed: o.seed } } : {}),
  });
  // With QAT: the float model trained against the int8 model on the device (the fine-tuned float model's is in the report).
  const t = delivery.qat?.summary.test;
  const m = t ? { ...delivery.report.metrics, float: t.float, int8: t.int8Qat, relativeChange: t.qatChange } : delivery.report.metrics;
  const run: DemoRun = {
    float,
    dataset,
    backend,
    epochs,
    history,
    delivery,
    testMetrics: m,
    persistence: persistenceRmse(dataset, dataset.test),
  };
  const summary = demoSummary(run, started);
  const lines = demoLines(run, o.out);
  const page = await reportFile(o.out, {
    command: 'demo',
    lines,
    q: delivery.q,
    dataset,
    report: delivery.report,
    details: delivery.details,
    history: { ...history, kept: epochs.kept },
    board: o.board,
  });
  writeDelivery(delivery, summary, [page]);
  for (const line of lines) console.log(line);
  console.log(`report       ${page.path}`);
  if (o.json) printJson(summary);
  if (delivery.parity.mismatches > 0) process.exitCode = 1;
}

/** The summary written to summary.json (and printed with --json); `started`: when the demo began. */
function demoSummary({ float, dataset, backend, epochs, delivery, testMetrics: m, persistence }: DemoRun, started: number) {
  const { files, report, generated, parity, ram } = delivery;
  return {
    command: 'demo',
    data: { path: float.provenance.data, windows: { train: dataset.train.n, validation: dataset.validation.n, test: dataset.test.n } },
    epochs,
    model: {
      // the trained kind: the top layer's (a depth-gated stack has an LSTM at the bottom)
      cell: lastLayer(float).cell,
      layers: float.layers.length,
      bidirectional: float.layers[0].backward ? float.layers[0].merge : null,
      inputs: float.featureNames,
      units: lastLayer(float).units,
      outputs: float.targetNames,
      window: float.window,
      horizon: float.horizon,
      backend,
    },
    metrics: {
      name: m.name,
      float: m.float,
      int8: m.int8,
      relativeChange: m.relativeChange,
      persistence,
      split: 'test',
      windows: m.windows,
    },
    ...deliveredJson(report),
    ...(report.forecast ? { forecast: report.forecast } : {}),
    ...(delivery.qat
      ? { qat: { ...delivery.qat.summary.test, bestEpoch: delivery.qat.summary.bestEpoch, epochs: delivery.qat.summary.epochs } }
      : {}),
    parity: parityJson(parity),
    code: Object.fromEntries(generated.map((g) => [g.target, Buffer.byteLength(g.code)])),
    ram,
    artifacts: {
      float: files.float,
      ...(delivery.qat ? { qatFloat: files.qatFloat } : {}),
      quantized: files.quantized,
      report: files.report,
      html: path.join(path.dirname(files.report), REPORT_FILE),
      ...Object.fromEntries(generated.map((g) => [g.target, g.jsPath])),
    },
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}

/** The lines the demo prints: data, model, epochs, test metrics, what the device delivers, code, RAM, parity. */
function demoLines({ float, dataset, backend, epochs, delivery, testMetrics: m, persistence }: DemoRun, out: string): string[] {
  const { report, generated, parity, ram } = delivery;
  const unit = m.name === 'rmse' ? ` ${float.targetNames.join(',')} units` : '';
  const f = report.forecast;
  return [
    `data         ${path.basename(float.provenance.data)}: ${dataset.train.n} train / ${dataset.validation.n} validation / ${dataset.test.n} test windows`,
    `model        ${architectureName(float.layers)} on ${float.featureNames.join(', ')} -> ${float.targetNames.join(', ')} (+${float.horizon}), window ${float.window}, ${backend}`,
    `epoch kept   ${epochs.kept} of ${epochs.run} run (the best validation loss), ${fmt(epochs.secondsPerEpoch, 3)} s per epoch`,
    `${`test ${m.name}`.padEnd(13)}float ${fmt(m.float)}  int8 ${fmt(m.int8)}  (${m.relativeChange >= 0 ? '+' : ''}${fmt(100 * m.relativeChange, 3)}%)${unit}`,
    ...(delivery.qat ? [`QAT          ${qatLine(delivery.qat.summary)}`] : []),
    ...(persistence !== undefined ? [`baseline     last reading (persistence) ${fmt(persistence)} on the test windows`] : []),
    ...deliveredLines(report, float.window),
    ...(f
      ? [
          `forecast     ${f.steps} steps ahead, fed back (${f.windows} windows): RMSE float ${fmt(f.float)}  int8 ${fmt(f.int8)}  persistence ${fmt(f.persistence)}`,
        ]
      : []),
    `code         ${generated.map((g) => `${g.target} ${Buffer.byteLength(g.code)} B`).join(', ')}`,
    `model RAM    ~${ram.blocks} Espruino blocks (${ram.weightBytes} B weights, ${ram.tableBytes} B tables, ${ram.stateBytes} B state)`,
    ...parityLines(parity, ' (test windows, test series streamed, random)'),
    ...parity.results.filter((x) => x.mismatch).map((r) => `  ${r.message}`),
    ...parity.skipped.map((s) => `  skipped ${s}`),
    `artifacts    ${out}/`,
  ];
}
