/**
 * The recurrent part of the generated `stepQ`, one emitter per cell
 * (docs/NUMERICS.md §5-§5f), for one layer. The arrays it uses are named by
 * `LayerNames` (declared by emit-module.ts): v = [input, h] (int8), h (a
 * view of v), the cell state, the gate outputs, the gate rows W / B / M,
 * the peephole multipliers P, the reset-after recurrent bias RB, the GRU's
 * v' = [input, r ⊙ h], the input view XV of v, and the row views RW / RWX /
 * RWH (espruino target); and the locals i, u, r, w, acc, z, k, y, c, t, h, n.
 */
import { CIFG_GATE, GATE, GRU_GATE, PEEPHOLE, TANH_GATES, gateNames, type QuantRecurrentLayer } from '../runtime/model.ts';
import { RECURRENT_PART_MAX, RECURRENT_PART_MIN } from '../runtime/fixed-point.ts';
import type { CodeBuilder } from './builder.ts';
import { ROW_GROUP } from './flash-weights.ts';

/** log2(ROW_GROUP): the group of row r is r >> GROUP_BITS. */
const GROUP_BITS = Math.log2(ROW_GROUP);
import { cellToQ12Text, emitSaturate, emitSaturateInt16, emitSaturateInt8, emitSigmoid, emitTanh, roundShiftText } from './emit-primitives.ts';

/** Names of one layer's arrays in the generated file. */
export interface LayerNames {
  W: string;
  B: string;
  M: string;
  P: string;
  RB: string;
  V: string;
  H: string;
  C: string;
  G: string;
  VR: string;
  XV: string;
  RW: string;
  RWX: string;
  RWH: string;
}

/** The names of one direction's arrays: W, V, H, ... followed by `suffix` ('' for a single-layer streaming model). */
export function layerNames(suffix: string): LayerNames {
  const s = suffix;
  const names = ['W', 'B', 'M', 'P', 'RB', 'V', 'H', 'C', 'G', 'VR', 'XV', 'RW', 'RWX', 'RWH'] as const;
  return Object.fromEntries(names.map((n) => [n, n + s])) as unknown as LayerNames;
}

export interface CellEmitContext {
  b: CodeBuilder;
  layer: QuantRecurrentLayer;
  n: LayerNames;
  espruino: boolean;
  /** espruino: E.convolve over cached row views (RW, RWX, RWH), or else over views of ROW_GROUP rows at the row's offset (weights in flash). */
  rowViews: boolean;
  /** espruino: keep the portable loops as the fallback when E.convolve is missing (not with weights in flash: they need Espruino). */
  portable: boolean;
}

/** `native` (E.convolve statements) on the espruino target, with the portable `loops` as its fallback or alone. */
export function emitDot(b: CodeBuilder, ctx: { espruino: boolean; portable: boolean }, native: string, loops: () => void): void {
  if (!ctx.espruino) loops();
  else if (!ctx.portable) b.line(native);
  else {
    b.line(`if (native) ${native}`);
    b.block('else {', loops);
  }
}

/** Emit the recurrent step of one layer: reads its v (and cell state), writes its gates, cell state and h. */
export function emitCellStep(ctx: CellEmitContext): void {
  const NU = ctx.layer.units;
  const { G } = ctx.n;
  switch (ctx.layer.cell) {
    case 'lstm':
      [GATE.input, GATE.forget, GATE.cell, GATE.output].forEach((g) => emitGateRows(ctx, g, ctx.n.V));
      emitCellUpdate(ctx, { input: `${G}[${GATE.input * NU} + u]`, forget: GATE.forget, cell: GATE.cell, output: GATE.output });
      return;
    case 'peephole':
      emitPeephole(ctx);
      return;
    case 'cifg':
      [CIFG_GATE.forget, CIFG_GATE.cell, CIFG_GATE.output].forEach((g) => emitGateRows(ctx, g, ctx.n.V));
      emitCellUpdate(ctx, { input: `(32768 - ${G}[${CIFG_GATE.forget * NU} + u])`, forget: CIFG_GATE.forget, cell: CIFG_GATE.cell, output: CIFG_GATE.output });
      return;
    case 'gru':
      emitGateRows(ctx, GRU_GATE.update, ctx.n.V);
      emitGateRows(ctx, GRU_GATE.reset, ctx.n.V);
      emitResetProduct(ctx);
      emitGateRows(ctx, GRU_GATE.candidate, ctx.n.VR);
      emitGruHidden(ctx);
      return;
    case 'gru-reset-after':
      emitGateRows(ctx, GRU_GATE.update, ctx.n.V);
      emitGateRows(ctx, GRU_GATE.reset, ctx.n.V);
      emitResetAfterCandidate(ctx);
      emitGruHidden(ctx);
      return;
    case 'rnn':
      emitGateRows(ctx, 0, ctx.n.V);
      emitRnnHidden(ctx);
      return;
  }
}

