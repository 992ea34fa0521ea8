import { Command, Option } from 'commander';
import { addTrainingOptions, trainStepOptions } from './training-options.ts';
import { fmt, printJson, runAction } from './common.ts';
import { trainStep } from './steps/train.ts';
import { encodeFloatModel, writeArtifact } from '../runtime/artifact.ts';
import { architectureName } from '../runtime/model.ts';

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('fit an LSTM on a CSV time series and write the float model artifact')
    .addOption(new Option('--out <file>', 'float model artifact to write').default('model.float.pb'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .option('--quiet', 'no progress output');
  addTrainingOptions(cmd);
  cmd.action((o) =>
    runAction('train', async () => {
      const { model, dataset, backend } = await trainStep(trainStepOptions(o, Boolean(o.quiet)));
      writeArtifact(o.out, encodeFloatModel(model));
      const m = model.metrics;
      console.log(
        `trained ${architectureName(model.layers)} on ${dataset.train.n} windows with ${backend}: ` +
          `${m.name} train ${fmt(m.train)}, validation ${fmt(m.validation)}, test ${fmt(m.test)}`,
      );
      console.log(`wrote ${o.out}`);
      if (o.json) printJson({ command: 'train', artifact: o.out, backend, metrics: m, windows: { train: dataset.train.n, validation: dataset.validation.n, test: dataset.test.n } });
    }),
  );
  return cmd;
}
