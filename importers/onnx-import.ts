/**
 * ONNX graph -> the recurrent network of a float model (layers, head, head
 * activation), in this project's tensor layouts (core/model.ts).
 *
 * The graph is read by following what each value means rather than its
 * numbers: the input sequence, a layer's output sequence, the final hidden
 * states of its directions, the last step, the head. Shape arithmetic
 * (Shape, Gather, Concat, ConstantOfShape, as PyTorch exports for zero
 * initial states) is followed far enough to prove that initial states are
 * zero. Every other construct is refused, naming the node, its operator and
 * the attribute or input at fault.
 *
 * Gate orders: ONNX LSTM rows are i, o, f, c (peepholes i, o, f); ours are
 * i, f, g, o (peepholes i, f, o). ONNX GRU rows z, r, h match ours. ONNX B is
 * [Wb, Rb]: both fold into our bias, except that a GRU with
 * linear_before_reset = 1 keeps Rb apart (our gru-reset-after recurrent bias).
 * direction = reverse is our reverse layer: its Y is in time order, as ours,
 * and its Y_h is its state after the first step, which our head reads.
 */
import type { CellKind, FloatDenseLayer, FloatRecurrentLayer, HeadActivation, MergeMode } from '../core/model.ts';
import { UserError } from '../core/errors.ts';
import type { OnnxGraph, OnnxNode, Tensor } from './onnx-model.ts';

export interface ImportedNetwork {
  inputSize: number;
  /** How the graph's input is laid out. */
  inputLayout: 'batch-first' | 'steps-first';
  /** What wrote the file (producer name and version), if it says. */
  producer: string;
  /** Token-id input (tfjs-layers Embedding with mask_zero): the table; layers[0] reads its rows. */
  embedding?: { vocabularySize: number; dim: number; table: Float32Array };
  layers: FloatRecurrentLayer[];
  head: FloatDenseLayer;
  headActivation: HeadActivation;
}

/** Axis roles: s time step, b batch, d direction (or stacked states), f features. */
type Axis = 's' | 'b' | 'd' | 'f';
/** A direction of a recurrent layer. */
interface Dir {
  layer: number;
  dir: 0 | 1;
}

type Value =
  | { k: 'const'; t: Tensor }
  | { k: 'shape' }
  | { k: 'fill'; value: number }
  /** A sequence: the model input, or a layer's outputs (both directions concatenated). `length1`: sliced to one step. */
  | { k: 'seq'; axes: Axis[]; src: number | 'input'; length1?: 'last'; perm?: number[] }
  /** A layer's raw Y, with its direction axis. */
  | { k: 'ydir'; axes: Axis[]; layer: number }
  /** Final hidden states along axis 'd' (Y_h, or a concatenation of them). */
  | { k: 'finals'; axes: Axis[]; items: Dir[] }
  /** One vector per batch row: final states of directions, concatenated or summed. */
  | { k: 'vec'; parts: Dir[]; merge: MergeMode | 'one' }
  | {
      k: 'head';
      inputs: Dir[];
      merge: MergeMode | 'one';
      kernel: Float64Array;
      bias: Float64Array;
      inputSize: number;
      outputSize: number;
      activation: HeadActivation;
    }
  | { k: 'cell-state' };

interface LayerBuild {
  layer: FloatRecurrentLayer;
  bidirectional: boolean;
  node: string;
}

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);

/** The graph as interpreted so far: what each name holds, the recurrent layers, the model input. */
interface GraphState {
  values: Map<string, Value>;
  layers: LayerBuild[];
  inputSize: number;
  inputAxes: Axis[];
}

