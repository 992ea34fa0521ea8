import { quantizeStep, type QuantizeReport } from '../pipeline/quantize.ts';
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
import type { Dataset, Split, SplitFractions } from '../data/windows.ts';
import { encodeFloatModel, sha256Hex } from '../core/artifact.ts';
import { writeFilesAtomic } from '../core/write-atomic.ts';
import { addBoardOption, reportFile } from './report-file.ts';
import type { Board } from '../codegen/boards.ts';
import { TOOL_VERSION } from '../core/version.ts';
import type { Delimiter, MissingPolicy } from '../data/csv.ts';
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
  const run = (split: Split) => splitMetric(ds, split, floatWindowOutputs({ ...net, embedding }, split.x, ds.window));
  return { name: metricName(ds.task), train: run(ds.train), validation: run(ds.validation), test: run(ds.test) };
}

/** What `import` reads from its command line (commander's keys). */
interface ImportOptions {
  data?: string;
  features?: string[];
  target?: string[];
  label?: string;
  group?: string;
  targetMode: TargetMode;
  window: number;
  horizon: number;
  split: SplitFractions;
  missing: MissingPolicy;
  delimiter: Delimiter;
  inputMean?: number[];
  inputStd?: number[];
  outputMean?: number[];
  outputStd?: number[];
  unknownToken: number;
  out: string;
  json?: boolean;
  board: Board;
}

type ModelFormat = 'onnx' | 'tfjs-layers';

