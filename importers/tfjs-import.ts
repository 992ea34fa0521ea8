/**
 * A TensorFlow.js layers model (model.json + its weight files; also what a
 * Keras model converted for TensorFlow.js looks like) -> the recurrent
 * network of a float model.
 *
 * Read as data, without TensorFlow.js: the topology's layers in order
 * (InputLayer, Embedding with mask_zero, LSTM, GRU, SimpleRNN, Bidirectional
 * of one of them, Dropout, Dense),
 * and the float32 weights of the manifest, found by name as tfjs-layers
 * finds them (keras-weight-names.ts: the names TensorFlow.js saves, Keras
 * >= 2.2's layer/cell/weight, Keras 3's by index). Keras' layouts are this
 * project's (core/model.ts): kernel [input][G*units] with gates i, f, c, o
 * (LSTM) or z, r, h (GRU), recurrent kernel [units][G*units], GRU
 * reset_after bias [2][3*units] (input, recurrent).
 *
 * go_backwards: a Keras layer with it reads its input last step first and
 * returns its outputs in that order, so everything above it reads a reversed
 * sequence. Each layer becomes a forward or a reverse one by the order it
 * really reads time in; a Bidirectional layer over a reversed sequence has its
 * halves exchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gateCount, type CellKind, type FloatRecurrentLayer, type HeadActivation, type MergeMode } from '../core/model.ts';
import { UserError } from '../core/errors.ts';
import { depthGatedImportRefusal } from './depth-gated-refusal.ts';
import type { ImportedNetwork } from './onnx-import.ts';
import { namedByIndex, weightFinder, type ManifestWeight } from './keras-weight-names.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- model.json is untyped JSON */
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** The model's weights by name, from its manifest and weight files. */
function readWeights(modelPath: string, manifest: any[]): Map<string, ManifestWeight> {
  const dir = path.dirname(modelPath);
  const weights = new Map<string, ManifestWeight>();
  for (const group of manifest) {
    const buffers = (group.paths as string[]).map((p) => {
      const file = path.join(dir, p);
      try {
        return fs.readFileSync(file);
      } catch {
        throw new UserError(`${modelPath}: weight file ${p} is missing (it belongs beside model.json)`);
      }
    });
    const bytes = Buffer.concat(buffers);
    let at = 0;
    for (const w of group.weights as WeightSpec[]) {
      if (w.dtype !== 'float32') throw new UserError(`${modelPath}: weight '${w.name}' is ${w.dtype}; lstm-mcu reads float32 weights`);
      if (w.quantization)
        throw new UserError(`${modelPath}: weight '${w.name}' is stored quantized; convert the model without weight quantization`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (at + 4 * n > bytes.length)
        throw new UserError(`${modelPath}: the weight files end before weight '${w.name}' (shape [${w.shape.join(', ')}])`);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(at + 4 * i);
      at += 4 * n;
      weights.set(w.name, { shape: w.shape, data });
    }
  }
  return weights;
}

/** A kernel [2*half][cols] row-major with its two row halves exchanged (its input [a, b] read as [b, a]). */
function swapInputHalves(kernel: Float32Array, cols: number, half: number): Float32Array {
  const out = new Float32Array(kernel.length);
  out.set(kernel.subarray(half * cols, 2 * half * cols), 0);
  out.set(kernel.subarray(0, half * cols), half * cols);
  return out;
}

const RECURRENT: Record<string, 'lstm' | 'gru' | 'rnn'> = { LSTM: 'lstm', GRU: 'gru', SimpleRNN: 'rnn' };
/** Keras' default activations, as they appear in configs. */
const isSigmoid = (a: unknown) => a === 'sigmoid';
const isTanh = (a: unknown) => a === 'tanh';

/** The chain of layers read so far. */
interface ChainState {
  layers: FloatRecurrentLayer[];
  inputSize: number;
  head?: ImportedNetwork['head'];
  headActivation: HeadActivation;
  lastReturnsSequences: boolean;
  embedding?: ImportedNetwork['embedding'];
  /**
   * Keras' go_backwards returns its sequence in the order it read it, last step first, so the layers above it
   * read the window backwards. Ours pass every sequence up in time order (core/model.ts).
   */
  reversedBelow: boolean;
  /**
   * A Bidirectional layer over a reversed sequence: its Keras forward half reads backwards and becomes our
   * backward direction, so its concat output is [h_b, h_f] in ours; the next kernel's input rows swap halves.
   */
  swapHalvesBelow: number;
}

/** What a layer's handler sees: its config, where it is (for errors), the weights, and the chain so far. */
interface LayerContext {
  entry: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  cls: string;
  cfg: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  where: string;
  fail: (why: string) => never;
  /** A weight of a layer: by its name, or (Keras 3 names) by its index among the layer's weights. */
  weight: (layer: string, name: string, index: number, where: string) => ManifestWeight;
  st: ChainState;
}

/** An Embedding (first, with mask_zero): the token table. */
function embeddingLayer({ cfg, where, fail, weight, st }: LayerContext): void {
  if (st.layers.length > 0 || st.embedding) fail('an Embedding layer must come first');
  // lstm-mcu's token 0 is padding: a step on it changes nothing (NUMERICS.md §3a), which is Keras' mask_zero.
  if (!cfg.mask_zero)
    fail(
      'mask_zero = false: lstm-mcu reads token 0 as padding (a step that changes nothing), which is mask_zero = true; retrain with maskZero: true',
    );
  const t = weight(cfg.name, 'embeddings', 0, where);
  if (t.shape.join() !== [cfg.input_dim, cfg.output_dim].join())
    fail(`embeddings have shape [${t.shape}], expected [${cfg.input_dim}, ${cfg.output_dim}]`);
  st.embedding = { vocabularySize: cfg.input_dim, dim: cfg.output_dim, table: t.data };
  st.inputSize = cfg.output_dim;
}

/** LSTM, GRU, SimpleRNN, or a Bidirectional around one: a recurrent layer of the chain. */
function recurrentKerasLayer({ entry, cls, cfg, where, fail, weight, st }: LayerContext): void {
  if (!st.lastReturnsSequences) fail('reads a recurrent layer that does not return sequences (return_sequences = false)');
  const inner = cls === 'Bidirectional' ? cfg.layer : entry;
  const innerCls: string = inner.class_name;
  const c = inner.config ?? {};
  if (!RECURRENT[innerCls]) fail(`wraps ${innerCls}; Bidirectional is imported around LSTM, GRU or SimpleRNN`);
  if (c.go_backwards && cls === 'Bidirectional')
    fail('wraps a layer with go_backwards = true; Bidirectional is imported around forward st.layers');
  if (c.stateful) fail('stateful = true is not supported: the device starts every window from a zero state');
  if (c.use_bias === false) fail('use_bias = false is not supported');
  if (!isTanh(c.activation)) fail(`activation '${c.activation}' is not supported (only tanh)`);
  if (innerCls !== 'SimpleRNN' && !isSigmoid(c.recurrent_activation))
    fail(
      `recurrent_activation '${c.recurrent_activation}' is not supported (only sigmoid; TensorFlow.js defaults to hard_sigmoid, set recurrentActivation: 'sigmoid')`,
    );
  const kind = RECURRENT[innerCls];
  const cell: CellKind = kind === 'gru' ? (c.reset_after ? 'gru-reset-after' : 'gru') : kind;
  const units: number = c.units;
  const below =
    st.layers.length === 0
      ? st.inputSize
      : st.layers[st.layers.length - 1].backward && st.layers[st.layers.length - 1].merge !== 'sum'
        ? 2 * st.layers[st.layers.length - 1].units
        : st.layers[st.layers.length - 1].units;
  // first: the index of its kernel among the layer's weights (a Bidirectional's backward half follows its forward half)
  const direction = (name: string, first: number): FloatRecurrentLayer => {
    const k = weight(name, 'kernel', first, where);
    const rk = weight(name, 'recurrent_kernel', first + 1, where);
    const b = weight(name, 'bias', first + 2, where);
    const G = gateCount(cell);
    const I = k.shape[0];
    if (below > 0 && I !== below) fail(`kernel reads ${I} inputs, the layer below gives ${below}`);
    if (k.shape[1] !== G * units || rk.shape.join() !== [units, G * units].join())
      fail(`kernel shapes [${k.shape}] / [${rk.shape}] do not fit ${units} units`);
    const kernel = st.swapHalvesBelow ? swapInputHalves(k.data, G * units, st.swapHalvesBelow) : k.data;
    const layer: FloatRecurrentLayer = { cell, inputSize: I, units, kernel, recurrentKernel: rk.data, bias: b.data };
    if (cell === 'gru-reset-after') {
      if (b.shape.join() !== [2, 3 * units].join()) fail(`a reset_after GRU's bias is [2, ${3 * units}], here [${b.shape}]`);
      layer.bias = b.data.slice(0, 3 * units);
      layer.recurrentBias = b.data.slice(3 * units);
    }
    return layer;
  };
  const innerName: string = c.name;
  if (cls === 'Bidirectional') {
    const merge: string = cfg.merge_mode ?? 'concat';
    if (merge !== 'concat' && merge !== 'sum') fail(`merge_mode '${merge}' is not supported (concat or sum)`);
    const base: string = cfg.name;
    const kerasForward = direction(`${base}/forward_${innerName}`, 0);
    const kerasBackward = direction(`${base}/backward_${innerName}`, 3);
    if (!st.reversedBelow) st.layers.push({ ...kerasForward, backward: kerasBackward, merge: merge as MergeMode });
    else st.layers.push({ ...kerasBackward, backward: kerasForward, merge: merge as MergeMode });
    st.swapHalvesBelow = st.reversedBelow && merge === 'concat' ? units : 0;
  } else {
    // it reads time backwards when exactly one of go_backwards and the order of its input says so
    const reverse = st.reversedBelow !== Boolean(c.go_backwards);
    const layer = direction(innerName, 0);
    st.layers.push(reverse ? { ...layer, reverse: true } : layer);
    st.reversedBelow = reverse;
    st.swapHalvesBelow = 0;
  }
  if (st.layers.length === 1) st.inputSize = st.layers[0].inputSize;
  st.lastReturnsSequences = Boolean(c.return_sequences);
}

/** The Dense head on the last recurrent layer's final state. */
function denseLayer({ cfg, where, fail, weight, st }: LayerContext): void {
  if (st.layers.length === 0) fail('comes before any recurrent layer');
  if (st.lastReturnsSequences)
    fail('reads a recurrent layer that returns sequences; lstm-mcu imports a st.head on the final state (return_sequences = false)');
  const act = cfg.activation ?? 'linear';
  if (!['linear', 'sigmoid', 'softmax'].includes(act)) fail(`activation '${act}' is not supported (linear, sigmoid or softmax)`);
  const k = weight(cfg.name, 'kernel', 0, where);
  const b = cfg.use_bias === false ? { data: new Float32Array(k.shape[1]) } : weight(cfg.name, 'bias', 1, where);
  if (act === 'sigmoid' && k.shape[1] !== 1) fail(`a sigmoid st.head with ${k.shape[1]} outputs (multi-label) is not supported`);
  st.head = {
    inputSize: k.shape[0],
    outputSize: k.shape[1],
    kernel: st.swapHalvesBelow ? swapInputHalves(k.data, k.shape[1], st.swapHalvesBelow) : k.data,
    bias: b.data,
  };
  st.headActivation = act as HeadActivation;
}

/** The layers the importer reads, each by its handler (InputLayer and Dropout read nothing). */
const LAYERS: Record<string, (c: LayerContext) => void> = {
  InputLayer: () => {},
  Dropout: () => {}, // inactive at inference
  Embedding: embeddingLayer,
  ...Object.fromEntries(Object.keys(RECURRENT).map((k) => [k, recurrentKerasLayer])),
  Bidirectional: recurrentKerasLayer,
  Dense: denseLayer,
};

/** A TensorFlow.js layers model (model.json and its weight files): a chain of recurrent layers and a dense head. */
export function importTfjsLayers(modelPath: string): ImportedNetwork {
  let json: any;
  try {
    json = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${modelPath}: not a TensorFlow.js model.json (${(e as Error).message.split('\n')[0]})`);
  }
  if (json?.format === 'graph-model' || json?.modelTopology?.node)
    throw new UserError(
      `${modelPath}: a TensorFlow.js graph model (what tensorflowjs_converter writes for a SavedModel); lstm-mcu reads layers models: convert the Keras model with tensorflowjs_converter --input_format keras, or export the network to ONNX`,
    );
  const topology = json?.modelTopology?.model_config ?? json?.modelTopology;
  const configLayers: any[] | undefined = topology?.config?.layers ?? topology?.config;
  if (!Array.isArray(configLayers) || !Array.isArray(json.weightsManifest))
    throw new UserError(`${modelPath}: not a TensorFlow.js layers model (no modelTopology layers or weightsManifest)`);
  if (topology.class_name !== 'Sequential' && !configLayers.every((l, i) => i === 0 || (l.inbound_nodes?.[0]?.length ?? 1) === 1)) {
    throw new UserError(`${modelPath}: a functional model with branches; lstm-mcu imports a chain of layers (Sequential)`);
  }
  const weights = readWeights(modelPath, json.weightsManifest);
  const find = weightFinder(weights);
  const names = [...weights.keys()];
  const weight = (layer: string, name: string, index: number, where: string) => {
    const w = find(layer, name, index);
    if (!w)
      throw new UserError(
        `${where}: weight '${layer}/${namedByIndex(names) ? index : name}' is not in the weights manifest (it holds ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''})`,
      );
    return w;
  };
  const st: ChainState = {
    layers: [],
    inputSize: -1,
    headActivation: 'linear',
    lastReturnsSequences: true,
    reversedBelow: false,
    swapHalvesBelow: 0,
  };
  configLayers.forEach((entry, index) => {
    const cls: string = entry.class_name;
    const cfg = entry.config ?? {};
    const where = `${modelPath}: layer ${index} '${cfg.name ?? cls}' (${cls})`;
    const fail = (why: string): never => {
      throw new UserError(`${where}: ${why}`);
    };
    if (st.head) fail('comes after the dense head; lstm-mcu imports recurrent layers followed by one Dense layer');
    const shape = cfg.batch_input_shape ?? cfg.batchInputShape ?? cfg.batch_shape; // batch_shape: Keras 3
    if (Array.isArray(shape) && st.inputSize < 0 && cls !== 'Embedding') st.inputSize = shape[shape.length - 1];
    const depthGated = depthGatedImportRefusal(cls);
    if (depthGated) fail(depthGated);
    const handler = Object.hasOwn(LAYERS, cls) ? LAYERS[cls] : undefined;
    if (!handler) fail('this layer is not supported (InputLayer, Embedding, LSTM, GRU, SimpleRNN, Bidirectional, Dropout and Dense are)');
    handler!({ entry, cls, cfg, where, fail, weight, st });
  });
  if (!st.head) throw new UserError(`${modelPath}: no Dense head after the recurrent layers`);
  if (st.layers.length === 0) throw new UserError(`${modelPath}: no recurrent layer`);
  return {
    inputSize: st.inputSize,
    inputLayout: 'batch-first',
    ...(st.embedding ? { embedding: st.embedding } : {}),
    layers: st.layers,
    head: st.head,
    headActivation: st.headActivation,
    producer: [json.generatedBy, json.convertedBy].filter(Boolean).join(', '),
  };
}
