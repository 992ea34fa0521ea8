/**
 * A model trained elsewhere -> a float model of this pipeline (the `import`
 * step): an ONNX file (PyTorch) or a TensorFlow.js / Keras layers model
 * (model.json), read into the pipeline's layers, its head fitted to the data
 * it was trained on, scored on that data's windows as `train` scores its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { fmt } from '../core/format.ts';
import { headerOfDataset, loadDataset, metricName, splitMetric, type DataOptions } from './train.ts';
import { readOnnx } from '../importers/onnx-model.ts';
import { importOnnx, type ImportedNetwork } from '../importers/onnx-import.ts';
import { importTfjsLayers } from '../importers/tfjs-import.ts';
import { floatWindowOutputs } from '../reference/float-outputs.ts';
import type { FloatEmbedding, FloatModel, Normalization, TargetMode } from '../core/model.ts';
import type { Dataset, Split, SplitFractions } from '../data/windows.ts';
import { sha256Hex } from '../core/artifact.ts';
import { TOOL_VERSION } from '../core/version.ts';
import type { Delimiter, MissingPolicy } from '../data/csv.ts';

export type ModelFormat = 'onnx' | 'tfjs-layers';

/** The data the model was trained on and how it was normalized (the `import` command's options). */
export interface ImportStepOptions {
  /** The CSV the windows are built from: the model is checked, calibrated and scored on them. */
  data: string;
  features: string[];
  /** Regression: the target columns (or `label` for classification). */
  target?: string[];
  label?: string;
  group?: string;
  targetMode: TargetMode;
  window: number;
  horizon: number;
  split: SplitFractions;
  missing: MissingPolicy;
  delimiter: Delimiter;
  /** The normalization the model was trained with; absent: the training rows' statistics. */
  inputMean?: number[];
  inputStd?: number[];
  outputMean?: number[];
  outputStd?: number[];
  /** A model with an Embedding: the id an id outside the vocabulary reads as. */
  unknownToken: number;
}

/** What an import made: the network as read, its float model and the data's windows. */
export interface ImportStepResult {
  model: FloatModel;
  dataset: Dataset;
  format: ModelFormat;
  net: ImportedNetwork;
  /** Lines on how the graph was read (its own normalization, a head of logits or LogSoftmax). */
  notes: string[];
}

export async function importStep(modelFile: string, o: ImportStepOptions): Promise<ImportStepResult> {
  const classification = o.label !== undefined;
  if (!classification && !o.target) throw new UserError('give --target <names> (regression) or --label <name> (classification)');
  const format = modelFormat(modelFile);
  const read = format === 'onnx' ? importOnnx(readOnnx(modelFile), modelFile) : importTfjsLayers(modelFile);
  if (!read.embedding && read.inputSize !== o.features.length)
    throw new UserError(
      `${modelFile}: the model reads ${read.inputSize} features per step, --features names ${o.features.length} (${o.features.join(', ')})`,
    );
  const input = inputNormalization(read, modelFile, o.features.length, o);
  const output = givenNorm(o.outputMean, o.outputStd, 'output');
  if (output && classification) throw new UserError('--output-mean / --output-std are for regression; a classifier outputs logits');
  const options = importDataOptions(o, { classification, input, output });
  const { dataset, sha256 } = await loadDataset(options);
  const { net, notes } = readHead(read, dataset, modelFile, classification);
  const model = importedModel(net, dataset, { modelFile, format, options, dataSha256: sha256, unknownToken: o.unknownToken });
  return { model, dataset, format, net, notes: [...inputNotes(net), ...notes] };
}

/** The model file's format (from its name), or one line on the file this step does not read. */
function modelFormat(modelFile: string): ModelFormat {
  if (!fs.existsSync(modelFile)) throw new UserError(`${modelFile}: no such file`);
  const other = otherFormat(modelFile);
  if (other) throw new UserError(`${modelFile}: ${other}`);
  const format = modelFile.endsWith('.onnx') ? 'onnx' : modelFile.endsWith('.json') ? 'tfjs-layers' : undefined;
  if (!format) throw new UserError(`${modelFile}: expected a .onnx file or a tfjs-layers model.json`);
  return format;
}

/** The normalization given, if any (both mean and std, or neither). */
function givenNorm(mean: number[] | undefined, std: number[] | undefined, what: string): Normalization | undefined {
  if ((mean === undefined) !== (std === undefined)) throw new UserError(`--${what}-mean and --${what}-std go together`);
  return mean && std ? { mean, std } : undefined;
}

/** The network's outputs per window against every split: the metric the trainer reports. */
function metrics(net: ImportedNetwork, ds: Dataset, embedding: FloatEmbedding | undefined) {
  const run = (split: Split) => splitMetric(ds, split, floatWindowOutputs({ ...net, embedding }, split.x, ds.window));
  return { name: metricName(ds.task), train: run(ds.train), validation: run(ds.validation), test: run(ds.test) };
}

/** The input normalization: as given, or (a model with an Embedding) token ids read as they are. */
function inputNormalization(
  net: ImportedNetwork,
  modelFile: string,
  featureCount: number,
  o: ImportStepOptions,
): Normalization | undefined {
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
  o: ImportStepOptions,
  c: { classification: boolean; input?: Normalization; output?: Normalization },
): DataOptions {
  const { classification, input, output } = c;
  return {
    data: path.resolve(o.data),
    features: o.features,
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
