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
 * A bidirectional top layer's Y at the last step (y[:, -1, :]) is its forward
 * final state and its backward state after one step: the readout 'last-step'.
 */
import type { FloatDenseLayer, FloatRecurrentLayer, HeadActivation, MergeMode } from '../core/model.ts';
import { UserError } from '../core/errors.ts';
import { depthGatedImportRefusal } from './depth-gated-refusal.ts';
import type { OnnxGraph, Tensor } from './onnx-model.ts';
import {
  RECURRENT,
  nodeContext,
  normAxis,
  uniformValue,
  type Dir,
  type GraphState,
  type LayerBuild,
  type NodeContext,
  type Value,
} from './onnx-values.ts';
import { recurrentOp } from './onnx-recurrent.ts';
import { headReshape, inputArithmetic, inputLinear, isModelInput, nonlinearityOp, unsqueezeInput } from './onnx-idioms.ts';

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
  /** The normalization the graph applies to its own input ((x - mean) / std, per feature), and the nodes that do. */
  inputNorm?: { mean: number[]; std: number[]; nodes: string[] };
  /** The graph ends in LogSoftmax, read as softmax (the same class). */
  logSoftmax?: boolean;
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

/**
 * Expand / Tile: PyTorch's default export (no dynamic_axes) builds a zero
 * initial state as a zero constant expanded over a shape read from the input.
 * A constant of one value, broadcast to any shape, is that value everywhere.
 */
function broadcastOp({ node, fail, input, set }: NodeContext): void {
  const source = input(0)!;
  const value = uniformValue(source);
  const shape = input(1);
  if (!shape || !isShapeLike(shape)) fail(`input '${node.inputs[1]}' must be a shape computed from the input's or constants`);
  if (value !== undefined) set({ k: 'fill', value });
  // a learned parameter broadcast over the batch (an initial state): kept as such, refused by what reads it
  else if (source.k === 'const' || source.k === 'param') set(asParam(source, node.inputs[0]));
  else fail(`is only supported to broadcast a constant (an initial state); input '${node.inputs[0]}' is not one`);
}

/** Shapes, constants and fills: what shape arithmetic is made of. */
function isShapeLike(v: Value | undefined): boolean {
  return v !== undefined && (v.k === 'shape' || v.k === 'const' || v.k === 'fill');
}

/** A constant (or a tensor computed from one) as a parameter: whether it holds anything but zeros, and where it comes from. */
function asParam(v: Extract<Value, { k: 'const' } | { k: 'param' }>, name: string): Value {
  return v.k === 'param' ? v : { k: 'param', from: name, nonzero: v.t.data.some((x) => x !== 0) };
}

