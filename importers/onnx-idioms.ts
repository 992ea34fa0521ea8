/**
 * What PyTorch users put around the recurrent layers, read where the
 * computation is exact, refused in one line naming the cause where not:
 *
 * - on the model input before the first layer: the model's own normalization
 *   (x - mean) / std, any per-feature x - c, x + c, x · c, x / c, which
 *   becomes the input normalization, then a Linear, folded into the first
 *   layer's input weights (W' = W_lin · W, b' = b + b_lin · W: the same affine
 *   map, re-associated); a univariate [batch, steps] input given its feature
 *   axis by x.unsqueeze(-1);
 * - after the head: size-1 squeezes and views (.squeeze(-1), .view(-1));
 * - a nonlinearity anywhere but the head's Sigmoid / Softmax is refused,
 *   naming where it stands.
 */
import type { FloatRecurrentLayer } from '../core/model.ts';
import type { Tensor } from './onnx-model.ts';
import { normAxis, type InputAffine, type NodeContext, type Value } from './onnx-values.ts';

type Seq = Extract<Value, { k: 'seq' }>;

/** The model input, as read so far (not yet read by a recurrent layer). */
export function isModelInput(v: Value | undefined): v is Seq {
  return v !== undefined && v.k === 'seq' && v.src === 'input' && v.axes.length === 0;
}

/** A constant's values along the feature (last) axis: one value, or one per feature with every other axis of size 1. */
function perFeature(t: Tensor, fail: (why: string) => never): number[] {
  const n = t.data.length;
  const last = t.dims.length ? t.dims[t.dims.length - 1] : 1;
  if (n !== 1 && last !== n)
    fail(`a constant of shape [${t.dims.join(', ')}]: only one value, or one per feature (the last axis), is folded`);
  return Array.from(t.data);
}

/** `values` (one, or one per feature) as `size` values. */
const widen = (values: number[], size: number) => (values.length === size ? values : Array.from({ length: size }, () => values[0]));

/**
 * Sub / Add / Mul / Div of the model input by a per-feature constant: the
 * normalization (x - mean) / std tracked as it is written, so that
 * x - c: mean += c·std, x + c: mean -= c·std, x / c: std ·= c, x · c: std /= c;
 * after a Linear, the same on its outputs.
 */
export function inputArithmetic(c: NodeContext, x: Seq, other: Value, xFirst: boolean): void {
  const { node, fail, set } = c;
  const op = node.opType;
  if (other.k !== 'const')
    fail(`combines the model input with a value computed in the graph; lstm-mcu folds only constants into the input`);
  if (!xFirst && (op === 'Sub' || op === 'Div'))
    fail(`computes constant ${op === 'Sub' ? '-' : '/'} x on the model input; lstm-mcu folds x - c, x + c, x · c and x / c`);
  if (x.perm && x.perm[2] !== 2) fail('a per-feature constant after the model input was transposed away from features last');
  const k = perFeature((other as Extract<Value, { k: 'const' }>).t, fail);
  if ((op === 'Mul' || op === 'Div') && k.some((v) => v === 0)) fail(`${op === 'Mul' ? 'multiplies' : 'divides'} a feature by 0`);
  const prev: InputAffine = x.affine ?? { mean: [0], std: [1], nodes: [] };
  if (!prev.linear && k.length > 1 && prev.mean.length > 1 && k.length !== prev.mean.length)
    fail(`${k.length} values for the ${prev.mean.length} features of the normalization before`);
  const affine: InputAffine = { ...prev, nodes: [...prev.nodes, node.name] };
  if (prev.linear) affine.linear = linearThen(prev.linear, op, k, fail);
  else {
    const size = Math.max(k.length, prev.mean.length);
    const mean = widen(prev.mean, size);
    const std = widen(prev.std, size);
    const kk = widen(k, size);
    affine.mean = mean.map((m, i) => (op === 'Sub' ? m + kk[i] * std[i] : op === 'Add' ? m - kk[i] * std[i] : m));
    affine.std = std.map((s, i) => (op === 'Div' ? s * kk[i] : op === 'Mul' ? s / kk[i] : s));
  }
  set({ ...x, affine });
}

/** A Linear's outputs shifted or scaled per output: its columns and bias. */
function linearThen(lin: NonNullable<InputAffine['linear']>, op: string, k: number[], fail: (why: string) => never) {
  if (k.length !== 1 && k.length !== lin.outSize) fail(`${k.length} values for the ${lin.outSize} outputs of the Linear before`);
  const kk = widen(k, lin.outSize);
  const scale = (o: number) => (op === 'Mul' ? kk[o] : op === 'Div' ? 1 / kk[o] : 1);
  const shift = (o: number) => (op === 'Add' ? kk[o] : op === 'Sub' ? -kk[o] : 0);
  const w = lin.w.map((v, i) => v * scale(i % lin.outSize));
  const b = lin.b.map((v, o) => v * scale(o) + shift(o));
  return { ...lin, w, b };
}

