/**
 * The recurrent part of the generated `stepQ`, one emitter per cell
 * (docs/NUMERICS.md §5-§5f). Names it relies on, declared by emit-module.ts:
 * V (v = [x, h] int8), H (h, a view of V), C (cell state), G (gate outputs),
 * W / B / M (gate rows), P (peephole multipliers), RB (reset-after recurrent
 * bias), VR (GRU v' = [x, r ⊙ h]), XV (x, a view of V), the row views RW /
 * RWX / RWH (espruino target), and the locals i, u, r, w, acc, z, a, k, y, c, t, h, n.
 */
import { CIFG_GATE, GATE, GRU_GATE, PEEPHOLE, TANH_GATES, gateNames, type QuantizedModel } from '../runtime/model.ts';
import { RECURRENT_PART_MAX, RECURRENT_PART_MIN } from '../runtime/fixed-point.ts';
import type { CodeBuilder } from './builder.ts';
import { cellToQ12Text, emitSaturate, emitSaturateInt16, emitSaturateInt8, emitSigmoid, emitTanh, roundShiftText } from './emit-primitives.ts';

export interface CellEmitContext {
  b: CodeBuilder;
  q: QuantizedModel;
  espruino: boolean;
}

/** Emit the recurrent step of the model's cell: reads V (and C), writes G, C and H. */
export function emitCellStep(ctx: CellEmitContext): void {
  switch (ctx.q.recurrent.cell) {
    case 'lstm':
      [GATE.input, GATE.forget, GATE.cell, GATE.output].forEach((g) => emitGateRows(ctx, g, 'V'));
      emitCellUpdate(ctx, { input: `G[${GATE.input * units(ctx)} + u]`, forget: GATE.forget, cell: GATE.cell, output: GATE.output });
      return;
    case 'peephole':
      emitPeephole(ctx);
      return;
    case 'cifg':
      [CIFG_GATE.forget, CIFG_GATE.cell, CIFG_GATE.output].forEach((g) => emitGateRows(ctx, g, 'V'));
      emitCellUpdate(ctx, { input: `(32768 - G[${CIFG_GATE.forget * units(ctx)} + u])`, forget: CIFG_GATE.forget, cell: CIFG_GATE.cell, output: CIFG_GATE.output });
      return;
    case 'gru':
      emitGateRows(ctx, GRU_GATE.update, 'V');
      emitGateRows(ctx, GRU_GATE.reset, 'V');
      emitResetProduct(ctx);
      emitGateRows(ctx, GRU_GATE.candidate, 'VR');
      emitGruHidden(ctx);
      return;
    case 'gru-reset-after':
      emitGateRows(ctx, GRU_GATE.update, 'V');
      emitGateRows(ctx, GRU_GATE.reset, 'V');
      emitResetAfterCandidate(ctx);
      emitGruHidden(ctx);
      return;
    case 'rnn':
      emitGateRows(ctx, 0, 'V');
      emitRnnHidden(ctx);
      return;
  }
}

const units = (ctx: CellEmitContext) => ctx.q.recurrent.units;

/** acc = B[r] + Σ W[r, i] vec[i]: one E.convolve per cached row view, or the portable loop. */
function emitRowAcc(ctx: CellEmitContext, vec: string): void {
  const { b, q, espruino } = ctx;
  const NV = q.recurrent.inputSize + q.recurrent.units;
  const loop = () => {
    b.line(`acc = B[r]; w = r * ${NV};`);
    b.line(`for (i = 0; i < ${NV}; i++) acc += W[w + i] * ${vec}[i];`);
  };
  if (espruino) {
    b.line(`if (native) acc = E.convolve(RW[r], ${vec}, 0) + B[r];`);
    b.block('else {', loop);
  } else loop();
}

/** G[r] = σ(z) or tanh(z) by the row's gate. */
function emitActivation(ctx: CellEmitContext, gate: number): void {
  const { b, q } = ctx;
  if (TANH_GATES.has(gateNames(q.recurrent.cell)[gate])) emitTanh(b, 'z', 'y', 'TT', q.tables.tanhQ15.length - 1);
  else emitSigmoid(b, 'z', 'y', 'ST', q.tables.sigmoidQ15.length - 1);
  b.line('G[r] = y;');
}

/**
 * The rows of gate g over the int8 vector `vec` (V, or VR for the GRU candidate):
 *   acc = Σ W[r,i] vec[i] + B[r];  z = sat16(((acc*M[r] + 2^(S-1)) >> S) [+ peephole]);  G[r] = σ(z) or tanh(z)
 * `peephole`: the index of the gate's peephole weights; the term is ((C[u]*P[k] + 2^(P-1)) >> P).
 */
