import { quantizeStep } from '../pipeline/quantize.ts';
import { DEFAULT_WEIGHT_SCALE } from '../quantize/quantize.ts';
import { deliveredJson, deliveredLines } from './report-lines.ts';
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { addDataOptions } from './training-options.ts';
import { fmt, intOption, printJson, runAction } from './common.ts';
import { UserError } from '../core/errors.ts';
import { headerOfDataset, loadDataset, metricName, splitMetric, type DataOptions } from '../pipeline/train.ts';
import { readOnnx } from '../importers/onnx-model.ts';
import { importOnnx, type ImportedNetwork } from '../importers/onnx-import.ts';
import { importTfjsLayers } from '../importers/tfjs-import.ts';
import { floatWindowOutputs } from '../reference/float-outputs.ts';
import { architectureName, type FloatEmbedding, type FloatModel, type Normalization } from '../core/model.ts';
import type { Dataset, Split } from '../data/windows.ts';
import { encodeFloatModel, sha256Hex, writeArtifact } from '../core/artifact.ts';
import { TOOL_VERSION } from '../core/version.ts';
import type { MissingPolicy } from '../data/csv.ts';
import type { TargetMode } from '../core/model.ts';

function numbers(flag: string) {
  return (value: string): number[] => {
    const v = value.split(',').map((s) => Number(s.trim()));
    if (v.some((x) => !Number.isFinite(x)) || value.trim() === '')
      throw new UserError(`${flag} '${value}': expected comma-separated numbers`);
    return v;
  };
}

/** The normalization given on the command line, if any (both mean and std, or neither). */
function givenNorm(mean: number[] | undefined, std: number[] | undefined, what: string): Normalization | undefined {
  if ((mean === undefined) !== (std === undefined)) throw new UserError(`--${what}-mean and --${what}-std go together`);
  return mean && std ? { mean, std } : undefined;
}

/** The network's outputs per window against every split: the metric the trainer reports. */
function metrics(net: ImportedNetwork, ds: Dataset, embedding: FloatEmbedding | undefined) {
  const run = (split: Split) => splitMetric(ds, split, floatWindowOutputs({ ...net, embedding }, split.x, split.n, ds.window));
  return { name: metricName(ds.task), train: run(ds.train), validation: run(ds.validation), test: run(ds.test) };
}