/** What an operator's handler sees: its node, its inputs read and checked, and where to put its outputs. */
interface NodeContext {
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

function nodeContext(node: OnnxNode, path: string, graph: GraphState): NodeContext {
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

/** An LSTM, GRU or RNN node: its input must be the model input or the layer below's sequence. */
function recurrentOp(c: NodeContext): void {
  const { node, fail, input, set, attr, graph } = c;
  const { layers } = graph;
  const x = input(0);
  if (!x || x.k !== 'seq' || x.length1) fail('input X must be the model input or the output sequence of the layer before');
  const seq = x as Extract<Value, { k: 'seq' }>;
  const layout = attr<number>('layout', 0);
  const want: Axis[] = layout === 0 ? ['s', 'b', 'f'] : ['b', 's', 'f'];
  if (seq.src === 'input' && seq.axes.length === 0) {
    // The raw graph input: its axes are what this layer reads, undone through any transposes on the way.
    const perm = seq.perm ?? [0, 1, 2];
    const original: Axis[] = [];
    perm.forEach((p, i) => (original[p] = want[i]));
    graph.inputAxes = original;
    seq.axes = want;
  }
  if (seq.axes.join('') !== want.join(''))
    fail(`input X has axes [${seq.axes.join(', ')}] (s: step, b: batch, f: feature) but layout ${layout} reads [${want.join(', ')}]`);
  const expectedSrc = layers.length === 0 ? 'input' : layers.length - 1;
  if (seq.src !== expectedSrc)
    fail(
      `input X must be ${expectedSrc === 'input' ? 'the model input' : `the output sequence of the recurrent layer before (node '${layers[layers.length - 1].node}')`}`,
    );
  const built = recurrentLayer(c);
  const wantInput = layers.length === 0 ? undefined : layerWidth(layers[layers.length - 1]);
  if (wantInput !== undefined && built.layer.inputSize !== wantInput)
    fail(`W reads ${built.layer.inputSize} features, the layer before gives ${wantInput}`);
  if (layers.length === 0) graph.inputSize = built.layer.inputSize;
  layers.push(built);
  const id = layers.length - 1;
  set({ k: 'ydir', axes: layout === 0 ? ['s', 'd', 'b', 'f'] : ['b', 's', 'd', 'f'], layer: id }, 0);
  if (node.outputs[1])
    set(
      {
        k: 'finals',
        axes: layout === 0 ? ['d', 'b', 'f'] : ['b', 'd', 'f'],
        items: built.bidirectional
          ? [
              { layer: id, dir: 0 },
              { layer: id, dir: 1 },
            ]
          : [{ layer: id, dir: 0 }],
      },
      1,
    );
  if (node.outputs[2]) set({ k: 'cell-state' }, 2);
}

/** Constant */
function constantOp({ node, fail, set }: NodeContext): void {
  const t = node.attributes.get('value');
  if (!t || typeof t !== 'object' || Array.isArray(t)) {
    const scalar = node.attributes.get('value_float') ?? node.attributes.get('value_int');
    const list = node.attributes.get('value_floats') ?? node.attributes.get('value_ints');
    if (typeof scalar === 'number') set({ k: 'const', t: { dims: [], data: Float64Array.of(scalar) } });
    else if (Array.isArray(list)) set({ k: 'const', t: { dims: [list.length], data: Float64Array.from(list as number[]) } });
    else fail('only tensor, float and int constants are supported');
  } else set({ k: 'const', t: t as Tensor });
}

/** Identity */
function identityOp({ input, set }: NodeContext): void {
  set(input(0)!);
}

/** Shape */
function shapeOp({ set }: NodeContext): void {
  set({ k: 'shape' });
}

/** ConstantOfShape */
function constantOfShapeOp({ node, set }: NodeContext): void {
  const t = node.attributes.get('value') as Tensor | undefined;
  set({ k: 'fill', value: t ? t.data[0] : 0 });
}

/** The one value a constant or fill holds throughout, if it does. */
function uniformValue(v: Value): number | undefined {
  if (v.k === 'fill') return v.value;
  if (v.k === 'const' && v.t.data.length > 0 && v.t.data.every((x) => x === v.t.data[0])) return v.t.data[0];
  return undefined;
}

/**
 * Expand / Tile: PyTorch's default export (no dynamic_axes) builds a zero
 * initial state as a zero constant expanded over a shape read from the input.
 * A constant of one value, broadcast to any shape, is that value everywhere.
 */
function broadcastOp({ node, fail, input, set }: NodeContext): void {
  const value = uniformValue(input(0)!);
  const shape = input(1);
  if (value === undefined || !shape || (shape.k !== 'shape' && shape.k !== 'const'))
    fail(
      `is only supported to broadcast a constant of one value over a shape (as an initial state of zeros); input '${node.inputs[0]}' is not one`,
    );
  set({ k: 'fill', value: value! });
}

/** Unsqueeze / Cast */
function unsqueezeOp({ fail, input, set }: NodeContext): void {
  const v = input(0)!;
  if (v.k === 'shape' || v.k === 'const' || v.k === 'fill') set(v.k === 'const' ? { k: 'shape' } : v);
  else fail('is only supported on shape computations');
}

/** Gather */
function gatherOp({ fail, input, constant, set, attr, layers }: NodeContext): void {
  const v = input(0)!;
  const axis = attr<number>('axis', 0);
  if (v.k === 'shape') {
    set({ k: 'shape' });
    return;
  }
  const index = constant(1, 'indices');
  if (index.dims.length !== 0) fail('only a single (scalar) index is supported');
  const k = index.data[0];
  if (v.k === 'seq') {
    const ax = normAxis(axis, v.axes.length, fail);
    if (v.axes[ax] !== 's' || k !== -1)
      fail(
        `only the last step (index -1 on the step axis) of a sequence can be taken; this takes index ${k} of axis ${ax} (${v.axes[ax]})`,
      );
    set(lastStep(v, layers, fail));
  } else if (v.k === 'finals') {
    const ax = normAxis(axis, v.axes.length, fail);
    if (v.axes[ax] !== 'd') fail('final states can only be indexed on their direction axis');
    const i = k < 0 ? v.items.length + k : k;
    if (i < 0 || i >= v.items.length) fail(`index ${k} is outside the ${v.items.length} final states`);
    set({ k: 'vec', parts: [v.items[i]], merge: 'one' });
  } else fail('is only supported on shapes, the last step of a sequence, and final states');
}

/** Slice */
function sliceOp({ node, fail, input, constant, set }: NodeContext): void {
  const v = input(0)!;
  if (v.k === 'fill' || v.k === 'shape') {
    set(v);
    return;
  }
  const starts = constant(1, 'starts').data;
  const ends = constant(2, 'ends').data;
  const axes = node.inputs[3] ? Array.from(constant(3, 'axes').data) : [0];
  const steps = node.inputs[4] ? Array.from(constant(4, 'steps').data) : [1];
  if (starts.length !== 1 || axes.length !== 1 || steps[0] !== 1) fail('only a slice of one axis with step 1 is supported');
  if (v.k === 'seq') {
    const ax = normAxis(axes[0], v.axes.length, fail);
    if (v.axes[ax] !== 's' || starts[0] !== -1 || ends[0] < 0)
      fail('a sequence can only be sliced to its last step ([-1:] on the step axis)');
    set({ ...v, length1: 'last' });
  } else if (v.k === 'finals') {
    const ax = normAxis(axes[0], v.axes.length, fail);
    if (v.axes[ax] !== 'd') fail('final states can only be sliced on their direction axis');
    const n = v.items.length;
    const clamp = (i: number) => Math.max(0, Math.min(n, i < 0 ? n + i : i));
    set({ ...v, items: v.items.slice(clamp(starts[0]), clamp(ends[0])) });
  } else fail('is only supported on shapes, sequences and final states');
}

/** Squeeze */
function squeezeOp({ node, fail, input, constant, set, attr, layers }: NodeContext): void {
  const v = input(0)!;
  const axes = node.inputs[1] ? Array.from(constant(1, 'axes').data) : (attr<number[]>('axes', []) as number[]);
  if (axes.length !== 1) fail('only a squeeze of one axis is supported');
  if (v.k === 'ydir') {
    const ax = normAxis(axes[0], v.axes.length, fail);
    if (v.axes[ax] !== 'd') fail('of a recurrent output must remove its direction axis');
    if (layers[v.layer].bidirectional) fail(`removes the direction axis of a bidirectional layer's output, which has two directions`);
    set({ k: 'seq', axes: v.axes.filter((_, i) => i !== ax), src: v.layer });
  } else if (v.k === 'seq' && v.length1) {
    const ax = normAxis(axes[0], v.axes.length, fail);
    if (v.axes[ax] !== 's') fail('of a one-step slice must remove the step axis');
    set(lastStep(v, layers, fail));
  } else if (v.k === 'finals') {
    const ax = normAxis(axes[0], v.axes.length, fail);
    if (v.axes[ax] !== 'd' || v.items.length !== 1) fail('of final states must remove a direction axis of length 1');
    set({ k: 'vec', parts: v.items, merge: 'one' });
  } else fail('is only supported on recurrent outputs, one-step slices and final states');
}

/** Transpose */
function transposeOp({ fail, input, set, attr }: NodeContext): void {
  const v = input(0)!;
  const perm = attr<number[]>('perm', []);
  if (v.k === 'seq' || v.k === 'ydir' || v.k === 'finals') {
    if (v.k === 'seq' && v.src === 'input' && v.axes.length === 0) {
      // axes not known until a layer reads the input: compose the permutations
      const before = v.perm ?? [0, 1, 2];
      if (perm.length !== 3) fail(`perm [${perm.join(', ')}] of the model input: expected 3 axes (batch, steps, features)`);
      set({ ...v, perm: perm.map((p) => before[p]) });
      return;
    }
    if (perm.length !== v.axes.length) fail(`perm [${perm.join(', ')}] does not match the ${v.axes.length} axes of its input`);
    set({ ...v, axes: perm.map((p) => v.axes[p]) } as Value);
  } else fail('is only supported on sequences and final states');
}

/** Reshape */
function reshapeOp({ fail, input, constant, set }: NodeContext): void {
  const v = input(0)!;
  const shape = Array.from(constant(1, 'shape').data);
  if (v.k === 'ydir') {
    // [s, b, d, f] -> [0, 0, -1]: both directions side by side per step, forward first.
    const keep = v.axes.slice(0, 2);
    if (v.axes.slice(2).join('') !== 'df' || shape.length !== 3 || shape[0] !== 0 || shape[1] !== 0 || shape[2] !== -1) {
      fail(
        `only the reshape [0, 0, -1] of a recurrent output with axes [.., direction, feature] is supported (here axes [${v.axes.join(', ')}], shape [${shape.join(', ')}])`,
      );
    }
    set({ k: 'seq', axes: [...keep, 'f'], src: v.layer });
  } else fail('is only supported to merge the two directions of a recurrent output');
}

/** Concat */
function concatOp({ node, fail, input, set, attr }: NodeContext): void {
  const parts = node.inputs.map((_, i) => input(i)!);
  const axis = attr<number>('axis', 0);
  if (parts.every((p) => p.k === 'shape' || p.k === 'const')) set({ k: 'shape' });
  else if (parts.every((p) => p.k === 'finals')) {
    const f = parts as Extract<Value, { k: 'finals' }>[];
    const ax = normAxis(axis, f[0].axes.length, fail);
    if (f.some((p) => p.axes.join('') !== f[0].axes.join('')) || f[0].axes[ax] !== 'd')
      fail('final states can only be concatenated along their direction axis');
    set({ k: 'finals', axes: f[0].axes, items: f.flatMap((p) => p.items) });
  } else if (parts.every((p) => p.k === 'vec')) {
    if (normAxis(axis, 2, fail) !== 1) fail('final states are concatenated along the feature axis (1)');
    set({ k: 'vec', parts: (parts as Extract<Value, { k: 'vec' }>[]).flatMap((p) => p.parts), merge: 'concat' });
  } else fail('is only supported on shapes, on final states and on their vectors');
}

/** Add */
function addOp({ fail, input, constant, set }: NodeContext): void {
  const a = input(0)!;
  const b = input(1)!;
  if (a.k === 'vec' && b.k === 'vec' && a.parts.length === 1 && b.parts.length === 1) {
    set({ k: 'vec', parts: [...a.parts, ...b.parts], merge: 'sum' });
  } else if (a.k === 'head' && b.k === 'const') {
    if (b.t.data.length !== a.outputSize) fail(`adds ${b.t.data.length} values to a head of ${a.outputSize} outputs`);
    const bias = a.bias.map((v, i) => v + b.t.data[i]);
    set({ ...a, bias });
  } else fail('is only supported as the head bias (head + constant) or to sum two final states');
}

/** Gemm */
function gemmOp({ node, fail, input, constant, set, attr, onlyAttributes }: NodeContext): void {
  onlyAttributes(['alpha', 'beta', 'transA', 'transB']);
  if (attr<number>('transA', 0) !== 0) fail('transA = 1 is not supported');
  const a = input(0)!;
  const w = constant(1, 'B');
  const c = node.inputs[2] ? constant(2, 'C') : undefined;
  set(dense(a, w, attr<number>('transB', 0) === 1, attr<number>('alpha', 1), c, attr<number>('beta', 1), fail));
}

/** MatMul */
function matMulOp({ fail, input, constant, set }: NodeContext): void {
  const a = input(0)!;
  set(dense(a, constant(1, 'B'), false, 1, undefined, 1, fail));
}

/** Sigmoid / Softmax / LogSoftmax: the head's activation */
function activationOp({ node, fail, input, set, attr }: NodeContext): void {
  const v = input(0)!;
  if (v.k !== 'head' || v.activation !== 'linear') fail('must follow the dense head');
  const h = v as Extract<Value, { k: 'head' }>;
  if (node.opType === 'Sigmoid') {
    if (h.outputSize !== 1)
      fail(`a sigmoid head with ${h.outputSize} outputs (multi-label) is not supported; lstm-mcu's sigmoid head is two classes, one logit`);
    set({ ...h, activation: 'sigmoid' });
  } else {
    const axis = attr<number>('axis', -1);
    if (axis !== -1 && axis !== 1) fail(`softmax over axis ${axis}: only the class axis (-1 or 1) is supported`);
    set({ ...h, activation: 'softmax' });
  }
}

/** The operators the importer reads besides the recurrent ones, each by its handler. */
const OPERATORS: Record<string, (c: NodeContext) => void> = {
  Constant: constantOp,
  Identity: identityOp,
  Shape: shapeOp,
  ConstantOfShape: constantOfShapeOp,
  Expand: broadcastOp,
  Tile: broadcastOp,
  Unsqueeze: unsqueezeOp,
  Cast: unsqueezeOp,
  Gather: gatherOp,
  Slice: sliceOp,
  Squeeze: squeezeOp,
  Transpose: transposeOp,
  Reshape: reshapeOp,
  Concat: concatOp,
  Add: addOp,
  Gemm: gemmOp,
  MatMul: matMulOp,
  Sigmoid: activationOp,
  Softmax: activationOp,
  LogSoftmax: activationOp,
};

/**
 * An ONNX graph of recurrent layers and a dense head -> the float network: a
 * small interpreter that follows what each name holds (a sequence, final
 * states, a head, shape arithmetic) through the operators it knows
 * (OPERATORS, and the recurrent nodes).
 */
export function importOnnx(g: OnnxGraph, path: string): ImportedNetwork {
  const graph: GraphState = { values: new Map<string, Value>(), layers: [], inputSize: -1, inputAxes: [] };
  const { values, layers } = graph;
  for (const [name, t] of g.initializers) values.set(name, { k: 'const', t });
  if (g.inputs.length !== 1)
    throw new UserError(
      `${path}: the graph has ${g.inputs.length} inputs (${g.inputs.join(', ')}); lstm-mcu imports models with one input, the sequence`,
    );
  values.set(g.inputs[0], { k: 'seq', axes: [], src: 'input' }); // axes fixed by the first op that reads it

  for (const node of g.nodes) {
    const c = nodeContext(node, path, graph);
    if (node.domain !== '' && node.domain !== 'ai.onnx') c.fail(`operator domain '${node.domain}' is not supported`);
    if (RECURRENT.has(node.opType)) recurrentOp(c);
    else if (Object.hasOwn(OPERATORS, node.opType)) OPERATORS[node.opType]!(c);
    else
      c.fail(
        'this operator is not supported (lstm-mcu imports LSTM, GRU and RNN layers with a dense head; docs/EXAMPLES.md lists what it reads)',
      );
  }
  const { inputSize, inputAxes } = graph;

  if (g.outputs.length !== 1)
    throw new UserError(`${path}: the graph has ${g.outputs.length} outputs; lstm-mcu imports models with one output, the head`);
  const out = values.get(g.outputs[0]);
  if (!out || out.k !== 'head')
    throw new UserError(`${path}: the graph output '${g.outputs[0]}' is not a dense head on the last recurrent layer's final state`);
  if (layers.length === 0) throw new UserError(`${path}: no LSTM, GRU or RNN node`);
  const top = layers.length - 1;
  const topDirs: Dir[] = layers[top].bidirectional
    ? [
        { layer: top, dir: 0 },
        { layer: top, dir: 1 },
      ]
    : [{ layer: top, dir: 0 }];
  const same = (a: Dir[], b: Dir[]) => a.length === b.length && a.every((d, i) => d.layer === b[i].layer && d.dir === b[i].dir);
  if (!same(out.inputs, topDirs)) {
    throw new UserError(
      `${path}: the head must read the final state of the last recurrent layer ('${layers[top].node}'${layers[top].bidirectional ? ': forward then backward' : ''}); it reads ${out.inputs.map((d) => `layer ${d.layer} ${d.dir ? 'backward' : 'forward'}`).join(' + ')}`,
    );
  }
  const merge: MergeMode | undefined = layers[top].bidirectional ? (out.merge === 'sum' ? 'sum' : 'concat') : undefined;
  const floatLayers = layers.map((l, i) => {
    if (!l.bidirectional) return l.layer;
    // intermediate bidirectional layers pass [h_f, h_b] on (the Reshape above); the top one as the head reads it
    return { ...l.layer, merge: i === top ? merge! : 'concat' };
  });
  if (inputAxes.join('') !== 'bsf' && inputAxes.join('') !== 'sbf')
    throw new UserError(
      `${path}: the model input has axes [${inputAxes.join(', ')}]; lstm-mcu imports inputs laid out [batch, steps, features] or [steps, batch, features]`,
    );
  return {
    inputSize,
    inputLayout: inputAxes[0] === 'b' ? 'batch-first' : 'steps-first',
    producer: g.producer,
    layers: floatLayers,
    head: {
      inputSize: out.inputSize,
      outputSize: out.outputSize,
      kernel: Float32Array.from(out.kernel),
      bias: Float32Array.from(out.bias),
    },
    headActivation: out.activation,
  };
}

function normAxis(axis: number, rank: number, fail: (why: string) => never): number {
  const a = axis < 0 ? rank + axis : axis;
  if (a < 0 || a >= rank) fail(`axis ${axis} is outside the ${rank} axes of its input`);
  return a;
}

/** The last step of a sequence: a forward layer's final state. */
function lastStep(v: Extract<Value, { k: 'seq' }>, layers: LayerBuild[], fail: (why: string) => never): Value {
  if (v.src === 'input') return fail('takes the last step of the model input itself; the head must read a recurrent layer');
  if (layers[v.src].bidirectional) {
    return fail(
      "takes the last step of a bidirectional layer's output sequence, whose backward half has read one step only; use the final states (h_n: the forward and backward final hidden states), which lstm-mcu runs",
    );
  }
  if (layers[v.src].layer.reverse) {
    return fail(
      "takes the last step of a reverse layer's output sequence, which has read one step only; use its final state (h_n, after it has read the whole window), which lstm-mcu runs",
    );
  }
  return { k: 'vec', parts: [{ layer: v.src, dir: 0 }], merge: 'one' };
}

/** Width of what a layer passes up per step. */
function layerWidth(l: LayerBuild): number {
  return l.bidirectional ? 2 * l.layer.units : l.layer.units;
}

function dense(
  a: Value,
  w: Tensor,
  transB: boolean,
  alpha: number,
  c: Tensor | undefined,
  beta: number,
  fail: (why: string) => never,
): Value {
  if (a.k !== 'vec') return fail('the dense head must read the final state of a recurrent layer');
  if (w.dims.length !== 2) return fail(`B has ${w.dims.length} dimensions; a dense head is a matrix`);
  const [r, cols] = w.dims;
  const inputSize = transB ? cols : r;
  const outputSize = transB ? r : cols;
  const kernel = new Float64Array(inputSize * outputSize);
  for (let i = 0; i < inputSize; i++)
    for (let o = 0; o < outputSize; o++) kernel[i * outputSize + o] = alpha * (transB ? w.data[o * cols + i] : w.data[i * cols + o]);
  const bias = new Float64Array(outputSize);
  if (c) {
    if (c.data.length !== outputSize && c.data.length !== 1) return fail(`C has ${c.data.length} values for ${outputSize} outputs`);
    for (let o = 0; o < outputSize; o++) bias[o] = beta * c.data[c.data.length === 1 ? 0 : o];
  }
  return { k: 'head', inputs: a.parts, merge: a.merge, kernel, bias, inputSize, outputSize, activation: 'linear' };
}

/** ONNX row order of each of our gates: LSTM i,o,f,c -> ours i,f,g,o. */
const LSTM_ROWS = [0, 2, 3, 1];
/** ONNX peephole order i, o, f -> ours i, f, o. */
const PEEPHOLE_ROWS = [0, 2, 1];

type RecurrentOp = 'LSTM' | 'GRU' | 'RNN';

/** A recurrent node's weight tensors in ONNX's layout, their shapes checked: per direction W, R, B (and the LSTM's P). */
interface OnnxRecurrentWeights {
  op: RecurrentOp;
  /** Directions (2: bidirectional), ONNX gate blocks, units, input features. */
  dirs: number;
  G: number;
  H: number;
  I: number;
  W: Tensor;
  R: Tensor;
  B: Tensor;
  P?: Tensor;
}

/** Which of our cells a recurrent node computes, and how its rows map onto it. */
interface CellChoice {
  cell: CellKind;
  /** LSTM input_forget = 1: the coupled-gate LSTM (no input gate rows). */
  inputForget: boolean;
  /** GRU linear_before_reset = 1: Rb stays apart (our recurrent bias). */
  resetAfter: boolean;
}

function recurrentLayer(c: NodeContext): LayerBuild {
  const { node } = c;
  const op = node.opType as RecurrentOp;
  const { direction, dirs } = recurrentDirection(c, op);
  const w = recurrentWeights(c, op, dirs);
  const choice = recurrentCell(c, w);
  const forward = directionLayer(w, choice, 0);
  // reverse: the one weight set reads the window last step first; Y stays in time order, Y_h is h after step 0
  const layer: FloatRecurrentLayer =
    dirs === 2
      ? { ...forward, backward: directionLayer(w, choice, 1), merge: 'concat' }
      : direction === 'reverse'
        ? { ...forward, reverse: true }
        : forward;
  return { layer, bidirectional: dirs === 2, node: node.name };
}

/** The node's attributes checked (only those we read; the default activations), and its direction. */
function recurrentDirection({ attr, onlyAttributes, fail }: NodeContext, op: RecurrentOp): { direction: string; dirs: number } {
  onlyAttributes([
    'hidden_size',
    'direction',
    'layout',
    'activations',
    ...(op === 'LSTM' ? ['input_forget'] : []),
    ...(op === 'GRU' ? ['linear_before_reset'] : []),
  ]);
  const direction = attr<string>('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional')
    fail(`direction '${direction}' is not an ONNX direction`);
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const defaults = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] }[op];
  const activations = attr<string[]>('activations', []);
  if (
    activations.length > 0 &&
    activations.join() !== [...Array(dirs)].flatMap(() => defaults).join() &&
    activations.join() !== defaults.join()
  ) {
    fail(`attribute 'activations' = [${activations.join(', ')}]: only the defaults (${defaults.join(', ')}) are supported`);
  }
  return { direction, dirs };
}