function emitGateRows(ctx: CellEmitContext, g: number, vec: string, peephole?: number): void {
  const { b, q } = ctx;
  const { units: NU, gateShift: S, cell, peepholeShift } = q.recurrent;
  const name = gateNames(cell)[g];
  const tanh = TANH_GATES.has(name);
  const peepholeText = peephole === undefined ? '' : ` + ((C[u]*P[${peephole * NU}+u] + 2^${peepholeShift - 1}) >> ${peepholeShift})`;
  b.comment(`gate ${name} (rows ${g * NU}..${(g + 1) * NU - 1}): acc = Σ W[r,i] ${vec}[i] + B[r];`);
  const rescaled = `(acc * M[r] + 2^${S - 1}) >> ${S}`;
  b.comment(`  gateInQ12 = sat16(${peephole === undefined ? rescaled : `(${rescaled})${peepholeText}`});  G[r] = ${tanh ? 'tanh' : 'σ'}(gateInQ12)  (Q3.12 -> Q0.15)`);
  b.block(`for (r = ${g * NU}; r < ${(g + 1) * NU}; r++) {`, () => {
    emitRowAcc(ctx, vec);
    if (peephole === undefined) b.line(`z = ${roundShiftText('acc * M[r]', S)};`);
    else {
      b.line(`u = r - ${g * NU};`);
      b.line(`z = (${roundShiftText('acc * M[r]', S)}) + (${roundShiftText(`C[u] * P[${peephole * NU} + u]`, peepholeShift)});`);
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
  const { b, q } = ctx;
  const { units: NU, cellIntBits: K } = q.recurrent;
  b.comment(`c = sat16(((f*c + 2^14) >> 15) + ((i*g + 2^${14 + K}) >> ${15 + K}))   (-> Q${K}.${15 - K})`);
  if (q.recurrent.cell === 'cifg') b.comment('CIFG: the input gate is i = 2^15 - f');
  if (gates.output !== undefined) b.comment('h = sat8((o * tanh(c) + 2^22) >> 23)   (Q0.15 x Q0.15 -> Q0.7)');
  b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    b.line(
      `c = (${roundShiftText(`G[${gates.forget * NU} + u] * C[u]`, 15)}) + ` +
        `(${roundShiftText(`${gates.input} * G[${gates.cell * NU} + u]`, 15 + K)});`,
    );
    emitSaturateInt16(b, 'c');
    b.line('C[u] = c;');
    if (gates.output !== undefined) emitHiddenOfCell(ctx, 'c', gates.output);
  });
}

/** h = sat8((o * tanh(c) + 2^22) >> 23) for unit u, c in Q(K).(15-K). */
function emitHiddenOfCell(ctx: CellEmitContext, cell: string, outputGate: number): void {
  const { b, q } = ctx;
  const { units: NU, cellIntBits: K } = q.recurrent;
  b.line(`z = ${cellToQ12Text(cell, K)}; // tanh argument, Q3.12`);
  emitTanh(b, 'z', 't', 'TT', q.tables.tanhQ15.length - 1);
  b.line(`h = ${roundShiftText(`G[${outputGate * NU} + u] * t`, 23)};`);
  emitSaturateInt8(b, 'h');
  b.line('H[u] = h;');
}

/** h = sat8((o * tanh(c) + 2^22) >> 23), for every unit (peephole: after the output gate rows). */
function emitHidden(ctx: CellEmitContext, outputGate: number): void {
  const { b } = ctx;
  b.comment('h = sat8((o * tanh(c) + 2^22) >> 23)   (Q0.15 x Q0.15 -> Q0.7)');
  b.block(`for (u = 0; u < ${units(ctx)}; u++) {`, () => emitHiddenOfCell(ctx, 'C[u]', outputGate));
}

/** Peephole LSTM (NUMERICS.md §5e): i, f see c(t-1); the cell updates; then o sees c(t). */
function emitPeephole(ctx: CellEmitContext): void {
  const NU = units(ctx);
  emitGateRows(ctx, GATE.input, 'V', PEEPHOLE.input);
  emitGateRows(ctx, GATE.forget, 'V', PEEPHOLE.forget);
  emitGateRows(ctx, GATE.cell, 'V');
  emitCellUpdate(ctx, { input: `G[${GATE.input * NU} + u]`, forget: GATE.forget, cell: GATE.cell });
  ctx.b.comment('the output gate sees the new cell state');
  emitGateRows(ctx, GATE.output, 'V', PEEPHOLE.output);
  emitHidden(ctx, GATE.output);
}

/** GRU (reset before): v' = [x, r ⊙ h], VR[NI+u] = sat8((r*h + 2^14) >> 15). */
function emitResetProduct(ctx: CellEmitContext): void {
  const { b, q } = ctx;
  const { units: NU, inputSize: NI } = q.recurrent;
  b.comment(`v' = [x, r ⊙ h]:  VR[NI+u] = sat8((r*h + 2^14) >> 15)   (Q0.15 x Q0.7 -> Q0.7)`);
  b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    b.line(`h = ${roundShiftText(`G[${GRU_GATE.reset * NU} + u] * H[u]`, 15)};`);
    emitSaturateInt8(b, 'h');
    b.line(`VR[${NI} + u] = h;`);
  });
}