/** acc = B[r] + Σ W[r, i] vec[i]: one E.convolve per row (a cached view, or W at the row's offset), or the portable loop. */
function emitRowAcc(ctx: CellEmitContext, vec: string): void {
  const { b, layer, n, rowViews } = ctx;
  const NV = layer.inputSize + layer.units;
  const loop = () => {
    b.line(`acc = ${n.B}[r]; w = r * ${NV};`);
    b.line(`for (i = 0; i < ${NV}; i++) acc += ${n.W}[w + i] * ${vec}[i];`);
  };
  // E.convolve(a, b, o) = Σ_i a[i] b[i + o] over a's length: vec against row r, at (r % ROW_GROUP)*NV of its group's view.
  const native = rowViews ? `acc = E.convolve(${n.RW}[r], ${vec}, 0) + ${n.B}[r];` : `acc = E.convolve(${vec}, ${n.RW}[r >> ${GROUP_BITS}], (r & ${ROW_GROUP - 1}) * ${NV}) + ${n.B}[r];`;
  emitDot(b, ctx, native, loop);
}

/** G[r] = σ(z) or tanh(z) by the row's gate. */
function emitActivation(ctx: CellEmitContext, gate: number): void {
  const { b, layer, n } = ctx;
  if (TANH_GATES.has(gateNames(layer.cell)[gate])) emitTanh(b, 'z', 'y', 'TT');
  else emitSigmoid(b, 'z', 'y', 'TT');
  b.line(`${n.G}[r] = y;`);
}

/**
 * The rows of gate g over the int8 vector `vec` (v, or v' for the GRU candidate):
 *   acc = Σ W[r,i] vec[i] + B[r];  z = sat16(((acc*M[r] + 2^(S-1)) >> S) [+ peephole]);  G[r] = σ(z) or tanh(z)
 * `peephole`: the index of the gate's peephole weights; the term is ((C[u]*P[k] + 2^(P-1)) >> P).
 */
function emitGateRows(ctx: CellEmitContext, g: number, vec: string, peephole?: number): void {
  const { b, layer, n } = ctx;
  const { units: NU, gateShift: S, cell, peepholeShift } = layer;
  const name = gateNames(cell)[g];
  const tanh = TANH_GATES.has(name);
  const rescaled = `(acc * ${n.M}[r] + 2^${S - 1}) >> ${S}`;
  const peepholeText = ` + ((${n.C}[u]*${n.P}[${peephole === undefined ? 0 : peephole * NU}+u] + 2^${peepholeShift - 1}) >> ${peepholeShift})`;
  b.comment(`gate ${name} (rows ${g * NU}..${(g + 1) * NU - 1}): acc = Σ ${n.W}[r,i] ${vec}[i] + ${n.B}[r];`);
  b.comment(`  gateInQ12 = sat16(${peephole === undefined ? rescaled : `(${rescaled})${peepholeText}`});  ${n.G}[r] = ${tanh ? 'tanh' : 'σ'}(gateInQ12)  (Q3.12 -> Q0.15)`);
  b.block(`for (r = ${g * NU}; r < ${(g + 1) * NU}; r++) {`, () => {
    emitRowAcc(ctx, vec);
    if (peephole === undefined) b.line(`z = ${roundShiftText(`acc * ${n.M}[r]`, S)};`);
    else {
      b.line(`u = r - ${g * NU};`);
      b.line(`z = (${roundShiftText(`acc * ${n.M}[r]`, S)}) + (${roundShiftText(`${n.C}[u] * ${n.P}[${peephole * NU} + u]`, peepholeShift)});`);
    }
    emitSaturateInt16(b, 'z');
    emitActivation(ctx, g);
  });
}