/** W, R, B and P of the node, each checked against [directions, gates · units, …]; whole sequences from a zero state. */
function recurrentWeights(c: NodeContext, op: RecurrentOp, dirs: number): OnnxRecurrentWeights {
  const { node, constant, attr, fail } = c;
  const G = op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1;
  const W = constant(1, 'W');
  const R = constant(2, 'R');
  const H = attr<number>('hidden_size', R.dims[2]);
  if (W.dims.length !== 3 || W.dims[0] !== dirs || W.dims[1] !== G * H)
    fail(`W has shape [${W.dims.join(', ')}], expected [${dirs}, ${G * H}, input]`);
  if (R.dims.join() !== [dirs, G * H, H].join()) fail(`R has shape [${R.dims.join(', ')}], expected [${dirs}, ${G * H}, ${H}]`);
  const I = W.dims[2];
  const B = node.inputs[3] ? constant(3, 'B') : { dims: [dirs, 2 * G * H], data: new Float64Array(dirs * 2 * G * H) };
  if (B.dims.join() !== [dirs, 2 * G * H].join()) fail(`B has shape [${B.dims.join(', ')}], expected [${dirs}, ${2 * G * H}]`);
  checkWholeSequencesFromZero(c, op);
  const P = op === 'LSTM' && node.inputs[7] ? constant(7, 'P') : undefined;
  if (P && P.dims.join() !== [dirs, 3 * H].join()) fail(`P has shape [${P.dims.join(', ')}], expected [${dirs}, ${3 * H}]`);
  return { op, dirs, G, H, I, W, R, B, P };
}