export function importCommand(): Command {
  const cmd = new Command('import')
    .description(
      'bring a model trained elsewhere into the int8 pipeline: an ONNX file (PyTorch) or a TensorFlow.js / Keras layers model (model.json), with the data it was trained on',
    )
    .argument('<model>', 'model.onnx, or the model.json of a tfjs-layers model (its weight files beside it)');
  addDataOptions(cmd)
    .addOption(
      new Option(
        '--input-mean <values>',
        'the normalization the model was trained with: mean of each feature (default: the training rows of --data)',
      ).argParser(numbers('--input-mean')),
    )
    .addOption(new Option('--input-std <values>', 'standard deviation of each feature').argParser(numbers('--input-std')))
    .addOption(
      new Option(
        '--output-mean <values>',
        'regression: mean of each target the model was trained to output (default: the training rows of --data)',
      ).argParser(numbers('--output-mean')),
    )
    .addOption(new Option('--output-std <values>', 'regression: standard deviation of each target').argParser(numbers('--output-std')))
    .addOption(
      new Option('--unknown-token <id>', 'a model with an Embedding: the id an id outside the vocabulary reads as')
        .argParser(intOption(1, 1 << 30))
        .default(1),
    )
    .addOption(new Option('--out <file>', 'the float model artifact').default('model.float.pb'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .action((modelFile: string, o) =>
      runAction('import', async () => {
        if (!o.data) throw new UserError('--data <csv> is required: the windows the model is checked, calibrated and scored on');
        if (!o.features) throw new UserError('--features <names> is required');
        const classification = o.label !== undefined;
        if (!classification && !o.target) throw new UserError('give --target <names> (regression) or --label <name> (classification)');
        const format = modelFile.endsWith('.onnx') ? 'onnx' : modelFile.endsWith('.json') ? 'tfjs-layers' : undefined;
        if (!format) throw new UserError(`${modelFile}: expected a .onnx file or a tfjs-layers model.json`);
        if (!fs.existsSync(modelFile)) throw new UserError(`${modelFile}: no such file`);
        const net = format === 'onnx' ? importOnnx(readOnnx(modelFile), modelFile) : importTfjsLayers(modelFile);
        let input = givenNorm(o.inputMean, o.inputStd, 'input');
        if (net.embedding) {
          // Token ids: one feature, read as they are.
          if (o.features.length !== 1)
            throw new UserError(
              `${modelFile}: the model reads token ids (an Embedding); --features names one column of ids, not ${o.features.length}`,
            );
          if (input) throw new UserError('--input-mean / --input-std: a model with an Embedding reads token ids as they are');
          if (o.unknownToken >= net.embedding.vocabularySize)
            throw new UserError(
              `--unknown-token ${o.unknownToken}: the vocabulary has ids 0..${net.embedding.vocabularySize - 1} (0 is padding)`,
            );
          input = { mean: [0], std: [1] };
        }
        const output = givenNorm(o.outputMean, o.outputStd, 'output');
        if (output && classification) throw new UserError('--output-mean / --output-std are for regression; a classifier outputs logits');
        const options: DataOptions = {
          data: path.resolve(o.data),
          features: o.features,
          task: classification ? 'classification' : 'regression',
          targets: classification ? [] : o.target,
          label: o.label,
          group: o.group,
          targetMode: classification ? 'level' : (o.targetMode as TargetMode),
          window: o.window,
          horizon: o.horizon,
          split: o.split,
          missing: o.missing as MissingPolicy,
          sequence: 'many-to-one',
          ...(input || output ? { normalization: { ...(input ? { input } : {}), ...(output ? { output } : {}) } } : {}),
        };
        if (!net.embedding && net.inputSize !== o.features.length)
          throw new UserError(
            `${modelFile}: the model reads ${net.inputSize} features per step, --features names ${o.features.length} (${o.features.join(', ')})`,
          );
        const { dataset, sha256 } = await loadDataset(options);
        const outputs = classification ? (net.headActivation === 'sigmoid' ? 1 : dataset.classLabels.length) : dataset.targetNames.length;
        if (classification && net.headActivation === 'linear')
          throw new UserError(
            `${modelFile}: a classifier's head ends in Sigmoid or Softmax; this one is linear (pass --target for a regression model)`,
          );
        if (!classification && net.headActivation !== 'linear')
          throw new UserError(`${modelFile}: the head ends in ${net.headActivation}, which is a classifier: pass --label <column>`);
        if (net.headActivation === 'sigmoid' && dataset.classLabels.length !== 2)
          throw new UserError(`${modelFile}: a sigmoid head is two classes; the label column has ${dataset.classLabels.length}`);
        if (net.head.outputSize !== outputs)
          throw new UserError(
            `${modelFile}: the head has ${net.head.outputSize} outputs; the data needs ${outputs} (${classification ? 'classes' : 'targets'})`,
          );
        const bytes = fs.readFileSync(modelFile);
        const embedding: FloatEmbedding | undefined = net.embedding
          ? { ...net.embedding, unknownToken: o.unknownToken, tokens: [] }
          : undefined;
        const model: FloatModel = {
          ...(embedding ? { embedding } : {}),
          ...headerOfDataset(dataset), // many-to-one: the options above say so
          headActivation: net.headActivation,
          layers: net.layers,
          head: net.head,
          metrics: metrics(net, dataset, embedding),
          provenance: {
            data: path.resolve(o.data),
            dataSha256: sha256,
            seed: 0,
            toolVersion: TOOL_VERSION,
            createdAt: new Date().toISOString(),
            options: JSON.stringify({
              ...options,
              imported: { file: path.basename(modelFile), format, sha256: sha256Hex(bytes), producer: net.producer },
            }),
          },
        };
        const encoded = encodeFloatModel(model);
        // What the device would deliver: the model quantized with the defaults, its test series streamed through the app.
        const { report } = quantizeStep(model, dataset, {
          weightScale: DEFAULT_WEIGHT_SCALE,
          floatModelSha256: sha256Hex(encoded),
          log: (line) => process.stderr.write(line + '\n'),
        });
        writeArtifact(o.out, encoded);
        const m = model.metrics;
        console.log(
          `imported     ${modelFile} (${format}${net.producer ? `, ${net.producer}` : ''}): ${architectureName(model.layers)} -> dense ${net.head.outputSize}${net.headActivation !== 'linear' ? ` (${net.headActivation})` : ''}`,
        );
        console.log(
          `data         ${path.basename(o.data)}: ${dataset.train.n} train / ${dataset.validation.n} validation / ${dataset.test.n} test windows of ${dataset.window}`,
        );
        console.log(`float ${m.name.padEnd(7)}train ${fmt(m.train)}  validation ${fmt(m.validation)}  test ${fmt(m.test)}`);
        for (const line of deliveredLines(report, model.window)) console.log(line);
        console.log(`wrote        ${o.out} (next: lstm-mcu quantize ${o.out})`);
        if (o.json)
          printJson({
            command: 'import',
            model: modelFile,
            format,
            producer: net.producer,
            out: o.out,
            layers: model.layers.map((l) => ({
              cell: l.cell,
              units: l.units,
              bidirectional: l.backward ? l.merge : null,
              reverse: l.reverse === true,
            })),
            metrics: m,
            ...deliveredJson(report),
          });
      }),
    );
  return cmd;
}