/**
 * GRU reset-after candidate rows (NUMERICS.md §5d):
 *   nX = (accX*M[r] + 2^(S-1)) >> S;  nH = sat17((accH*M[r] + 2^(S-1)) >> S)
 *   G[r] = tanh(sat16(nX + ((r*nH + 2^14) >> 15)))
 */
function emitResetAfterCandidate(ctx: CellEmitContext): void {
  const { b, q, espruino } = ctx;
  const { units: NU, inputSize: NI, gateShift: S } = q.recurrent;
  const NV = NI + NU;
  const first = GRU_GATE.candidate * NU;
  b.comment(`gate candidate (rows ${first}..${first + NU - 1}), reset after the recurrent product:`);
  b.comment(`  accX = Σ W[r,i<${NI}] x[i] + B[r];  accH = Σ W[r,${NI}+j] h[j] + RB[u]`);
  b.comment(`  nX = (accX*M[r] + 2^${S - 1}) >> ${S};  nH = (accH*M[r] + 2^${S - 1}) >> ${S} saturated to [${RECURRENT_PART_MIN}, ${RECURRENT_PART_MAX}]`);
  b.comment('  G[r] = tanh(sat16(nX + ((r*nH + 2^14) >> 15)))');
  b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    b.line(`r = ${first} + u;`);
    const loops = () => {
      b.line(`acc = B[r]; w = r * ${NV};`);
      b.line(`for (i = 0; i < ${NI}; i++) acc += W[w + i] * V[i];`);
      b.line('n = RB[u];');
      b.line(`for (i = ${NI}; i < ${NV}; i++) n += W[w + i] * V[i];`);
    };
    if (espruino) {
      b.line('if (native) { acc = E.convolve(RWX[u], XV, 0) + B[r]; n = E.convolve(RWH[u], H, 0) + RB[u]; }');
      b.block('else {', loops);
    } else loops();
    b.line(`z = ${roundShiftText('acc * M[r]', S)};`);
    b.line(`n = ${roundShiftText('n * M[r]', S)};`);
    emitSaturate(b, 'n', RECURRENT_PART_MIN, RECURRENT_PART_MAX);
    b.line(`z += ${roundShiftText(`G[${GRU_GATE.reset * NU} + u] * n`, 15)};`);
    emitSaturateInt16(b, 'z');
    emitActivation(ctx, GRU_GATE.candidate);
  });
}

/** GRU: h = sat8((z*h + (((2^15 - z)*n + 2^7) >> 8) + 2^14) >> 15). */
function emitGruHidden(ctx: CellEmitContext): void {
  const { b, q } = ctx;
  const NU = q.recurrent.units;
  b.comment('h = sat8((z*h + (((2^15 - z)*n + 2^7) >> 8) + 2^14) >> 15)   (Q0.22 -> Q0.7)');
  b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    b.line(`z = G[${GRU_GATE.update * NU} + u];`);
    b.line(`h = (z * H[u] + (${roundShiftText(`(32768 - z) * G[${GRU_GATE.candidate * NU} + u]`, 8)}) + 16384) >> 15;`);
    emitSaturateInt8(b, 'h');
    b.line('H[u] = h;');
  });
}

/** Simple RNN: h = sat8((tanh + 2^7) >> 8). */
function emitRnnHidden(ctx: CellEmitContext): void {
  const { b, q } = ctx;
  b.comment('h = sat8((tanh + 2^7) >> 8)   (Q0.15 -> Q0.7)');
  b.block(`for (u = 0; u < ${q.recurrent.units}; u++) {`, () => {
    b.line(`h = ${roundShiftText('G[u]', 8)};`);
    emitSaturateInt8(b, 'h');
    b.line('H[u] = h;');
  });
}
