import { Command, Option } from 'commander';
import { UserError } from '../core/errors.ts';
import { checkOutputPaths } from '../core/output-paths.ts';
import path from 'node:path';
import { choiceOption, floatOption, fmt, intOption, printJson, runAction } from './common.ts';
import { addQatOptions, qatLine } from './qat-options.ts';
import { qatStep, type QatSummary } from '../pipeline/qat.ts';
import { datasetOfModel } from '../pipeline/train.ts';
import { quantizeStep, type QuantizeReport, type QuantizeStepOptions } from '../pipeline/quantize.ts';
import { DEFAULT_INPUT_PERCENTILE, DEFAULT_WEIGHT_SCALE, type WeightScaleGranularity } from '../quantize/quantize.ts';
import { encodeFloatModel, encodeQuantizedModel, readFloatModel, sha256Hex } from '../core/artifact.ts';
import { writeFilesAtomic } from '../core/write-atomic.ts';
import { addDeployOption } from './training-options.ts';
import { deliveredJson, deliveredLines } from './report-lines.ts';
import { reportPhases } from '../core/progress-line.ts';
import { addBoardOption, reportFile } from './report-file.ts';
import { REPORT_FILE } from '../report/html.ts';
import type { Board } from '../codegen/boards.ts';

/** What `quantize` reads from its command line. */
interface QuantizeCommandOptions {
  data?: string;
  allowOtherData?: boolean;
  weightScale: WeightScaleGranularity;
  inputPercentile: number;
  qatOut?: string;
  seed: number;
  season?: number;
  out: string;
  /** A file, '-' for stdout, or false (--no-report). */
  report: string | false;
  json?: boolean;
  quiet?: boolean;
  deploy: QuantizeStepOptions['deploy'];
  qat?: number;
  qatLearningRate: number;
  qatBatchSize: number;
  board: Board;
}

export function quantizeCommand(): Command {
  const cmd = new Command('quantize')
    .description('quantize a float model to int8 (calibrated on its training windows) and report float vs int8')
    .argument('<float-model>', 'float model artifact written by `lstm-mcu train`')
    .addOption(new Option('--data <csv>', 'training CSV (default: the path recorded in the model)'))
    .option('--allow-other-data', 'calibrate on a CSV that differs from the one the model was trained on')
    .addOption(
      new Option('--weight-scale <granularity>', 'rows sharing one int8 weight scale')
        .argParser(choiceOption<WeightScaleGranularity>(['per-row', 'per-gate', 'per-tensor']))
        .default(DEFAULT_WEIGHT_SCALE),
    )
    .addOption(
      new Option('--input-percentile <p>', 'int8 input range covers this percentile of |normalized input| (100: the maximum)')
        .argParser(floatOption(50, 100))
        .default(DEFAULT_INPUT_PERCENTILE),
    )
    .addOption(new Option('--qat-out <file>', 'fine-tuned float model to write (default: model.qat.float.pb beside --out)'))
    .addOption(new Option('--seed <n>', 'seed of the fine-tuning batch order').argParser(intOption(0, 2 ** 31 - 1)).default(1))
    .addOption(
      new Option(
        '--season <n>',
        'period of the seasonal naive baseline in readings; 0 for none; default: as given to train, else found by autocorrelation',
      ).argParser(intOption(0, 1_000_000)),
    )
    .addOption(new Option('--out <file>', 'quantized model artifact to write').default('model.q.pb'))
    .addOption(new Option('--report <file>', 'quantization report (JSON) to write; - for stdout').default('quantize-report.json'))
    .option('--no-report', `write no report: neither the JSON one nor ${REPORT_FILE}`)
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .option('--quiet', 'no progress output');
  addDeployOption(cmd);
  addBoardOption(cmd);
  return addQatOptions(cmd).action((floatPath: string, o: QuantizeCommandOptions) =>
    runAction('quantize', () => runQuantize(floatPath, o)),
  );
}

/** Where the report goes: a file, stdout, or nowhere. */
const jsonReportFile = (o: QuantizeCommandOptions): string | undefined => (o.report === false || o.report === '-' ? undefined : o.report);

