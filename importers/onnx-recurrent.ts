/**
 * The recurrent nodes of an ONNX graph (LSTM, GRU, RNN) -> this project's
 * recurrent layers: attributes checked, weights in our layouts and gate
 * orders, whole sequences from a zero state (see onnx-import.ts for the
 * orders).
 */
import type { CellKind, FloatRecurrentLayer } from '../core/model.ts';
import type { Tensor } from './onnx-model.ts';
import type { Axis, LayerBuild, NodeContext, Value } from './onnx-values.ts';
import { foldLinear } from './onnx-idioms.ts';

/** An LSTM, GRU or RNN node: its input must be the model input or the layer below's sequence. */
export function recurrentOp(c: NodeContext): void {
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
  if (seq.src === 'input') firstLayerInput(c, seq, built);
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

/**
 * The first layer and what the graph does to the input before it: a Linear
 * folded into its input weights, the graph's own normalization kept as the
 * model's, a univariate input read as one feature.
 */
function firstLayerInput({ fail, graph }: NodeContext, seq: Extract<Value, { k: 'seq' }>, built: LayerBuild): void {
  const affine = seq.affine;
  if (affine?.linear) {
    if (affine.linear.outSize !== built.layer.inputSize)
      fail(`W reads ${built.layer.inputSize} features, the Linear before it (${affine.nodes.join(', ')}) gives ${affine.linear.outSize}`);
    built.layer = foldLinear(built.layer, affine.linear);
  }
  const features = built.layer.inputSize;
  if (seq.unsqueezed && features !== 1) fail(`W reads ${features} features; the model input was unsqueezed to one`);
  if (!affine || (affine.mean.every((m) => m === 0) && affine.std.every((s) => s === 1))) return;
  if (affine.mean.length !== 1 && affine.mean.length !== features)
    fail(`the normalization (${affine.nodes.join(', ')}) has ${affine.mean.length} values for ${features} features`);
  const mean = Array.from({ length: features }, (_, i) => affine.mean[affine.mean.length === 1 ? 0 : i]);
  const std = Array.from({ length: features }, (_, i) => affine.std[affine.std.length === 1 ? 0 : i]);
  if (std.some((s) => !(s > 0)))
    fail(`the normalization (${affine.nodes.join(', ')}) scales a feature by a negative number; lstm-mcu divides by a positive std`);
  graph.inputNorm = { mean, std, nodes: affine.nodes.slice(0, affine.linearFrom ?? affine.nodes.length) };
}

/** Width of what a layer passes up per step. */
function layerWidth(l: LayerBuild): number {
  return l.bidirectional ? 2 * l.layer.units : l.layer.units;
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
    const zero =
      (v.k === 'fill' && v.value === 0) || (v.k === 'const' && v.t.data.every((x) => x === 0)) || (v.k === 'param' && !v.nonzero);
    if (v.k === 'param' && !zero)
      fail(
        `input ${what} must be zero (or absent), here it is the parameter '${v.from}' (a learned initial state): the device starts every window from a zero state; train without one (h0 = None)`,
      );
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
