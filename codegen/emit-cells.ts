/**
 * The recurrent part of the generated `stepQ`, one emitter per cell
 * (docs/NUMERICS.md §5-§5f), for one layer. The arrays it uses are named by
 * `LayerNames` (declared by emit-module.ts / emit-window.ts): v = [input, h]
 * (int8), h (a view of v), the new h (HN, copied into h once every row has
 * read the old one), the cell state, the gate outputs, the gate rows W, the
 * rounding offsets BM, the multipliers M, the peephole multipliers P, the
 * reset-after recurrent offsets RBM, the GRU's v' = [input, r ⊙ h], the cell
 * state of the layer below CB (depth-gated LSTM), the input
 * view XV of v, and the row views RU / RWX / RWH (RW with weights in flash; the espruino dialect); and the
 * locals i, u, r, w, acc, z, k, y, c, t, h, n and the gate outputs of the
 * unit at hand: ig, fg, cg, og (LSTM family), dg (depth gate), zg, rg (GRU).
 *
 * The loops run unit by unit: every gate row of unit u, then its cell and
 * hidden state, so a gate output is used from a local and the loop runs U
 * times instead of once per row. Every row still reads the old h: the new
 * one goes to HN until the loop ends (the GRU, whose candidate rows read v',
 * writes h in place). On Espruino the rows of unit u are RU[u] (a short
 * array: a plain array is a list, and reading element r walks r links), and
 * the layer's arrays are read through locals (LOCAL, codegen/layer-names.ts) set before its
 * loops: Espruino looks a name up by walking the scopes, the locals first.
 */
import {
  CELLS,
  resetsBeforeProduct,
  hasRecurrentBias,
  hasPeepholes,
  CIFG_GATE,
  DEPTH_GATED_GATE,
  DEPTH_TERM,
  GATE,
  GRU_GATE,
  PEEPHOLE,
  TANH_GATES,
  gateNames,
  hasCellState,
  readsCellBelow,
  type CellKind,
  type QuantRecurrentLayer,
} from '../core/model.ts';
import type { CodeBuilder } from './builder.ts';
import type { Dialect } from './dialect.ts';
import { LOCAL, type LayerNames } from './layer-names.ts';
import { INT16_MAX, INT16_MIN, INT8_MAX, INT8_MIN, RECURRENT_PART_MAX, RECURRENT_PART_MIN } from '../core/fixed-point.ts';
import { roundShiftText } from './emit-primitives.ts';
import { clockCycle, clockModules } from '../core/clock.ts';

/**
 * Every local of stepQ: the scratch values, the gate outputs of the unit (ig, fg, cg, og; zg, rg),
 * the table TT (tt), conv (cv), clip (cl, Espruino), the unit's row views (q), and LOCAL.
 * stepQ declares the ones it reads, the most read first (codegen/locals-order.ts: Espruino finds
 * a local by walking the list); this order breaks ties.
 */
export const STEP_LOCALS = [
  'z',
  'r',
  'm',
  'bm',
  'k',
  'tt',
  'g',
  'cv',
  'cl',
  'v',
  'q',
  'ig',
  'fg',
  'cg',
  'og',
  'dg',
  'zg',
  'rg',
  'c',
  'cc',
  't',
  'h',
  'hn',
  'u',
  'ru',
  'i',
  'w',
  'acc',
  'y',
  'n',
  'wq',
  'pp',
  'rbm',
  'hh',
  'vr',
  'xv',
  'rw',
  'rwx',
  'rwh',
  'cb',
];

/** Whether a cell writes its new h into HN first (every cell whose rows read h while the unit loop runs). */
export const needsNewHidden = (layer: QuantRecurrentLayer): boolean => layer.cell !== 'gru';

export interface CellEmitContext {
  b: CodeBuilder;
  layer: QuantRecurrentLayer;
  n: LayerNames;
  /** How each statement is written: codegen/dialect.ts. */
  dialect: Dialect;
  /** The unit's row views in the loop at hand: the local q, or RU[u] read in place where the loop reads one row. */
  unitRows?: string;
  /** A clockwork layer's counter, by its name in the module. */
  clock?: string;
}

/** Emit the recurrent step of one layer: reads its v (and cell state), writes its gates, cell state and h. */
export function emitCellStep(outer: CellEmitContext): void {
  const ctx = { ...outer, n: LOCAL, clock: outer.n.CK };
  emitLocals(outer);
  CELL_EMITTERS[ctx.layer.cell](ctx);
}

