import { Command, Option } from 'commander';
import { checkOutputPaths } from '../core/output-paths.ts';
import { addDeployOption, addTrainingOptions, trainStepOptions } from './training-options.ts';
import { fmt, printJson, runAction } from './common.ts';
import { trainStep } from '../pipeline/train.ts';
import { encodeFloatModel } from '../core/artifact.ts';
import { architectureName } from '../core/model.ts';
import { quantizeStep } from '../pipeline/quantize.ts';
import { DEFAULT_WEIGHT_SCALE } from '../quantize/quantize.ts';
import { sha256Hex } from '../core/artifact.ts';
import { deliveredJson, deliveredLines } from './report-lines.ts';
import { addBoardOption, reportFile } from './report-file.ts';
import { REPORT_FILE } from '../report/html.ts';
import { writeFilesAtomic } from '../core/write-atomic.ts';
import path from 'node:path';

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('fit an LSTM on a CSV time series and write the float model artifact')
    .addOption(new Option('--out <file>', 'float model artifact to write').default('model.float.pb'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .option('--quiet', 'no progress output');
  addTrainingOptions(cmd);
  addDeployOption(cmd);
  addBoardOption(cmd);
  cmd.action((o) =>
    runAction('train', async () => {
      checkOutputPaths(
        [
          { what: '--out', path: o.out },
          { what: 'the report', path: path.join(path.dirname(o.out), REPORT_FILE) },
        ],
        [{ what: '--data', path: o.data }],
      );
      const trained = await trainStep(trainStepOptions(o, Boolean(o.quiet)));
      const { model, dataset, backend, epochs } = trained;
      const bytes = encodeFloatModel(model);
      // What the device would deliver: the model quantized with the defaults, its test series streamed through the app.
      const {
        model: q,
        report,
        details,
      } = quantizeStep(model, dataset, {
        weightScale: DEFAULT_WEIGHT_SCALE,
        floatModelSha256: sha256Hex(bytes),
        deploy: o.deploy,
        ...(o.quiet ? {} : { log: (line: string) => process.stderr.write(line + '\n') }),
      });
      const m = model.metrics;
      const lines = [
        `trained ${architectureName(model.layers)} on ${dataset.train.n} windows with ${backend}: ` +
          `${m.name} train ${fmt(m.train)}, validation ${fmt(m.validation)}, test ${fmt(m.test)} (test windows, float)`,
        `epoch kept   ${epochs.kept} of ${epochs.run} run (the best validation loss), ${fmt(epochs.secondsPerEpoch, 3)} s per epoch`,
        ...deliveredLines(report, model.window),
      ];
      const history = { ...trained.history, kept: epochs.kept };
      const page = await reportFile(path.dirname(o.out), { command: 'train', lines, q, dataset, report, details, history, board: o.board });
      // The model and its report: both or neither.
      writeFilesAtomic([{ path: o.out, data: bytes }, page]);
      for (const line of lines) console.log(line);
      console.log(`wrote ${o.out} and ${page.path}`);
      if (o.json) {
        printJson({
          command: 'train',
          artifact: o.out,
          backend,
          metrics: m,
          epochs,
          ...deliveredJson(report),
          windows: { train: dataset.train.n, validation: dataset.validation.n, test: dataset.test.n },
        });
      }
    }),
  );
  return cmd;
}