/**
 * c = sat16(((f*c + 2^14) >> 15) + ((i*g + 2^(14+K)) >> (15+K))) for every unit, and in the
 * same loop h = sat8((o * tanh(c) + 2^22) >> 23) when `output` (the output gate) is given.
 */
function emitCellUpdate(ctx: CellEmitContext, gates: { input: string; forget: number; cell: number; output?: number }): void {
  const { b, layer, n } = ctx;
  const { units: NU, cellIntBits: K } = layer;
  b.comment(`c = sat16(((f*c + 2^14) >> 15) + ((i*g + 2^${14 + K}) >> ${15 + K}))   (-> Q${K}.${15 - K})`);
  if (layer.cell === 'cifg') b.comment('CIFG: the input gate is i = 2^15 - f');
  if (gates.output !== undefined) b.comment('h = sat8((o * tanh(c) + 2^22) >> 23)   (Q0.15 x Q0.15 -> Q0.7)');
  b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    b.line(
      `c = (${roundShiftText(`${n.G}[${gates.forget * NU} + u] * ${n.C}[u]`, 15)}) + ` +
        `(${roundShiftText(`${gates.input} * ${n.G}[${gates.cell * NU} + u]`, 15 + K)});`,
    );
    emitSaturateInt16(b, 'c');
    b.line(`${n.C}[u] = c;`);
    if (gates.output !== undefined) emitHiddenOfCell(ctx, 'c', gates.output);
  });
}

/** h = sat8((o * tanh(c) + 2^22) >> 23) for unit u, c in Q(K).(15-K). */
function emitHiddenOfCell(ctx: CellEmitContext, cell: string, outputGate: number): void {
  const { b, layer, n } = ctx;
  const { units: NU, cellIntBits: K } = layer;
  b.line(`z = ${cellToQ12Text(cell, K)}; // tanh argument, Q3.12`);
  emitTanh(b, 'z', 't', 'TT');
  b.line(`h = ${roundShiftText(`${n.G}[${outputGate * NU} + u] * t`, 23)};`);
  emitSaturateInt8(b, 'h');
  b.line(`${n.H}[u] = h;`);
}

/** h = sat8((o * tanh(c) + 2^22) >> 23), for every unit (peephole: after the output gate rows). */
function emitHidden(ctx: CellEmitContext, outputGate: number): void {
  const { b, layer, n } = ctx;
  b.comment('h = sat8((o * tanh(c) + 2^22) >> 23)   (Q0.15 x Q0.15 -> Q0.7)');
  b.block(`for (u = 0; u < ${layer.units}; u++) {`, () => emitHiddenOfCell(ctx, `${n.C}[u]`, outputGate));
}

/** Peephole LSTM (NUMERICS.md §5e): i, f see c(t-1); the cell updates; then o sees c(t). */
function emitPeephole(ctx: CellEmitContext): void {
  const NU = ctx.layer.units;
  const { V, G } = ctx.n;
  emitGateRows(ctx, GATE.input, V, PEEPHOLE.input);
  emitGateRows(ctx, GATE.forget, V, PEEPHOLE.forget);
  emitGateRows(ctx, GATE.cell, V);
  emitCellUpdate(ctx, { input: `${G}[${GATE.input * NU} + u]`, forget: GATE.forget, cell: GATE.cell });
  ctx.b.comment('the output gate sees the new cell state');
  emitGateRows(ctx, GATE.output, V, PEEPHOLE.output);
  emitHidden(ctx, GATE.output);
}

/** GRU (reset before): v' = [input, r ⊙ h], VR[I+u] = sat8((r*h + 2^14) >> 15). */
function emitResetProduct(ctx: CellEmitContext): void {
  const { b, layer, n } = ctx;
  const { units: NU, inputSize: NI } = layer;
  b.comment(`v' = [input, r ⊙ h]:  ${n.VR}[${NI}+u] = sat8((r*h + 2^14) >> 15)   (Q0.15 x Q0.7 -> Q0.7)`);
  b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    b.line(`h = ${roundShiftText(`${n.G}[${GRU_GATE.reset * NU} + u] * ${n.H}[u]`, 15)};`);
    emitSaturateInt8(b, 'h');
    b.line(`${n.VR}[${NI} + u] = h;`);
  });
}