/** No sequence_lens, and initial states absent or zero: the device runs every window whole, from a zero state. */
function checkWholeSequencesFromZero({ node, input, fail }: NodeContext, op: RecurrentOp): void {
  if (node.inputs[4]) fail('input sequence_lens is not supported: every sequence is the whole window');
  const zeroState = (i: number, what: string) => {
    const v = input(i);
    if (v === undefined) return;
    const zero = (v.k === 'fill' && v.value === 0) || (v.k === 'const' && v.t.data.every((x) => x === 0));
    if (!zero) fail(`input ${what} must be zero (or absent): the device starts every sequence from a zero state`);
  };
  zeroState(5, 'initial_h');
  if (op === 'LSTM') zeroState(6, 'initial_c');
}

/** Our cell kind: from the operator, input_forget, nonzero peepholes and linear_before_reset. */
function recurrentCell({ attr, fail }: NodeContext, { op, P }: OnnxRecurrentWeights): CellChoice {
  const inputForget = op === 'LSTM' && attr<number>('input_forget', 0) === 1;
  const peephole = Boolean(P && P.data.some((v) => v !== 0));
  if (inputForget && peephole) fail("input_forget with peepholes is not supported (lstm-mcu's coupled-gate LSTM has none)");
  const resetAfter = op === 'GRU' && attr<number>('linear_before_reset', 0) === 1;
  const cell: CellKind =
    op === 'RNN' ? 'rnn' : op === 'GRU' ? (resetAfter ? 'gru-reset-after' : 'gru') : inputForget ? 'cifg' : peephole ? 'peephole' : 'lstm';
  return { cell, inputForget, resetAfter };
}