/** The layer's rows read whole by conv, in the order of RU[u]: every gate but the reset-after candidate (read in two parts). */
export const wholeRowGates = (layer: QuantRecurrentLayer): number[] =>
  gateNames(layer.cell)
    .map((_, g) => g)
    .filter((g) => !(hasRecurrentBias(layer.cell) && g === GRU_GATE.candidate));

/** The locals of LOCAL that this layer reads, set from its arrays (and cv = conv, tt = TT). */
function emitLocals(ctx: CellEmitContext): void {
  const { b, layer, n, dialect } = ctx;
  const names: (keyof LayerNames)[] = ['V', 'M', 'BM', 'G', 'H', ...dialect.weightArrays];
  if (hasCellState(layer.cell)) names.push('C');
  if (needsNewHidden(layer)) names.push('HN');
  if (hasPeepholes(layer.cell)) names.push('P');
  if (readsCellBelow(layer.cell)) names.push('P', 'CB');
  if (resetsBeforeProduct(layer.cell)) names.push('VR');
  if (hasRecurrentBias(layer.cell)) {
    names.push('RBM', ...dialect.candidateArrays);
  }
  const sets = [
    ...dialect.builtinLocals,
    'tt = TT',
    ...names.map((k) => {
      if (n[k] === undefined) throw new Error(`layer array ${k} not named`);
      return `${LOCAL[k]} = ${n[k]}`;
    }),
  ];
  b.line(`${sets.join('; ')};`);
}

/**
 * The unit loop, with q = the unit's row views first on Espruino; a loop that reads one
 * row (`oneRow`) reads it from RU[u] in place, a statement fewer per unit.
 */
function unitLoop(ctx: CellEmitContext, body: (ctx: CellEmitContext) => void, oneRow = false): void {
  ctx.b.block(`for (u = 0; u < ${ctx.layer.units}; u++) {`, () => {
    if (ctx.dialect.rowViews && !oneRow) ctx.b.line(`q = ${ctx.n.RU}[u];`);
    body(oneRow ? { ...ctx, unitRows: `${ctx.n.RU}[u]` } : ctx);
  });
}

/** Σ W[r, i] vec[i] over the row's `count` columns from `from` (its bias is in BM), as an expression (the dialect's). */
function rowDot(ctx: CellEmitContext, into: string, vec: string, view: string, from: number, count: number): string {
  const rowLength = ctx.layer.inputSize + ctx.layer.units;
  return ctx.dialect.rowDot(ctx.b, ctx.n, { into, vec, view, from, count, rowLength });
}

/** The activation of a gate: tanh for the candidate gates, σ for the others. */
const activationOf = (layer: QuantRecurrentLayer, gate: number): 'sigmoid' | 'tanh' =>
  TANH_GATES.has(gateNames(layer.cell)[gate]) ? 'tanh' : 'sigmoid';

/**
 * Gate row r (of gate g, unit u) over `vec`, its output into G[r] and the local `out`:
 *   acc = Σ W[r,i] vec[i];  z = (acc*M[r] + BM[r]) >> S  [+ (c*P[k] + 2^(P-1)) >> P];  out = σ(sat16(z)) or tanh(z)
 * BM[r] = B[r]*M[r] + 2^(S-1), so z is roundShift((acc + B[r]) * M[r], S) of NUMERICS.md §5.
 * The espruino dialect writes the whole row as one statement, saturated inside by cl.
 * `peephole`: the diagonal weights (peepholes, or a depth gate's two) and the cell states they see.
 */
function emitGateRow(ctx: CellEmitContext, g: number, vec: string, out: string, peephole?: DiagonalTerm | DiagonalTerm[]): void {
  const { b, layer, n } = ctx;
  const { units: NU, gateShift: S, peepholeShift } = layer;
  b.comment(`${gateNames(layer.cell)[g]} gate, row r = ${g * NU} + u`);
  const acc = rowDot(ctx, 'acc', vec, `${ctx.unitRows ?? 'q'}[${wholeRowGates(layer).indexOf(g)}]`, 0, layer.inputSize + NU);
  const operand = `${acc} * ${n.M}[r] + ${n.BM}[r]`;
  // Σ roundShift(c * P[k*U + u], P): one term (a peephole) as it is, several in parentheses each
  const term = (t: DiagonalTerm) => roundShiftText(`${t.cell} * ${n.P}[${t.k * NU} + u]`, peepholeShift);
  const plus =
    peephole === undefined ? undefined : Array.isArray(peephole) ? peephole.map((t) => `(${term(t)})`).join(' + ') : term(peephole);
  ctx.dialect.activate(b, activationOf(layer, g), { base: operand, shift: S, plus }, `${n.G}[r] = ${out}`, 'tt');
}