/** MatMul of the model input by a constant [in][out]: a Linear before the first layer (composed with one before it). */
export function inputLinear(c: NodeContext, x: Seq, w: Tensor): void {
  const { node, fail, set } = c;
  if (w.dims.length !== 2) fail(`multiplies the model input by a tensor of ${w.dims.length} dimensions; a Linear is a matrix`);
  if (x.perm && x.perm[2] !== 2) fail('a Linear after the model input was transposed away from features last');
  const [inSize, outSize] = w.dims;
  const prev: InputAffine = x.affine ?? { mean: [0], std: [1], nodes: [] };
  let linear = { w: Float64Array.from(w.data), b: new Float64Array(outSize), inSize, outSize };
  if (prev.linear) {
    // (x W1 + b1) W2 = x (W1 W2) + b1 W2
    if (prev.linear.outSize !== inSize) fail(`a Linear of ${inSize} inputs after one of ${prev.linear.outSize} outputs`);
    linear = { ...compose(prev.linear, linear), inSize: prev.linear.inSize };
  }
  const linearFrom = prev.linearFrom ?? prev.nodes.length;
  set({ ...x, affine: { ...prev, linear, linearFrom, nodes: [...prev.nodes, node.name] } });
}

/** x (W1) + b1 then · W2 + b2 -> x (W1 W2) + (b1 W2 + b2). */
function compose(
  a: { w: Float64Array; b: Float64Array; inSize: number; outSize: number },
  b: { w: Float64Array; b: Float64Array; outSize: number },
) {
  const n = b.outSize;
  const w = new Float64Array(a.inSize * n);
  const bias = Float64Array.from(b.b);
  for (let o = 0; o < n; o++) {
    for (let j = 0; j < a.outSize; j++) {
      const wjo = b.w[j * n + o];
      for (let i = 0; i < a.inSize; i++) w[i * n + o] += a.w[i * a.outSize + j] * wjo;
      bias[o] += a.b[j] * wjo;
    }
  }
  return { w, b: bias, outSize: n };
}

/** A recurrent layer reading the Linear's outputs, as one reading the Linear's inputs: kernel W_lin · K, bias + b_lin · K. */
export function foldLinear(layer: FloatRecurrentLayer, lin: NonNullable<InputAffine['linear']>): FloatRecurrentLayer {
  const cols = layer.kernel.length / layer.inputSize;
  const folded = compose(
    { w: lin.w, b: lin.b, inSize: lin.inSize, outSize: lin.outSize },
    { w: Float64Array.from(layer.kernel), b: Float64Array.from(layer.bias), outSize: cols },
  );
  const out: FloatRecurrentLayer = {
    ...layer,
    inputSize: lin.inSize,
    kernel: Float32Array.from(folded.w),
    bias: Float32Array.from(folded.b),
  };
  if (layer.backward) out.backward = foldLinear(layer.backward, lin);
  return out;
}

/** Unsqueeze of a univariate [batch, steps] model input at its last axis: one feature per step. */
export function unsqueezeInput(c: NodeContext, x: Seq, axes: number[]): void {
  const { fail, set } = c;
  if (x.unsqueezed || x.perm || axes.length !== 1 || normAxis(axes[0], 3, fail) !== 2)
    fail(
      `unsqueezes the model input at axis ${axes.join(', ')}; lstm-mcu reads a [batch, steps] input given its feature axis last (x.unsqueeze(-1))`,
    );
  if (x.affine && (x.affine.mean.length > 1 || x.affine.linear))
    fail('the model input is changed per feature before it has a feature axis');
  set({ ...x, unsqueezed: true });
}

/** Squeeze / Reshape / Flatten after the head: only of its output axis when it has one output (.squeeze(-1), .view(-1)). */
export function headReshape(c: NodeContext, head: Extract<Value, { k: 'head' }>, what: string): void {
  if (head.outputSize !== 1)
    c.fail(`${what} the output of a head with ${head.outputSize} outputs, which mixes its classes or targets with the batch`);
  c.set(head);
}

/** Relu, Tanh and the like: refused, naming what they stand on. */
export function nonlinearityOp({ node, fail, input, layers }: NodeContext): void {
  const v = input(0)!;
  const op = node.opType;
  if (isModelInput(v))
    fail(
      `a nonlinearity on the model input before the first recurrent layer${v.affine ? ` (after ${v.affine.nodes.join(', ')})` : ''}: lstm-mcu folds only affine maps there (a Linear, (x - mean) / std) into the first layer`,
    );
  if (v.k === 'seq' || v.k === 'ydir')
    fail(
      `${op} on the output sequence of recurrent layer '${layers[v.k === 'seq' ? (v.src as number) : v.layer].node}': lstm-mcu passes a layer's outputs on unchanged`,
    );
  if (v.k === 'vec' || v.k === 'finals') fail(`${op} on a final state before the head: lstm-mcu's head is one Linear on the final state`);
  if (v.k === 'head') fail(`${op} after the head: lstm-mcu's head ends in Sigmoid (two classes), Softmax or nothing`);
  fail('this operator is not supported');
}