/** Direction `d`'s weights in our layouts: gates reordered, W and R transposed, Wb + Rb folded (or Rb kept apart), peepholes. */
function directionLayer(w: OnnxRecurrentWeights, { cell, inputForget, resetAfter }: CellChoice, d: number): FloatRecurrentLayer {
  const { op, G, H, I, W, R, B, P } = w;
  // our gates, each as the ONNX row block it comes from
  const rows = op === 'LSTM' ? (inputForget ? LSTM_ROWS.slice(1) : LSTM_ROWS) : [...Array(G).keys()];
  const g = rows.length;
  const kernel = new Float32Array(I * g * H);
  const recurrentKernel = new Float32Array(H * g * H);
  const bias = new Float32Array(g * H);
  const recurrentBias = resetAfter ? new Float32Array(g * H) : undefined;
  const wOff = d * G * H * I;
  const rOff = d * G * H * H;
  const bOff = d * 2 * G * H;
  rows.forEach((src, gate) => {
    for (let u = 0; u < H; u++) {
      const col = gate * H + u;
      const row = src * H + u;
      for (let i = 0; i < I; i++) kernel[i * g * H + col] = W.data[wOff + row * I + i];
      for (let j = 0; j < H; j++) recurrentKernel[j * g * H + col] = R.data[rOff + row * H + j];
      const wb = B.data[bOff + row];
      const rb = B.data[bOff + G * H + row];
      if (recurrentBias) {
        bias[col] = wb;
        recurrentBias[col] = rb;
      } else bias[col] = wb + rb;
    }
  });
  const layer: FloatRecurrentLayer = { cell, inputSize: I, units: H, kernel, recurrentKernel, bias };
  if (recurrentBias) layer.recurrentBias = recurrentBias;
  if (cell === 'peephole') {
    const p = new Float32Array(3 * H);
    PEEPHOLE_ROWS.forEach((src, k) => {
      for (let u = 0; u < H; u++) p[k * H + u] = P!.data[d * 3 * H + src * H + u];
    });
    layer.peephole = p;
  }
  return layer;
}