/** A diagonal term of a gate row: the weights P[k*U + u] times the cell state `cell`. */
interface DiagonalTerm {
  k: number;
  cell: string;
}

/** target = sat(expr, lo, hi) through the local `via`; `keepVia`: the code after reads the value from `via`. */
function emitSaturatedStore(
  ctx: CellEmitContext,
  target: string,
  expr: string,
  lo: number,
  hi: number,
  via: string,
  keepVia = false,
): void {
  ctx.dialect.saturatedStore(ctx.b, target, expr, lo, hi, via, keepVia);
}

/** `r = first + u` for the unit's first row, then `r += U` from one gate to the next. */
function nextRow(ctx: CellEmitContext, g: number, previous: number | undefined): void {
  const NU = ctx.layer.units;
  if (previous === undefined) ctx.b.line(g === 0 ? 'r = u;' : `r = ${g * NU} + u;`);
  else ctx.b.line(`r += ${(g - previous) * NU};`);
}

/** After the unit loop: the new h into h (a native copy). */
function emitHiddenCopy(ctx: CellEmitContext): void {
  ctx.b.line(`${ctx.n.H}.set(${ctx.n.HN});`);
}

/**
 * LSTM, peephole LSTM, CIFG and depth-gated LSTM (NUMERICS.md §5, §5e, §5f, §5j), unit by unit:
 *   rows i (not CIFG), f, g, then c = sat16(((f*c + 2^14) >> 15) + ((i*g + 2^(14+K)) >> (15+K))),
 *   then row o (peephole: it sees the new c), then h = sat8((o * tanh(c) + 2^22) >> 23).
 * Depth-gated: row d (it sees the old c and the lower layer's new c, CB) before the cell,
 * whose sum gains ((d*c_below + 2^14) >> 15).
 */
function emitLstmFamily(ctx: CellEmitContext): void {
  const { b, layer, n } = ctx;
  const { cellIntBits: K, cell } = layer;
  const peep = hasPeepholes(cell);
  const depth = readsCellBelow(cell);
  const coupled = CELLS[cell].coupledInputGate;
  const gates = coupled ? CIFG_GATE : GATE;
  const inputGate = coupled ? '(32768 - fg)' : 'ig';
  b.comment(`${coupled ? 'CIFG' : peep ? 'peephole LSTM' : depth ? 'depth-gated LSTM' : 'LSTM'}, unit by unit: gate rows, then`);
  const depthText = depth ? ' + ((d*c_below + 2^14) >> 15)' : '';
  b.comment(
    `  c = sat16(((f*c + 2^14) >> 15) + ((i*g + 2^${14 + K}) >> ${15 + K})${depthText})   (-> Q${K}.${15 - K})${coupled ? ', i = 2^15 - f' : ''}`,
  );
  b.comment(`  h = sat8((o * tanh(c) + 2^22) >> 23)   (Q0.15 x Q0.15 -> Q0.7), into ${n.HN} until every row has read the old h`);
  if (peep) b.comment('  peepholes: i and f see the old c, o the new one');
  if (depth) b.comment(`  depth gate d: sees the old c and the lower layer's c of this step (${n.CB}, Q${K}.${15 - K} too)`);
  unitLoop(ctx, () => {
    let previous: number | undefined;
    const row = (g: number, out: string, peephole?: DiagonalTerm | DiagonalTerm[]) => {
      nextRow(ctx, g, previous);
      previous = g;
      emitGateRow(ctx, g, n.V, out, peephole);
    };
    if (cell !== 'cifg') row(GATE.input, 'ig', peep ? { k: PEEPHOLE.input, cell: `${n.C}[u]` } : undefined);
    row(gates.forget, 'fg', peep ? { k: PEEPHOLE.forget, cell: `${n.C}[u]` } : undefined);
    row(gates.cell, 'cg');
    if (!peep) row(gates.output, 'og');
    if (depth)
      row(DEPTH_GATED_GATE.depth, 'dg', [
        { k: DEPTH_TERM.cellPrevious, cell: `${n.C}[u]` },
        { k: DEPTH_TERM.cellBelow, cell: `${n.CB}[u]` },
      ]);
    b.comment('cell');
    const depthTerm = depth ? ` + (${roundShiftText(`dg * ${n.CB}[u]`, 15)})` : '';
    const cellSum = `(${roundShiftText(`fg * ${n.C}[u]`, 15)}) + (${roundShiftText(`${inputGate} * cg`, 15 + K)})${depthTerm}`;
    emitSaturatedStore(ctx, `${n.C}[u]`, cellSum, INT16_MIN, INT16_MAX, 'c', true);
    if (peep) row(GATE.output, 'og', { k: PEEPHOLE.output, cell: 'c' });
    b.comment('hidden');
    const tanhOfCell = ctx.dialect.tanhOfCell(b, 'c', K, 'tt');
    emitSaturatedStore(ctx, `${n.HN}[u]`, roundShiftText(`og * ${tanhOfCell}`, 23), INT8_MIN, INT8_MAX, 'h');
  });
  emitHiddenCopy(ctx);
}