export function importCommand(): Command {
  const cmd = new Command('import')
    .description(
      'bring a model trained elsewhere into the int8 pipeline: an ONNX file (PyTorch) or a TensorFlow.js / Keras layers model (model.json), with the data it was trained on',
    )
    .argument('<model>', 'model.onnx, or the model.json of a tfjs-layers model (its weight files beside it)');
  addNormalizationOptions(addDataOptions(cmd))
    .addOption(
      new Option('--unknown-token <id>', 'a model with an Embedding: the id an id outside the vocabulary reads as')
        .argParser(intOption(1, 1 << 30))
        .default(1),
    )
    .addOption(new Option('--out <file>', 'the float model artifact').default('model.float.pb'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout');
  addBoardOption(cmd).action((modelFile: string, o: ImportOptions) => runAction('import', () => runImport(modelFile, o)));
  return cmd;
}

/** --input-mean, --input-std, --output-mean, --output-std: the normalization the model was trained with. */
function addNormalizationOptions(cmd: Command): Command {
  return cmd
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
    .addOption(new Option('--output-std <values>', 'regression: standard deviation of each target').argParser(numbers('--output-std')));
}

async function runImport(modelFile: string, o: ImportOptions): Promise<void> {
  const { format, features, classification } = checkImportArguments(modelFile, o);
  const read = format === 'onnx' ? importOnnx(readOnnx(modelFile), modelFile) : importTfjsLayers(modelFile);
  if (!read.embedding && read.inputSize !== features.length)
    throw new UserError(
      `${modelFile}: the model reads ${read.inputSize} features per step, --features names ${features.length} (${features.join(', ')})`,
    );
  const input = inputNormalization(read, modelFile, features.length, o);
  const output = givenNorm(o.outputMean, o.outputStd, 'output');
  if (output && classification) throw new UserError('--output-mean / --output-std are for regression; a classifier outputs logits');
  const options = importDataOptions(o, { features, classification, input, output });
  const { dataset, sha256 } = await loadDataset(options);
  const { net, notes } = readHead(read, dataset, modelFile, classification);
  const model = importedModel(net, dataset, { modelFile, format, options, dataSha256: sha256, unknownToken: o.unknownToken });
  const encoded = encodeFloatModel(model);
  // What the device would deliver: the model quantized with the defaults, its test series streamed through the app.
  const {
    model: q,
    report,
    details,
  } = quantizeStep(model, dataset, {
    weightScale: DEFAULT_WEIGHT_SCALE,
    floatModelSha256: sha256Hex(encoded),
    log: (line) => process.stderr.write(line + '\n'),
  });
  const imported: Imported = { modelFile, format, net, model, dataset, report, notes: [...inputNotes(net), ...notes] };
  const lines = importedLines(imported, o);
  const noHistory = 'an imported model was trained elsewhere: no training history here';
  const page = await reportFile(path.dirname(o.out), { command: 'import', lines, q, dataset, report, details, noHistory, board: o.board });
  // The model and its report: both or neither.
  writeFilesAtomic([{ path: o.out, data: encoded }, page]);
  for (const line of lines) console.log(line);
  console.log(`wrote        ${page.path}`);
  if (o.json) printJson(importedJson(imported, o));
}

/** The arguments every import needs, and the model file's format (from its name). */
function checkImportArguments(modelFile: string, o: ImportOptions): { format: ModelFormat; features: string[]; classification: boolean } {
  if (!o.data) throw new UserError('--data <csv> is required: the windows the model is checked, calibrated and scored on');
  if (!o.features) throw new UserError('--features <names> is required');
  const classification = o.label !== undefined;
  if (!classification && !o.target) throw new UserError('give --target <names> (regression) or --label <name> (classification)');
  if (!fs.existsSync(modelFile)) throw new UserError(`${modelFile}: no such file`);
  const other = otherFormat(modelFile);
  if (other) throw new UserError(`${modelFile}: ${other}`);
  const format = modelFile.endsWith('.onnx') ? 'onnx' : modelFile.endsWith('.json') ? 'tfjs-layers' : undefined;
  if (!format) throw new UserError(`${modelFile}: expected a .onnx file or a tfjs-layers model.json`);
  return { format, features: o.features, classification };
}

/** The input normalization: as given, or (a model with an Embedding) token ids read as they are. */
function inputNormalization(net: ImportedNetwork, modelFile: string, featureCount: number, o: ImportOptions): Normalization | undefined {
  const input = givenNorm(o.inputMean, o.inputStd, 'input');
  if (net.inputNorm) {
    if (input)
      throw new UserError(
        `${modelFile}: the model normalizes its input itself (${net.inputNorm.nodes.join(', ')}); leave out --input-mean / --input-std`,
      );
    if (net.inputNorm.mean.length !== featureCount)
      throw new UserError(
        `${modelFile}: the model's own normalization has ${net.inputNorm.mean.length} features, --features names ${featureCount}`,
      );
    return { mean: net.inputNorm.mean, std: net.inputNorm.std };
  }
  if (!net.embedding) return input;
  // Token ids: one feature, read as they are.
  if (featureCount !== 1)
    throw new UserError(`${modelFile}: the model reads token ids (an Embedding); --features names one column of ids, not ${featureCount}`);
  if (input) throw new UserError('--input-mean / --input-std: a model with an Embedding reads token ids as they are');
  if (o.unknownToken >= net.embedding.vocabularySize)
    throw new UserError(`--unknown-token ${o.unknownToken}: the vocabulary has ids 0..${net.embedding.vocabularySize - 1} (0 is padding)`);
  return { mean: [0], std: [1] };
}

/** The data options the windows are built with (and the provenance records): many-to-one, the normalization as given. */
function importDataOptions(
  o: ImportOptions,
  c: { features: string[]; classification: boolean; input?: Normalization; output?: Normalization },
): DataOptions {
  const { classification, input, output } = c;
  return {
    data: path.resolve(o.data!),
    features: c.features,
    task: classification ? 'classification' : 'regression',
    targets: classification ? [] : o.target!,
    label: o.label,
    group: o.group,
    targetMode: classification ? 'level' : o.targetMode,
    window: o.window,
    horizon: o.horizon,
    split: o.split,
    missing: o.missing,
    ...(o.delimiter !== ',' ? { delimiter: o.delimiter } : {}),
    sequence: 'many-to-one',
    ...(input || output ? { normalization: { ...(input ? { input } : {}), ...(output ? { output } : {}) } } : {}),
  };
}

/**
 * The head must fit the data: its activation the task's, its outputs the
 * classes or targets. A classifier exported as logits (a linear head, the
 * usual CrossEntropyLoss / BCEWithLogitsLoss model) is read as the softmax
 * (or, one output, sigmoid) classifier it was trained as: the same class, and
 * the device returns logits either way (NUMERICS.md §8).
 */
function readHead(
  net: ImportedNetwork,
  dataset: Dataset,
  modelFile: string,
  classification: boolean,
): { net: ImportedNetwork; notes: string[] } {
  if (!classification && net.headActivation !== 'linear')
    throw new UserError(`${modelFile}: the head ends in ${net.headActivation}, which is a classifier: pass --label <column>`);
  const classes = dataset.classLabels.length;
  const fromLogits = classification && net.headActivation === 'linear';
  const activation = fromLogits ? (net.head.outputSize === 1 && classes === 2 ? 'sigmoid' : 'softmax') : net.headActivation;
  const outputs = classification ? (activation === 'sigmoid' ? 1 : classes) : dataset.targetNames.length;
  if (activation === 'sigmoid' && classes !== 2)
    throw new UserError(`${modelFile}: a sigmoid head is two classes; the label column has ${classes}`);
  if (net.head.outputSize !== outputs)
    throw new UserError(
      `${modelFile}: the head has ${net.head.outputSize} outputs; the data needs ${outputs} (${classification ? 'classes' : 'targets'})`,
    );
  const notes: string[] = [];
  if (fromLogits)
    notes.push(
      `head         the graph ends in logits (no ${activation === 'sigmoid' ? 'Sigmoid' : 'Softmax'}): read as a ${activation} classifier, the same class (${activation === 'sigmoid' ? 'class 1 when the logit is above 0' : 'the largest logit'}); the device returns logits, as the graph does`,
    );
  if (net.logSoftmax)
    notes.push(
      'head         the graph ends in LogSoftmax: read as softmax, the same class (the largest); the device returns logits, not log-probabilities',
    );
  return { net: { ...net, headActivation: activation }, notes };
}

/** A line on the normalization the graph applies to its own input, when it does. */
function inputNotes(net: ImportedNetwork): string[] {
  const n = net.inputNorm;
  if (!n) return [];
  const list = (v: number[]) => v.map((x) => fmt(x, 4)).join(', ');
  return [
    `input        the graph normalizes its input (${n.nodes.join(', ')}): mean ${list(n.mean)}, std ${list(n.std)}, used instead of --data's`,
  ];
}

/**
 * The formats people try first, each with how to bring it here (one line),
 * or undefined for a file this command reads.
 */
function otherFormat(modelFile: string): string | undefined {
  if (fs.statSync(modelFile).isDirectory())
    return fs.existsSync(path.join(modelFile, 'saved_model.pb'))
      ? 'a TensorFlow SavedModel: convert its Keras model with tensorflowjs_converter --input_format keras_saved_model and import the model.json it writes, or export the network to ONNX'
      : 'a directory; give the model file (model.onnx, or the model.json of a TensorFlow.js layers model)';
  const ext = path.extname(modelFile).toLowerCase();
  if (ext === '.pt' || ext === '.pth')
    return 'a PyTorch checkpoint, which holds Python objects: load the model in Python and export it with torch.onnx.export(model, x, "model.onnx")';
  if (ext === '.h5' || ext === '.keras')
    return 'a Keras model file: convert it with tensorflowjs_converter --input_format keras (pip install tensorflowjs) and import the model.json it writes';
  if (ext === '.tflite')
    return 'a TensorFlow Lite model: import the Keras model it was converted from (converted with tensorflowjs_converter --input_format keras), or export the network to ONNX';
  if (ext === '.pb')
    return 'a TensorFlow graph: convert the Keras model with tensorflowjs_converter --input_format keras, or export the network to ONNX';
  return undefined;
}

/** The float model of an imported network: its layers and head, the data's header, its metrics, and where it came from. */
function importedModel(
  net: ImportedNetwork,
  dataset: Dataset,
  source: { modelFile: string; format: ModelFormat; options: DataOptions; dataSha256: string; unknownToken: number },
): FloatModel {
  const { modelFile, options } = source;
  const bytes = fs.readFileSync(modelFile);
  const embedding: FloatEmbedding | undefined = net.embedding
    ? { ...net.embedding, unknownToken: source.unknownToken, tokens: [] }
    : undefined;
  return {
    ...(embedding ? { embedding } : {}),
    ...headerOfDataset(dataset), // many-to-one: the options above say so
    headActivation: net.headActivation,
    layers: net.layers,
    head: net.head,
    metrics: metrics(net, dataset, embedding),
    provenance: {
      data: options.data,
      dataSha256: source.dataSha256,
      seed: 0,
      toolVersion: TOOL_VERSION,
      createdAt: new Date().toISOString(),
      options: JSON.stringify({
        ...options,
        imported: { file: path.basename(modelFile), format: source.format, sha256: sha256Hex(bytes), producer: net.producer },
      }),
    },
  };
}

/** What an import made: the network as read, its float model, the data, and what the device would deliver. */
interface Imported {
  /** Lines on how the graph was read (its own normalization, a head of logits or LogSoftmax). */
  notes: string[];
  modelFile: string;
  format: ModelFormat;
  net: ImportedNetwork;
  model: FloatModel;
  dataset: Dataset;
  report: QuantizeReport;
}

function importedLines({ modelFile, format, net, model, dataset, report, notes }: Imported, o: ImportOptions): string[] {
  const m = model.metrics;
  return [
    `imported     ${modelFile} (${format}${net.producer ? `, ${net.producer}` : ''}): ${architectureName(model.layers)} -> dense ${net.head.outputSize}${net.headActivation !== 'linear' ? ` (${net.headActivation})` : ''}`,
    ...notes,
    `data         ${path.basename(o.data!)}: ${dataset.train.n} train / ${dataset.validation.n} validation / ${dataset.test.n} test windows of ${dataset.window}`,
    `float ${m.name.padEnd(7)}train ${fmt(m.train)}  validation ${fmt(m.validation)}  test ${fmt(m.test)}`,
    ...deliveredLines(report, model.window),
    `wrote        ${o.out} (next: lstm-mcu quantize ${o.out})`,
  ];
}

function importedJson({ modelFile, format, net, model, report, notes }: Imported, o: ImportOptions) {
  return {
    command: 'import',
    model: modelFile,
    format,
    producer: net.producer,
    out: o.out,
    layers: model.layers.map((l) => ({
      cell: l.cell,
      units: l.units,
      bidirectional: l.backward ? l.merge : null,
      ...(l.readout ? { readout: l.readout } : {}),
      reverse: l.reverse === true,
    })),
    metrics: model.metrics,
    notes: notes.map((line) => line.slice(13)),
    ...deliveredJson(report),
  };
}
