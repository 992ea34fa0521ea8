/**
 * Window models (docs/NUMERICS.md §5h): a model with a bidirectional or a
 * reverse layer keeps its last `window` int8 inputs in a ring and, at every
 * step, runs each layer over them from a zero state, forward and
 * (bidirectional layers) backward, or backward only (reverse layers); the
 * layer above reads the merged sequence, the head the merge of the forward h
 * after the last step and the backward h after the first (a reverse layer's
 * h after the first). A top layer with readout 'last-step' (PyTorch's
 * y[:, -1, :]) runs its backward direction over the last input only: the head
 * reads its h after that one step (W - 1 fewer steps than 'final-states').
 * This file emits that state and step; the cell bodies come from
 * emit-cells.ts, the weights and the head from emit-module.ts.
 */
import {
  resetsBeforeProduct,
  hasRecurrentBias,
  gateCount,
  gateNames,
  hasCellState,
  layerOutputSize,
  backwardSteps,
  type QuantRecurrentLayer,
  type QuantizedModel,
} from '../core/model.ts';
import type { CodeBuilder } from './builder.ts';
import { emitCellStep } from './emit-cells.ts';
import type { LayerNames } from './layer-names.ts';
import type { Dialect } from './dialect.ts';
import { emitSaturateInt8, roundShiftText } from './emit-primitives.ts';
import { emitNumberOr } from './emit-arguments.ts';

/** One direction of one layer, with the names of its arrays. */
export interface DirectionPlan {
  layer: QuantRecurrentLayer;
  l: number;
  /** The backward half of a bidirectional layer (layers[l].backward). */
  backward: boolean;
  /** Reads the window last step first: a backward half, or a reverse layer. */
  reverse: boolean;
  n: LayerNames;
}

/** "forward", "backward" (a bidirectional layer's) or "reverse" (a reverse layer). */
export const directionTitle = (p: Pick<DirectionPlan, 'backward' | 'reverse'>): string =>
  p.backward ? 'backward' : p.reverse ? 'reverse' : 'forward';

/** Name of the int8 sequence layer l passes up ([window][output size]). */
const seqName = (l: number) => `SQ_${l}`;

export function emitWindowState(b: CodeBuilder, q: QuantizedModel, plans: DirectionPlan[], dialect: Dialect): void {
  const { layers, window: W } = q;
  const NI = layers[0].inputSize;
  const total = (f: (p: DirectionPlan) => number) => plans.reduce((s, p) => s + f(p), 0);
  b.comment(`the last ${W} inputs: a ring of int8 rows, XP the oldest, XN how many (fewer than ${W} right after reset())`);
  b.line(`var XS = new Int8Array(${W * NI}), XP = 0, XN = 0;`);
  b.line(
    `var HS = new Int8Array(${total((p) => p.layer.units)}); // every direction's h after the step, Q0.7 (layer 0 forward, backward, layer 1, ...)`,
  );
  b.line(`var C = new Int16Array(${total((p) => (hasCellState(p.layer.cell) ? p.layer.units : 0))}); // cell states, same order`);
  b.line(`var G = new Int16Array(${total((p) => gateCount(p.layer.cell) * p.layer.units)}); // gate outputs Q0.15, same order`);
  let cStart = 0;
  let gStart = 0;
  for (const plan of plans) {
    const { layer, l, n } = plan;
    const NU = layer.units;
    const rows = gateCount(layer.cell) * NU;
    const withCell = hasCellState(layer.cell);
    const K = layer.cellIntBits;
    b.comment(
      `layer ${l} ${directionTitle(plan)}: ${layer.cell}, ${NU} units, gate order ${gateNames(layer.cell).join(', ')}${withCell ? `, cell Q${K}.${15 - K}` : ''}`,
    );
    b.line(`var ${n.V} = new Int8Array(${layer.inputSize + NU}); // v = [input, h]`);
    b.line(`var ${n.H} = new Int8Array(${n.V}.buffer, ${layer.inputSize}, ${NU});`);
    if (withCell) b.line(`var ${n.C} = new Int16Array(C.buffer, ${cStart * 2}, ${NU});`);
    b.line(`var ${n.G} = new Int16Array(G.buffer, ${gStart * 2}, ${rows});`);
    if (resetsBeforeProduct(layer.cell)) b.line(`var ${n.VR} = new Int8Array(${layer.inputSize + NU}); // v' = [input, r ⊙ h]`);
    if (hasRecurrentBias(layer.cell) && dialect.inputView)
      b.line(`var ${n.XV} = new Int8Array(${n.V}.buffer, 0, ${layer.inputSize}); // the input part of v`);
    cStart += withCell ? NU : 0;
    gStart += rows;
  }
  layers.forEach((layer, l) => {
    const width = layerOutputSize(layer);
    if (l < layers.length - 1) {
      b.line(
        `var ${seqName(l)} = new Int8Array(${W * width}); // what layer ${l} passes up, per step: ${layer.backward ? (layer.merge === 'sum' ? 'h_f + h_b (Q1.6)' : '[h_f, h_b] (Q0.7)') : 'h (Q0.7)'}`,
      );
    } else if (layer.backward) {
      b.line(
        `var TOP = new Int8Array(${width}); // what the head reads: ${layer.merge === 'sum' ? 'h_f + h_b (Q1.6)' : '[h_f, h_b] (Q0.7)'}`,
      );
    }
  });
}