/** GRU rows z and r of every unit over v (both conventions); the reset-before GRU also writes v' = [input, r ⊙ h]. */
function emitUpdateReset(ctx: CellEmitContext): void {
  const { b, layer, n } = ctx;
  const { inputSize: NI } = layer;
  const resetBefore = resetsBeforeProduct(layer.cell);
  b.comment(
    `GRU, unit by unit: rows z (update) and r (reset)${resetBefore ? `, then v' = [input, r ⊙ h]: ${n.VR}[${NI}+u] = (r*h + 2^14) >> 15   (Q0.15 x Q0.7 -> Q0.7, in int8)` : ''}`,
  );
  unitLoop(ctx, () => {
    nextRow(ctx, GRU_GATE.update, undefined);
    emitGateRow(ctx, GRU_GATE.update, n.V, 'zg');
    nextRow(ctx, GRU_GATE.reset, GRU_GATE.update);
    emitGateRow(ctx, GRU_GATE.reset, n.V, 'rg');
    // sat8 of r ⊙ h is the identity: r in [0, 32767], h in [-128, 127] give -128..127 (quantize/bounds.ts)
    if (resetBefore) b.line(`${n.VR}[${NI} + u] = ${roundShiftText(`rg * ${n.H}[u]`, 15)};`);
  });
}

/** h = sat8((z*h + (((2^15 - z)*n + 2^7) >> 8) + 2^14) >> 15) of unit u into `target`, with n the candidate `cand`. */
function emitGruHidden(ctx: CellEmitContext, cand: string, target: string): void {
  const { b, layer, n } = ctx;
  b.comment('hidden: h = sat8((z*h + (((2^15 - z)*n + 2^7) >> 8) + 2^14) >> 15)   (Q0.22 -> Q0.7)');
  const firstUpdateRow = GRU_GATE.update * layer.units;
  b.line(`zg = ${n.G}[${firstUpdateRow ? `${firstUpdateRow} + u` : 'u'}];`);
  emitSaturatedStore(
    ctx,
    `${target}[u]`,
    `(zg * ${n.H}[u] + (${roundShiftText(`(32768 - zg) * ${cand}`, 8)}) + 16384) >> 15`,
    INT8_MIN,
    INT8_MAX,
    'h',
  );
}

/** GRU, reset before the recurrent product (NUMERICS.md §5b): the candidate rows read v', so h is written in place. */
function emitGru(ctx: CellEmitContext): void {
  const { b, n } = ctx;
  emitUpdateReset(ctx);
  b.comment("unit by unit: the candidate row over v', then h");
  unitLoop(
    ctx,
    (loop) => {
      nextRow(loop, GRU_GATE.candidate, undefined);
      emitGateRow(loop, GRU_GATE.candidate, n.VR, 'y');
      emitGruHidden(loop, 'y', n.H);
    },
    true,
  );
}

/**
 * GRU reset-after candidate rows (NUMERICS.md §5d), unit by unit:
 *   nX = (accX*M[r] + BM[r]) >> S;  nH = sat17((accH*M[r] + RBM[u]) >> S)
 *   G[r] = tanh(nX + ((r*nH + 2^14) >> 15)), then h into HN (the rows read h)
 */
