/**
 * What the ONNX importer knows about each value of a graph (a sequence, final
 * states, a head, shape arithmetic, a constant), and what an operator's
 * handler sees of its node.
 */
import type { FloatRecurrentLayer, HeadActivation, MergeMode } from '../core/model.ts';
import { UserError } from '../core/errors.ts';
import type { OnnxNode, Tensor } from './onnx-model.ts';

/** Axis roles: s time step, b batch, d direction (or stacked states), f features. */
export type Axis = 's' | 'b' | 'd' | 'f';
/** A direction of a recurrent layer. */
export interface Dir {
  layer: number;
  dir: 0 | 1;
}

export type Value =
  | { k: 'const'; t: Tensor }
  | { k: 'shape' }
  | { k: 'fill'; value: number }
  /** A tensor computed from weights that is none of the above (a learned initial state broadcast over the batch). */
  | { k: 'param'; from: string; nonzero: boolean }
  /**
   * A sequence: the model input, or a layer's outputs (both directions concatenated). `length1`: sliced to one step.
   * The model input may carry the affine map the graph applies to it before the first layer, and be a
   * univariate [batch, steps] input given its feature axis by an Unsqueeze.
   */
  | { k: 'seq'; axes: Axis[]; src: number | 'input'; length1?: 'last'; perm?: number[]; affine?: InputAffine; unsqueezed?: boolean }
  /** A layer's raw Y, with its direction axis. */
  | { k: 'ydir'; axes: Axis[]; layer: number }
  /** Final hidden states along axis 'd' (Y_h, or a concatenation of them). */
  | { k: 'finals'; axes: Axis[]; items: Dir[] }
  /**
   * One vector per batch row: final states of directions, concatenated or summed.
   * `lastStep`: a bidirectional layer's output at the last step, [forward, backward]
   * (the backward direction there has read one step).
   */
  | { k: 'vec'; parts: Dir[]; merge: MergeMode | 'one'; lastStep?: true }
  | {
      k: 'head';
      inputs: Dir[];
      merge: MergeMode | 'one';
      /** It reads a bidirectional layer's output at the last step (see 'vec'). */
      lastStep?: true;
      kernel: Float64Array;
      bias: Float64Array;
      inputSize: number;
      outputSize: number;
      activation: HeadActivation;
      /** Read as softmax, but the graph computes log-softmax. */
      logSoftmax?: boolean;
    }
  | { k: 'cell-state' };

/**
 * What the graph computes on its input before the first recurrent layer, in
 * order: its own normalization (x - mean) / std per feature (one value:
 * every feature), then optionally a Linear x·W + b.
 */
export interface InputAffine {
  mean: number[];
  std: number[];
  linear?: { w: Float64Array; b: Float64Array; inSize: number; outSize: number };
  /** The nodes that compute it, for messages; the Linear's from `linearFrom` on. */
  nodes: string[];
  linearFrom?: number;
}

export interface LayerBuild {
  layer: FloatRecurrentLayer;
  bidirectional: boolean;
  node: string;
}

export const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);

/** The graph as interpreted so far: what each name holds, the recurrent layers, the model input. */
export interface GraphState {
  values: Map<string, Value>;
  layers: LayerBuild[];
  inputSize: number;
  inputAxes: Axis[];
  /** The graph's own input normalization (per feature), when it has one. */
  inputNorm?: { mean: number[]; std: number[]; nodes: string[] };
}

/** What an operator's handler sees: its node, its inputs read and checked, and where to put its outputs. */
export interface NodeContext {
  node: OnnxNode;
  where: string;
  fail: (why: string) => never;
  input: (i: number) => Value | undefined;
  constant: (i: number, what: string) => Tensor;
  set: (v: Value, output?: number) => void;
  attr: <T>(name: string, fallback: T) => T;
  onlyAttributes: (allowed: string[]) => void;
  layers: LayerBuild[];
  graph: GraphState;
}

export function nodeContext(node: OnnxNode, path: string, graph: GraphState): NodeContext {
  const { values } = graph;
  const where = `${path}: node '${node.name}' (${node.opType})`;
  const fail = (why: string): never => {
    throw new UserError(`${where}: ${why}`);
  };
  const input = (i: number): Value | undefined => {
    const name = node.inputs[i];
    if (name === undefined || name === '') return undefined;
    const v = values.get(name);
    if (!v) fail(`input '${name}' is not produced by any earlier node`);
    return v;
  };
  const constant = (i: number, what: string): Tensor => {
    const v = input(i);
    if (v && (v.k === 'shape' || v.k === 'param'))
      return fail(
        `${what} (input ${i}) is computed in the graph, not stored: export with do_constant_folding=True (torch.onnx.export's default) so that it is a constant tensor`,
      );
    if (!v || v.k !== 'const') return fail(`${what} (input ${i}) must be a constant tensor`);
    return v.t;
  };
  const set = (v: Value, output = 0) => values.set(node.outputs[output], v);
  const attr = <T>(name: string, fallback: T): T => (node.attributes.has(name) ? (node.attributes.get(name) as T) : fallback);
  const onlyAttributes = (allowed: string[]) => {
    for (const name of node.attributes.keys()) if (!allowed.includes(name)) fail(`attribute '${name}' is not supported`);
  };
  return { node, where, fail, input, constant, set, attr, onlyAttributes, layers: graph.layers, graph };
}

export function normAxis(axis: number, rank: number, fail: (why: string) => never): number {
  const a = axis < 0 ? rank + axis : axis;
  if (a < 0 || a >= rank) fail(`axis ${axis} is outside the ${rank} axes of its input`);
  return a;
}

/** The one value a constant or fill holds throughout, if it does. */
export function uniformValue(v: Value): number | undefined {
  if (v.k === 'fill') return v.value;
  if (v.k === 'const' && v.t.data.length > 0 && v.t.data.every((x) => x === v.t.data[0])) return v.t.data[0];
  return undefined;
}