async function runQuantize(floatPath: string, o: QuantizeCommandOptions): Promise<void> {
  if (o.report === '-' && o.json) throw new UserError('--report - and --json both write to stdout: choose one');
  const qatOut = o.qatOut ?? path.join(path.dirname(o.out), 'model.qat.float.pb');
  checkOutputPaths(
    [
      { what: '--out', path: o.out },
      { what: '--report', path: jsonReportFile(o) },
      { what: o.qatOut === undefined ? 'the fine-tuned model (--qat-out)' : '--qat-out', path: o.qat ? qatOut : undefined },
      { what: 'the report', path: o.report === false ? undefined : path.join(path.dirname(o.out), REPORT_FILE) },
    ],
    [
      { what: 'float model', path: floatPath },
      { what: '--data', path: o.data },
    ],
  );
  const { model: given, sha256: givenSha256 } = readFloatModel(floatPath);
  const dataset = await datasetOfModel(given, floatPath, o.data, Boolean(o.allowOtherData));
  const log = o.quiet ? () => {} : (s: string) => process.stderr.write(s + '\n');
  reportPhases(!o.quiet);
  // With --qat the int8 model comes from the fine-tuned float model, which is written beside it.
  const qat = o.qat
    ? await qatStep(given, givenSha256, dataset, {
        epochs: o.qat,
        learningRate: o.qatLearningRate,
        batchSize: o.qatBatchSize,
        seed: o.seed,
        weightScale: o.weightScale,
        inputPercentile: o.inputPercentile,
        log,
      })
    : undefined;
  const float = qat ? qat.model : given;
  const floatBytes = qat ? encodeFloatModel(float) : undefined;
  const { model, report, details } = quantizeStep(float, dataset, {
    weightScale: o.weightScale,
    inputPercentile: o.inputPercentile,
    floatModelSha256: floatBytes ? sha256Hex(floatBytes) : givenSha256,
    deploy: o.deploy,
    ...(o.season !== undefined ? { season: o.season } : {}),
    log,
  });
  const bytes = encodeQuantizedModel(model);
  const fullReport = qat ? { ...report, qat: qat.summary } : report;
  const reportText = JSON.stringify(fullReport, null, 2) + '\n';
  const file = jsonReportFile(o);
  const quantized: Quantized = { report, window: model.window, qat: qat?.summary, qatOut };
  const lines = quantizedLines(quantized, o);
  // --no-report: no report of either kind.
  const page =
    o.report === false
      ? undefined
      : await reportFile(path.dirname(o.out), {
          command: 'quantize',
          lines,
          q: model,
          dataset,
          report,
          details,
          noHistory: 'quantize reads a float artifact, which keeps no training history (train and demo draw it)',
          board: o.board,
        });
  // All of them or none: a report never stands beside the model of another run.
  writeFilesAtomic([
    ...(file !== undefined ? [{ path: file, data: reportText }] : []),
    ...(floatBytes ? [{ path: qatOut, data: floatBytes }] : []),
    { path: o.out, data: bytes },
    ...(page ? [page] : []),
  ]);
  // With the report on stdout, stdout is the report alone: the lines go to stderr.
  const print = o.report === '-' ? (line: string) => process.stderr.write(line + '\n') : (line: string) => console.log(line);
  for (const line of lines) print(line);
  if (page) print(`wrote ${page.path}`);
  if (o.report === '-') process.stdout.write(reportText);
  if (o.json) printJson(quantizedJson(quantized, o));
}

/** What `quantize` made: the report, the model's window, with --qat the comparison and the fine-tuned model's file. */
interface Quantized {
  report: QuantizeReport;
  window: number;
  qat?: QatSummary;
  qatOut: string;
}

function quantizedLines({ report, window, qat, qatOut }: Quantized, o: QuantizeCommandOptions): string[] {
  const m = report.metrics;
  const layers = report.scheme.layers.map(
    (l, i) => `${report.scheme.layers.length > 1 ? `layer ${i}: ` : ''}gate shift ${l.gateShift}, cell ${l.cellFormat}`,
  );
  const f = report.forecast;
  return [
    ...(qat ? [`QAT test ${m.name}: ${qatLine(qat)}`] : []),
    `test ${m.name}: ${qat ? 'fine-tuned float' : 'float'} ${fmt(m.float)}, int8 ${fmt(m.int8)} (${fmt(100 * m.relativeChange, 3)}%) on ${m.windows} windows`,
    `scheme: ${report.scheme.weightScale} weight scales, ${layers.join('; ')}`,
    ...(f
      ? [
          `forecast ${f.steps} steps ahead (fed back, ${f.windows} windows): RMSE float ${fmt(f.float)}, int8 ${fmt(f.int8)}, persistence ${fmt(f.persistence)}`,
        ]
      : []),
    ...deliveredLines(report, window),
    `wrote ${o.out}${qat ? `, ${qatOut}` : ''}${jsonReportFile(o) !== undefined ? ` and ${o.report}` : ''}`,
  ];
}

function quantizedJson({ report, qat, qatOut }: Quantized, o: QuantizeCommandOptions) {
  const f = report.forecast;
  return {
    command: 'quantize',
    artifact: o.out,
    report: jsonReportFile(o) ?? null,
    metrics: report.metrics,
    scheme: report.scheme,
    ...deliveredJson(report),
    ...(f ? { forecast: f } : {}),
    ...(qat ? { qat: { ...qat.test, bestEpoch: qat.bestEpoch, epochs: qat.epochs, floatArtifact: qatOut } } : {}),
  };
}
