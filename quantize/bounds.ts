/**
 * The overflow proof of docs/NUMERICS.md §7, computed from the actual
 * quantized weights. Every intermediate of a step has a worst-case magnitude
 * over all int8 inputs and all reachable states; each must stay below 2^31
 * where a bitwise op or an Int32Array store follows, and below 2^53 always.
 * The code generator refuses a model for which any bound fails.
 */
import {
  CELLS,
  resetsBeforeProduct,
  hasPeepholes,
  gateCount,
  type CellKind,
  type QuantRecurrentLayer,
  type QuantizedModel,
} from '../core/model.ts';
import {
  BITWISE_LIMIT,
  EXACT_LIMIT,
  INT16_MAX,
  INT8_MAX,
  RECURRENT_PART_MAX,
  SIGMOID_INDEX_SHIFT,
  TABLE_CENTER,
  TABLE_ENTRIES,
} from '../core/fixed-point.ts';
import { UserError } from '../core/errors.ts';
import { MAX_CLOCK_CYCLE, clockCycle } from '../core/clock.ts';

export interface BoundCheck {
  /** The intermediate, as named in NUMERICS.md. */
  name: string;
  /** Largest magnitude it can reach (proven). */
  bound: number;
  /** What it must stay below. */
  limit: number;
  ok: boolean;
}

/** Largest |v| of an int8 input or hidden value. */
const INT8_MAG = 128;
const Q15_MAG = 32768;

/** max over all int8 vectors v of |Σ w_i v_i + b| = 128 Σ|w_i| + |b|. */
export function dotBound(weights: ArrayLike<number>, start: number, length: number, bias: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += Math.abs(weights[i]);
  return INT8_MAG * sum + Math.abs(bias);
}

/**
 * Per-row |acc| bounds of the gate rows. GRU reset-after: the last rows (the
 * candidate) also carry a recurrent bias `recurrentBiasQ`; their bound covers
 * the input part and the recurrent part alike (each is at most the whole).
 */
export function gateAccBounds(
  weightsQ: ArrayLike<number>,
  biasQ: ArrayLike<number>,
  width: number,
  recurrentBiasQ: ArrayLike<number> = [],
): number[] {
  const bounds: number[] = [];
  const firstCandidate = biasQ.length - recurrentBiasQ.length;
  for (let r = 0; r < biasQ.length; r++) {
    const extra = r >= firstCandidate ? Math.abs(recurrentBiasQ[r - firstCandidate]) : 0;
    bounds.push(dotBound(weightsQ, r * width, width, biasQ[r]) + extra);
  }
  return bounds;
}

/** |c·pm| + 2^(P-1) for every int16 cell state c: the operand of the peephole shift. */
export function peepholeOperandBound(multiplier: number, shift: number): number {
  return Q15_MAG * Math.abs(multiplier) + 2 ** (shift - 1);
}

/** |acc*m| + 2^(S-1): the operand of the gate rescale shift. */
export function rescaleOperandBound(accBound: number, multiplier: number, shift: number): number {
  return accBound * Math.abs(multiplier) + 2 ** (shift - 1);
}

/**
 * Whether the tanh index of an int16 cell state, bucket + 1024, needs its clamp: for K <= 1 the
 * bucket (c + 2^(2-K)) >> (7-K) lies in [-512, 512] (layerBounds below proves it), so it reads
 * TT directly; for K = 2 the one state c = 32767 reaches bucket 1024, and above it grows.
 */
export const cellIndexNeedsClamp = (cellIntBits: number): boolean => cellIntBits >= 2;

/** The bounds of one recurrent layer (NUMERICS.md §7). */
function layerBounds(recurrent: QuantRecurrentLayer, add: (name: string, bound: number, limit: number) => void): void {
  const width = recurrent.inputSize + recurrent.units;
  const K = recurrent.cellIntBits;
  const accBounds = gateAccBounds(recurrent.weightsQ, recurrent.biasQ, width, recurrent.recurrentBiasQ);
  let worstAcc = 0;
  let worstOperand = 0;
  for (let r = 0; r < gateCount(recurrent.cell) * recurrent.units; r++) {
    worstAcc = Math.max(worstAcc, accBounds[r]);
    worstOperand = Math.max(worstOperand, rescaleOperandBound(accBounds[r], recurrent.gateMultiplier[r], recurrent.gateShift));
  }
  // acc is summed in doubles (E.convolve or a loop): exact below 2^53.
  add('gate accumulator |Σ W v + b|', worstAcc, EXACT_LIMIT);
  // acc*m + 2^(S-1) is shifted right by S: below 2^31.
  add('gate rescale operand |acc·m| + 2^(S-1)', worstOperand, BITWISE_LIMIT);
  CELL_BOUNDS[recurrent.cell](recurrent, add, worstOperand);
  let maxW = 0;
  for (const w of recurrent.weightsQ) maxW = Math.max(maxW, Math.abs(w));
  add('weights |w| (int8, symmetric)', maxW, INT8_MAX + 1);
  if (recurrent.gateShift < 1 || recurrent.gateShift > 31 || K < 0 || K > 15) {
    add(`shift counts S=${recurrent.gateShift}, 15+K=${15 + K} within 1..31`, Infinity, 0);
  }
}