/**
 * GRU reset-after candidate rows (NUMERICS.md §5d):
 *   nX = (accX*M[r] + 2^(S-1)) >> S;  nH = sat17((accH*M[r] + 2^(S-1)) >> S)
 *   G[r] = tanh(sat16(nX + ((r*nH + 2^14) >> 15)))
 */
function emitResetAfterCandidate(ctx: CellEmitContext): void {
  const { b, layer, n } = ctx;
  const { units: NU, inputSize: NI, gateShift: S } = layer;
  const NV = NI + NU;
  const first = GRU_GATE.candidate * NU;
  b.comment(`gate candidate (rows ${first}..${first + NU - 1}), reset after the recurrent product:`);
  b.comment(`  accX = Σ ${n.W}[r,i<${NI}] ${n.V}[i] + ${n.B}[r];  accH = Σ ${n.W}[r,${NI}+j] h[j] + ${n.RB}[u]`);
  b.comment(`  nX = (accX*M[r] + 2^${S - 1}) >> ${S};  nH = (accH*M[r] + 2^${S - 1}) >> ${S} saturated to [${RECURRENT_PART_MIN}, ${RECURRENT_PART_MAX}]`);
  b.comment('  G[r] = tanh(sat16(nX + ((r*nH + 2^14) >> 15)))');
  b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    b.line(`r = ${first} + u;`);
    const loops = () => {
      b.line(`acc = ${n.B}[r]; w = r * ${NV};`);
      b.line(`for (i = 0; i < ${NI}; i++) acc += ${n.W}[w + i] * ${n.V}[i];`);
      b.line(`n = ${n.RB}[u];`);
      b.line(`for (i = ${NI}; i < ${NV}; i++) n += ${n.W}[w + i] * ${n.V}[i];`);
    };
    const native = ctx.rowViews
      ? `{ acc = E.convolve(${n.RWX}[u], ${n.XV}, 0) + ${n.B}[r]; n = E.convolve(${n.RWH}[u], ${n.H}, 0) + ${n.RB}[u]; }`
      : `{ w = (r & ${ROW_GROUP - 1}) * ${NV}; acc = E.convolve(${n.XV}, ${n.RW}[r >> ${GROUP_BITS}], w) + ${n.B}[r]; n = E.convolve(${n.H}, ${n.RW}[r >> ${GROUP_BITS}], w + ${NI}) + ${n.RB}[u]; }`;
    emitDot(b, ctx, native, loops);
    b.line(`z = ${roundShiftText(`acc * ${n.M}[r]`, S)};`);
    b.line(`n = ${roundShiftText(`n * ${n.M}[r]`, S)};`);
    emitSaturate(b, 'n', RECURRENT_PART_MIN, RECURRENT_PART_MAX);
    b.line(`z += ${roundShiftText(`${n.G}[${GRU_GATE.reset * NU} + u] * n`, 15)};`);
    emitSaturateInt16(b, 'z');
    emitActivation(ctx, GRU_GATE.candidate);
  });
}

/** GRU: h = sat8((z*h + (((2^15 - z)*n + 2^7) >> 8) + 2^14) >> 15). */
function emitGruHidden(ctx: CellEmitContext): void {
  const { b, layer, n } = ctx;
  const NU = layer.units;
  b.comment('h = sat8((z*h + (((2^15 - z)*n + 2^7) >> 8) + 2^14) >> 15)   (Q0.22 -> Q0.7)');
  b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    b.line(`z = ${n.G}[${GRU_GATE.update * NU} + u];`);
    b.line(`h = (z * ${n.H}[u] + (${roundShiftText(`(32768 - z) * ${n.G}[${GRU_GATE.candidate * NU} + u]`, 8)}) + 16384) >> 15;`);
    emitSaturateInt8(b, 'h');
    b.line(`${n.H}[u] = h;`);
  });
}

/** Simple RNN: h = sat8((tanh + 2^7) >> 8). */
function emitRnnHidden(ctx: CellEmitContext): void {
  const { b, layer, n } = ctx;
  b.comment('h = sat8((tanh + 2^7) >> 8)   (Q0.15 -> Q0.7)');
  b.block(`for (u = 0; u < ${layer.units}; u++) {`, () => {
    b.line(`h = ${roundShiftText(`${n.G}[u]`, 8)};`);
    emitSaturateInt8(b, 'h');
    b.line(`${n.H}[u] = h;`);
  });
}