/** Unsqueeze / Cast */
function unsqueezeOp(c: NodeContext): void {
  const { node, fail, input, set, attr } = c;
  const v = input(0)!;
  if (isModelInput(v)) {
    if (node.opType === 'Cast') set(v);
    else unsqueezeInput(c, v, node.inputs[1] ? Array.from(c.constant(1, 'axes').data) : attr<number[]>('axes', []));
    return;
  }
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
function sliceOp({ node, fail, input, constant, set, attr }: NodeContext): void {
  const v = input(0)!;
  if (v.k === 'fill' || v.k === 'shape') {
    set(v);
    return;
  }
  if (v.k === 'const' && v.t.dims.length >= 2)
    fail(
      `slices the weight tensor '${node.inputs[0]}': the graph computes its weights at run time, as torch.onnx.export(..., do_constant_folding=False) leaves them; export with do_constant_folding=True (the default)`,
    );
  // opset 9 and before: starts, ends and axes are attributes
  const fromAttributes = node.inputs.length === 1;
  const starts = fromAttributes ? attr<number[]>('starts', []) : constant(1, 'starts').data;
  const ends = fromAttributes ? attr<number[]>('ends', []) : constant(2, 'ends').data;
  const axes = fromAttributes ? attr<number[]>('axes', [0]) : node.inputs[3] ? Array.from(constant(3, 'axes').data) : [0];
  const steps = !fromAttributes && node.inputs[4] ? Array.from(constant(4, 'steps').data) : [1];
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
function squeezeOp(c: NodeContext): void {
  const { node, fail, input, constant, set, attr, layers } = c;
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
  } else if (v.k === 'head') {
    if (normAxis(axes[0], 2, fail) !== 1) fail(`removes axis ${axes[0]} of the head's [batch, outputs]; only the output axis can go`);
    headReshape(c, v, 'squeezes');
  } else fail('is only supported on recurrent outputs, one-step slices, final states and a head of one output');
}

/** Transpose */
function transposeOp({ node, fail, input, set, attr }: NodeContext): void {
  const v = input(0)!;
  const perm = attr<number[]>('perm', []);
  if (v.k === 'const' || v.k === 'param') {
    set(asParam(v, node.inputs[0]));
    return;
  }
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
function reshapeOp(c: NodeContext): void {
  const { fail, input, constant, set } = c;
  const v = input(0)!;
  const shape = Array.from(constant(1, 'shape').data);
  if (v.k === 'head') headReshape(c, v, 'reshapes');
  else if (v.k === 'ydir') {
    // [s, b, d, f] -> [0, 0, -1]: both directions side by side per step, forward first.
    const keep = v.axes.slice(0, 2);
    if (v.axes.slice(2).join('') !== 'df' || shape.length !== 3 || shape[0] !== 0 || shape[1] !== 0 || shape[2] !== -1) {
      fail(
        `only the reshape [0, 0, -1] of a recurrent output with axes [.., direction, feature] is supported (here axes [${v.axes.join(', ')}], shape [${shape.join(', ')}])`,
      );
    }
    set({ k: 'seq', axes: [...keep, 'f'], src: v.layer });
  } else fail('is only supported to merge the two directions of a recurrent output, or on a head of one output');
}

/** Flatten: of a head ([batch, outputs] stays so) */
function flattenOp(c: NodeContext): void {
  const v = c.input(0)!;
  if (v.k !== 'head' || c.attr<number>('axis', 1) !== 1) c.fail('is only supported on the head (axis 1)');
  c.set(v);
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
    if (parts.some((p) => (p as Extract<Value, { k: 'vec' }>).lastStep))
      fail("concatenates a bidirectional layer's last step (y[:, -1, :]) with another vector; the head reads it alone");
    set({ k: 'vec', parts: (parts as Extract<Value, { k: 'vec' }>[]).flatMap((p) => p.parts), merge: 'concat' });
  } else fail('is only supported on shapes, on final states and on their vectors');
}

/**
 * Sub / Add / Mul / Div / Equal / Where: on the model input, a per-feature
 * affine map (onnx-idioms.ts); Add: the head's bias, or two final states
 * summed; otherwise shape arithmetic.
 */
function arithmeticOp(c: NodeContext): void {
  const { node, input, set, fail } = c;
  const a = input(0)!;
  const b = input(1)!;
  const affineOp = ['Sub', 'Add', 'Mul', 'Div'].includes(node.opType);
  if (affineOp && isModelInput(a)) inputArithmetic(c, a, b, true);
  else if (affineOp && isModelInput(b)) inputArithmetic(c, b, a, false);
  else if (node.inputs.every((_, i) => isShapeLike(input(i)))) set({ k: 'shape' });
  else if (node.opType === 'Add') addOp(c);
  else fail('is only supported on the model input ((x - mean) / std), and in shape computations');
}

/** Add */
function addOp({ fail, input, set }: NodeContext): void {
  const a = input(0)!;
  const b = input(1)!;
  if (a.k === 'vec' && b.k === 'vec' && a.parts.length === 1 && b.parts.length === 1) {
    set({ k: 'vec', parts: [...a.parts, ...b.parts], merge: 'sum' });
  } else if (a.k === 'head' && b.k === 'const') {
    if (b.t.data.length !== a.outputSize) fail(`adds ${b.t.data.length} values to a head of ${a.outputSize} outputs`);
    const bias = a.bias.map((v, i) => v + b.t.data[i]);
    set({ ...a, bias });
  } else fail('is only supported as the head bias (head + constant), to sum two final states, or on the model input');
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
function matMulOp(c: NodeContext): void {
  const { fail, input, constant, set } = c;
  const a = input(0)!;
  if (isModelInput(a)) return inputLinear(c, a, constant(1, 'B'));
  set(dense(a, constant(1, 'B'), false, 1, undefined, 1, fail));
}

/** Sigmoid / Softmax / LogSoftmax: the head's activation */
function activationOp(c: NodeContext): void {
  const { node, fail, input, set, attr } = c;
  const v = input(0)!;
  if (v.k !== 'head' && v.k !== 'shape' && v.k !== 'const') return nonlinearityOp(c);
  if (v.k !== 'head' || v.activation !== 'linear') fail('must follow the dense head');
  const h = v as Extract<Value, { k: 'head' }>;
  if (node.opType === 'Sigmoid') {
    if (h.outputSize !== 1)
      fail(`a sigmoid head with ${h.outputSize} outputs (multi-label) is not supported; lstm-mcu's sigmoid head is two classes, one logit`);
    set({ ...h, activation: 'sigmoid' });
  } else {
    const axis = attr<number>('axis', -1);
    if (axis !== -1 && axis !== 1) fail(`softmax over axis ${axis}: only the class axis (-1 or 1) is supported`);
    // LogSoftmax: the same class as softmax (log is increasing); the device returns the logits either way
    set({ ...h, activation: 'softmax', ...(node.opType === 'LogSoftmax' ? { logSoftmax: true } : {}) });
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
  Add: arithmeticOp,
  Sub: arithmeticOp,
  Mul: arithmeticOp,
  Div: arithmeticOp,
  Equal: arithmeticOp,
  Where: arithmeticOp,
  Flatten: flattenOp,
  ...Object.fromEntries(
    ['Relu', 'Tanh', 'LeakyRelu', 'Elu', 'Selu', 'Gelu', 'Softplus', 'HardSigmoid', 'HardSwish', 'Clip', 'PRelu', 'Mish'].map((op) => [
      op,
      nonlinearityOp,
    ]),
  ),
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
    const depthGated = depthGatedImportRefusal(node.opType);
    if (depthGated) c.fail(depthGated);
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
    // intermediate bidirectional layers pass [h_f, h_b] on (the Reshape above)
    // the top one as the head reads it: its final states, or its output at the last step (y[:, -1, :])
    if (i === top) return { ...l.layer, merge: merge!, ...(out.lastStep ? { readout: 'last-step' as const } : {}) };
    return { ...l.layer, merge: 'concat' as const };
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
    ...(graph.inputNorm ? { inputNorm: graph.inputNorm } : {}),
    ...(out.logSoftmax ? { logSoftmax: true } : {}),
  };
}

/**
 * The last step of a sequence: a forward layer's final state; a bidirectional
 * layer's [forward final state, backward state after one step] (y[:, -1, :],
 * the readout 'last-step' when the head reads it of the top layer).
 */
function lastStep(v: Extract<Value, { k: 'seq' }>, layers: LayerBuild[], fail: (why: string) => never): Value {
  if (v.src === 'input') return fail('takes the last step of the model input itself; the head must read a recurrent layer');
  if (layers[v.src].bidirectional) {
    const both: Dir[] = [
      { layer: v.src, dir: 0 },
      { layer: v.src, dir: 1 },
    ];
    return { k: 'vec', parts: both, merge: 'concat', lastStep: true };
  }
  if (layers[v.src].layer.reverse) {
    return fail(
      "takes the last step of a reverse layer's output sequence, which has read one step only; use its final state (h_n, after it has read the whole window), which lstm-mcu runs",
    );
  }
  return { k: 'vec', parts: [{ layer: v.src, dir: 0 }], merge: 'one' };
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
  if (a.k === 'seq' && a.src !== 'input')
    return fail(
      "applies a Linear to every step of a recurrent layer's output sequence; lstm-mcu's head reads one vector per window: take the last step (y[:, -1]) or the final states (h_n) before the Linear",
    );
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
  return {
    k: 'head',
    inputs: a.parts,
    merge: a.merge,
    ...(a.lastStep ? { lastStep: true as const } : {}),
    kernel,
    bias,
    inputSize,
    outputSize,
    activation: 'linear',
  };
}