export function checkBounds(q: QuantizedModel): BoundCheck[] {
  const { layers, head } = q;
  const checks: BoundCheck[] = [];
  const add = (name: string, bound: number, limit: number) =>
    checks.push({ name, bound, limit, ok: Number.isFinite(bound) && bound < limit });
  // The sigmoid reads TT[(x >> 5) + 1024] with no clamp: for an int16 x the index is in 0..2047.
  add('sigmoid table index (x >> 5) + 1024, x int16', (INT16_MAX >> SIGMOID_INDEX_SHIFT) + TABLE_CENTER, TABLE_ENTRIES);
  layers.forEach((layer, l) => {
    const prefix = layers.length > 1 ? `layer ${l}: ` : '';
    layerBounds(layer, (name, bound, limit) => add(prefix + name, bound, limit));
    if (layer.backward) {
      layerBounds(layer.backward, (name, bound, limit) => add(`${prefix}backward: ${name}`, bound, limit));
      // 'sum' merge: h_f + h_b + 1 before >> 1 (-> Q1.6).
      if (layer.merge === 'sum') add(`${prefix}merge sum |h_f + h_b| + 1`, 2 * INT8_MAG + 1, BITWISE_LIMIT);
    }
  });

  // Head accumulator is stored in an Int32Array.
  let worstHead = 0;
  for (let k = 0; k < head.outputSize; k++) {
    worstHead = Math.max(worstHead, dotBound(head.weightsQ, k * head.inputSize, head.inputSize, head.biasQ[k]));
  }
  add('head accumulator |Σ D h + d|', worstHead, BITWISE_LIMIT);
  // Weights are int8 by construction; say so explicitly.
  let maxW = 0;
  for (const w of head.weightsQ) maxW = Math.max(maxW, Math.abs(w));
  add('head weights |w| (int8, symmetric)', maxW, INT8_MAX + 1);
  return checks;
}

/** Throw a UserError naming the first bound that does not hold. */
export function assertBounds(q: QuantizedModel, where: string): BoundCheck[] {
  const checks = checkBounds(q);
  const bad = checks.find((c) => !c.ok);
  if (bad) {
    throw new UserError(
      `${where}: cannot prove ${bad.name} stays below ${bad.limit} (worst case ${bad.bound}); ` +
        'the model cannot run exactly in this integer format',
    );
  }
  return checks;
}

type AddBound = (name: string, bound: number, limit: number) => void;

/** The intermediates of the LSTM family's cell update and hidden state (§5, §5e, §5f). */
function lstmFamilyBounds(recurrent: QuantRecurrentLayer, add: AddBound, worstOperand: number): void {
  const K = recurrent.cellIntBits;
  // f·c + 2^14 with f in [0, 32767], |c| <= 32768.
  add('cell forget term |f·c| + 2^14', INT16_MAX * Q15_MAG + 2 ** 14, BITWISE_LIMIT);
  // i·g + 2^(14+K), i in [0, 32767] (CIFG: i = 2^15 - f in [1, 32768]), |g| <= 32767.
  const inputGateMax = CELLS[recurrent.cell].coupledInputGate ? Q15_MAG : INT16_MAX;
  add('cell input term |i·g| + 2^(14+K)', inputGateMax * INT16_MAX + 2 ** (14 + K), BITWISE_LIMIT);
  // tanh argument from the cell: K > 3 shifts left by K-3.
  add('tanh(c) argument |c|·2^max(0,K-3)', Q15_MAG * 2 ** Math.max(0, K - 3), BITWISE_LIMIT);
  if (!cellIndexNeedsClamp(K)) {
    // K <= 1: the tanh index ((c + 2^(2-K)) >> (7-K)) + 1024 of an int16 c is read with no clamp;
    // its lowest value, at c = -32768, is 512 (K = 1) or 768 (K = 0).
    add(
      `tanh(c) table index ((c + ${2 ** (2 - K)}) >> ${7 - K}) + 1024, c int16`,
      ((INT16_MAX + 2 ** (2 - K)) >> (7 - K)) + TABLE_CENTER,
      TABLE_ENTRIES,
    );
  }
  // o·tanh(c) + 2^22.
  add('hidden product |o·tanh(c)| + 2^22', INT16_MAX * INT16_MAX + 2 ** 22, BITWISE_LIMIT);
  if (hasPeepholes(recurrent.cell)) peepholeBounds(recurrent, add, worstOperand);
}