export function emitWindowStep(b: CodeBuilder, q: QuantizedModel, plans: DirectionPlan[], dialect: Dialect): void {
  const { layers, window: W } = q;
  const NI = layers[0].inputSize;
  const L = layers.length;
  b.comment(`the input joins the ring: XS[(XP + XN - 1) % ${W}] = sat8(xq); when full, it replaces the oldest`);
  b.line(`if (XN < ${W}) XN++; else XP = (XP + 1) % ${W};`);
  b.line(`sl = ((XP + XN - 1) % ${W}) * ${NI};`);
  b.block(`for (i = 0; i < ${NI}; i++) {`, () => {
    b.line('z = xq[i];');
    emitNumberOr(b, 'z', '0');
    emitSaturateInt8(b, 'z');
    b.line('XS[sl + i] = z;');
  });
  let hOffset = 0;
  for (const plan of plans) {
    const { layer, l, backward, reverse, n } = plan;
    const owner = layers[l];
    const NU = layer.units;
    const width = layerOutputSize(owner);
    const IN = layer.inputSize;
    const gru = resetsBeforeProduct(layer.cell);
    // a 'last-step' top layer's backward direction runs over the last input only (backwardSteps)
    const lastOnly = backward && backwardSteps(owner, W) < W;
    const steps = lastOnly ? 'XN-1 only (the head reads its h after that one step)' : reverse ? 'XN-1 .. 0' : '0 .. XN-1';
    b.comment(`==== layer ${l} ${directionTitle(plan)}: steps ${steps}, from a zero state`);
    b.line(`for (u = 0; u < ${NU}; u++) ${n.H}[u] = 0;`);
    if (hasCellState(layer.cell)) b.line(`for (u = 0; u < ${NU}; u++) ${n.C}[u] = 0;`);
    const loop = lastOnly
      ? 'for (ts = XN - 1; ts >= XN - 1; ts--) {'
      : reverse
        ? 'for (ts = XN - 1; ts >= 0; ts--) {'
        : 'for (ts = 0; ts < XN; ts++) {';
    b.block(loop, () => {
      if (l === 0) {
        b.line(`sl = ((XP + ts) % ${W}) * ${NI};`);
        b.line(`for (i = 0; i < ${IN}; i++) ${gru ? `${n.V}[i] = ${n.VR}[i] = XS[sl + i]` : `${n.V}[i] = XS[sl + i]`};`);
      } else {
        b.line(`sl = ts * ${IN};`);
        b.line(
          `for (i = 0; i < ${IN}; i++) ${gru ? `${n.V}[i] = ${n.VR}[i] = ${seqName(l - 1)}[sl + i]` : `${n.V}[i] = ${seqName(l - 1)}[sl + i]`};`,
        );
      }
      emitCellStep({ b, layer, n, dialect });
      if (l < L - 1) {
        const SQ = seqName(l);
        if (!backward) b.line(`for (u = 0; u < ${NU}; u++) ${SQ}[ts * ${width} + u] = ${n.H}[u];`);
        else if (owner.merge === 'sum') {
          b.comment('merge sum: sat8((h_f + h_b + 1) >> 1)   (Q0.7 + Q0.7 -> Q1.6)');
          b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
            b.line(`h = ${roundShiftText(`${SQ}[ts * ${width} + u] + ${n.H}[u]`, 1)};`);
            emitSaturateInt8(b, 'h');
            b.line(`${SQ}[ts * ${width} + u] = h;`);
          });
        } else b.line(`for (u = 0; u < ${NU}; u++) ${SQ}[ts * ${width} + ${NU} + u] = ${n.H}[u];`);
      }
    });
    b.line(`for (u = 0; u < ${NU}; u++) HS[${hOffset} + u] = ${n.H}[u];`);
    hOffset += NU;
    if (backward && l === L - 1) {
      const forward = plans.find((p) => p.l === l && !p.backward)!.n;
      const backwardH = lastOnly ? 'backward h after its one step (the output at the last step)' : 'backward h after the first';
      if (owner.merge === 'sum') {
        b.comment(`the head reads sat8((h_f + h_b + 1) >> 1): forward h after the last step, ${backwardH}`);
        b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
          b.line(`h = ${roundShiftText(`${forward.H}[u] + ${n.H}[u]`, 1)};`);
          emitSaturateInt8(b, 'h');
          b.line('TOP[u] = h;');
        });
      } else {
        b.comment(`the head reads [h_f, h_b]: forward h after the last step, ${backwardH}`);
        b.line(`for (u = 0; u < ${NU}; u++) { TOP[u] = ${forward.H}[u]; TOP[${NU} + u] = ${n.H}[u]; }`);
      }
    }
  }
}