function emitGruResetAfter(ctx: CellEmitContext): void {
  const { b, layer, n } = ctx;
  const { units: NU, inputSize: NI, gateShift: S } = layer;
  emitUpdateReset(ctx);
  b.comment(`unit by unit: the candidate row, reset after the recurrent product, then h:`);
  b.comment(`  accX = Σ ${n.W}[r,i<${NI}] v[i];  accH = Σ ${n.W}[r,${NI}+j] h[j]`);
  b.comment(
    `  nX = (accX*M[r] + ${n.BM}[r]) >> ${S};  nH = (accH*M[r] + ${n.RBM}[u]) >> ${S} saturated to [${RECURRENT_PART_MIN}, ${RECURRENT_PART_MAX}]`,
  );
  b.comment('  G[r] = tanh(nX + ((r*nH + 2^14) >> 15))   (the sum is at most 2^16 + 2^31 / 2^S: the tanh index is clamped, §4)');
  ctx.b.block(`for (u = 0; u < ${NU}; u++) {`, () => {
    nextRow(ctx, GRU_GATE.candidate, undefined);
    const accX = rowDot(ctx, 'acc', ctx.dialect.inputView ? n.XV : n.V, `${n.RWX}[u]`, 0, NI);
    b.line(`z = (${accX} * ${n.M}[r] + ${n.BM}[r]) >> ${S};`);
    const accH = rowDot(ctx, 'n', n.H, `${n.RWH}[u]`, NI, NU);
    const recurrentPart = `(${accH} * ${n.M}[r] + ${n.RBM}[u]) >> ${S}`;
    const resetTerm = roundShiftText(`${n.G}[${GRU_GATE.reset * NU} + u] * n`, 15);
    ctx.dialect.saturate(b, 'n', recurrentPart, RECURRENT_PART_MIN, RECURRENT_PART_MAX);
    ctx.dialect.activate(b, 'tanh', { base: 'z', shift: 0, plus: resetTerm }, `${n.G}[r] = y`, 'tt');
    emitGruHidden(ctx, 'y', n.HN);
  });
  emitHiddenCopy(ctx);
}

/** Simple RNN (NUMERICS.md §5c), unit by unit: the candidate row, then h = sat8((tanh + 2^7) >> 8) into HN. */
function emitRnn(ctx: CellEmitContext): void {
  const { b, n } = ctx;
  b.comment('simple RNN, unit by unit: the candidate row, then h = sat8((tanh + 2^7) >> 8)   (Q0.15 -> Q0.7)');
  unitLoop(
    ctx,
    (loop) => {
      nextRow(loop, 0, undefined);
      emitGateRow(loop, 0, n.V, 'y');
      emitSaturatedStore(loop, `${n.HN}[u]`, roundShiftText('y', 8), INT8_MIN, INT8_MAX, 'h');
    },
    true,
  );
  emitHiddenCopy(ctx);
}

/**
 * Clockwork RNN (NUMERICS.md §5i): HN starts as h (a unit whose module does not
 * run keeps its h); module i (units [s, e), period T) runs when t % T == 0, its
 * rows as the simple RNN's over the old h; then h = HN and t = (t + 1) mod L.
 */
function emitClockwork(ctx: CellEmitContext): void {
  const { b, layer, n } = ctx;
  const periods = layer.clockPeriods!;
  const clock = ctx.clock!;
  const L = clockCycle(periods);
  b.comment(`Clockwork RNN, counter ${clock} = t in 0..${L - 1}: module i (units [s, e), period T) runs when t % T == 0, unit by unit:`);
  b.comment('  the candidate row over [input, old h] (weights from faster modules are zero), then h = sat8((tanh + 2^7) >> 8);');
  b.comment(`  the other units keep h: ${n.HN} starts as a copy of it`);
  b.line(`${n.HN}.set(${n.H});`);
  for (const m of clockModules(layer.units, periods)) {
    const loop = () =>
      b.block(`for (u = ${m.start}; u < ${m.end}; u++) {`, () => {
        const row = { ...ctx, unitRows: `${n.RU}[u]` };
        nextRow(row, 0, undefined);
        emitGateRow(row, 0, n.V, 'y');
        emitSaturatedStore(row, `${n.HN}[u]`, roundShiftText('y', 8), INT8_MIN, INT8_MAX, 'h');
      });
    if (m.period === 1) loop();
    else b.block(`if (${clock} % ${m.period} === 0) {`, loop);
  }
  emitHiddenCopy(ctx);
  b.line(`${clock} = ${clock} === ${L - 1} ? 0 : ${clock} + 1;`);
}

/** The step body of each cell kind: every kind must have one. */
const CELL_EMITTERS: { readonly [K in CellKind]: (ctx: CellEmitContext) => void } = {
  lstm: emitLstmFamily,
  peephole: emitLstmFamily,
  cifg: emitLstmFamily,
  gru: emitGru,
  'gru-reset-after': emitGruResetAfter,
  rnn: emitRnn,
  clockwork: emitClockwork,
  'depth-gated': emitLstmFamily,
};