/** The peephole terms (§5e); a depth gate sums two of them (`terms` = 2, §5j). */
function peepholeBounds(recurrent: QuantRecurrentLayer, add: AddBound, worstOperand: number, terms = 1): void {
  const P = recurrent.peepholeShift;
  const what = terms === 1 ? 'peephole' : 'depth-gate';
  let worstPeephole = 0;
  for (const m of recurrent.peepholeMultiplier) worstPeephole = Math.max(worstPeephole, peepholeOperandBound(m, P));
  // roundShift(c·pm, P): |c·pm| + 2^(P-1) below 2^31.
  add(`${what} term |c·p| + 2^(P-1)`, worstPeephole, BITWISE_LIMIT);
  // The rescaled row plus the peephole terms is summed in doubles, then saturated (es5) or shifted
  // into its table bucket before the clip (espruino): below 2^31.
  add(
    terms === 1
      ? 'peephole gate sum |roundShift(acc·m, S) + roundShift(c·p, P)|'
      : `${what} gate sum |roundShift(acc·m, S) + ${terms} x roundShift(c·p, P)|`,
    worstOperand / 2 ** recurrent.gateShift + (terms * worstPeephole) / 2 ** P + 1 + terms,
    BITWISE_LIMIT,
  );
  if (P < 1 || P > 31) add(`${what} shift P=${P} within 1..31`, Infinity, 0);
}

/** The depth-gated LSTM (§5j): the LSTM's bounds, the depth gate's two diagonal terms, and d·c_below in the cell. */
function depthGatedBounds(recurrent: QuantRecurrentLayer, add: AddBound, worstOperand: number): void {
  lstmFamilyBounds(recurrent, add, worstOperand);
  peepholeBounds(recurrent, add, worstOperand, 2);
  // d·c_below + 2^14 with d in [0, 32767], |c_below| <= 32768 (the same format as c).
  add('depth cell term |d·c_below| + 2^14', INT16_MAX * Q15_MAG + 2 ** 14, BITWISE_LIMIT);
  // The three cell terms, each at most 2^15 in magnitude after its shift, summed before sat16.
  add('depth-gated cell sum |roundShift(f·c) + roundShift(i·g) + roundShift(d·c_below)|', 3 * Q15_MAG, BITWISE_LIMIT);
}

/** The GRU's reset product, candidate term and hidden sum (§5b, §5d). */
function gruBounds(recurrent: QuantRecurrentLayer, add: AddBound): void {
  if (resetsBeforeProduct(recurrent.cell)) {
    // r·h + 2^14, r in [0, 32767], |h| <= 128.
    add('reset product |r·h| + 2^14', INT16_MAX * INT8_MAG + 2 ** 14, BITWISE_LIMIT);
    // (r·h + 2^14) >> 15 is already int8, so the generated code stores it with no sat8:
    // at most (32767·127 + 2^14) >> 15 = 127, at least (−32767·128 + 2^14) >> 15 = −128.
    add('r ⊙ h = (r·h + 2^14) >> 15, stored with no sat8', (INT16_MAX * INT8_MAX + 2 ** 14) >> 15, INT8_MAX + 1);
    add('−(r ⊙ h), stored with no sat8', -((-INT16_MAX * INT8_MAG + 2 ** 14) >> 15), INT8_MAG + 1);
  } else {
    // r·nH + 2^14, r in [0, 32767], nH saturated to [-2^16, 2^16 - 1].
    add('reset-after product |r·nH| + 2^14', INT16_MAX * (RECURRENT_PART_MAX + 1) + 2 ** 14, BITWISE_LIMIT);
  }
  // (2^15 - z)·n + 2^7, z in [0, 32767], |n| <= 32767.
  add('candidate term |(2^15 - z)·n| + 2^7', Q15_MAG * INT16_MAX + 2 ** 7, BITWISE_LIMIT);
  // z·h + ((2^15 - z)·n >> 8) + 2^14: Q0.22 sum before >> 15.
  add('hidden sum |z·h + ((2^15-z)·n >> 8)| + 2^14', INT16_MAX * INT8_MAG + (Q15_MAG * INT16_MAX) / 2 ** 8 + 1 + 2 ** 14, BITWISE_LIMIT);
}

/** The simple RNN's hidden rounding (§5c). */
function rnnBounds(_recurrent: QuantRecurrentLayer, add: AddBound): void {
  // tanh(z) + 2^7 before >> 8.
  add('hidden rounding |tanh(z)| + 2^7', INT16_MAX + 2 ** 7, BITWISE_LIMIT);
}

/**
 * The Clockwork RNN (§5i): its active rows and h are the simple RNN's; its
 * counter t + 1 is at most the cycle L, kept below 2^15 (core/clock.ts).
 */
function clockworkBounds(recurrent: QuantRecurrentLayer, add: AddBound): void {
  rnnBounds(recurrent, add);
  add('clock counter t + 1 <= L = lcm(periods)', clockCycle(recurrent.clockPeriods ?? []), MAX_CLOCK_CYCLE);
}

/** The cell-specific bounds of each kind: every kind must have its proof. */
const CELL_BOUNDS: { readonly [K in CellKind]: (recurrent: QuantRecurrentLayer, add: AddBound, worstOperand: number) => void } = {
  lstm: lstmFamilyBounds,
  peephole: lstmFamilyBounds,
  cifg: lstmFamilyBounds,
  gru: gruBounds,
  'gru-reset-after': gruBounds,
  rnn: rnnBounds,
  clockwork: clockworkBounds,
  'depth-gated': depthGatedBounds,
};
