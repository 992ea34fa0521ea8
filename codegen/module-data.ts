/**
 * What a generated module is made of, named once for the emitters: its
 * directions (layer by layer, with their array names), its constant integer
 * arrays (weights, biases, multipliers, tables) and step()'s doubles, and
 * what a flash-weights module keeps in its Storage file.
 */
import {
  hasRecurrentBias,
  hasDepthGate,
  hasPeepholes,
  GRU_GATE,
  gateNames,
  isWindowModel,
  lastLayer,
  layerOutputSize,
  type QuantizedModel,
} from '../core/model.ts';
import { inputAffine, outputAffine } from '../core/fixed-point.ts';
import { layerNames } from './layer-names.ts';
import { directionTitle, type DirectionPlan } from './emit-window.ts';
import type { ConstArray, FlashArray } from './flash-weights.ts';
import { jsonText } from './js-text.ts';
import type { NativeModule } from './emit-native.ts';
import { nativeFlashArrays } from './emit-native-flash.ts';

/**
 * Every direction of every layer, in state order; stream models: one per layer, named W, V, ... (W_0, W_1, ... when stacked);
 * window models: W_0f, W_0b (backward), W_1f, ... (W_1r: a reverse layer)
 */
export function directionPlans(q: QuantizedModel): DirectionPlan[] {
  const windowed = isWindowModel(q);
  const stacked = q.layers.length > 1;
  return q.layers.flatMap((layer, l) => [
    {
      layer,
      l,
      backward: false,
      reverse: layer.reverse === true,
      n: layerNames(windowed ? `_${l}${layer.reverse ? 'r' : 'f'}` : stacked ? `_${l}` : ''),
    },
    ...(layer.backward ? [{ layer: layer.backward, l, backward: true, reverse: true, n: layerNames(`_${l}b`) }] : []),
  ]);
}

/**
 * Rounding offsets of a rescale with the bias folded in: off[r] = b[r]*m[r] + 2^(S-1), so that
 * (acc*m[r] + off[r]) >> S = roundShift((acc + b[r]) * m[r], S) (NUMERICS.md §5 step 2).
 * The proof of §7 bounds |(acc + b)*m| + 2^(S-1) < 2^31 with |b| in the accumulator bound,
 * so every offset is an int32 (checked here too: a wrong offset must never be emitted).
 */
export function roundingOffsets(bias: Int32Array, multiplier: Int32Array, shift: number): Int32Array {
  return Int32Array.from(bias, (b, r) => {
    const off = b * multiplier[r] + 2 ** (shift - 1);
    if (!Number.isSafeInteger(off) || Math.abs(off) >= 2 ** 31) throw new Error(`rounding offset ${off} of row ${r} is not an int32`);
    return off;
  });
}

/** The model's constant integer arrays, in file order: name, what it holds (a comment), values. */
export function constantArrays(q: QuantizedModel): { name: string; what: string; values: ConstArray }[] {
  const { layers, head } = q;
  const windowed = isWindowModel(q);
  const stacked = layers.length > 1;
  const NI = layers[0].inputSize;
  const NO = head.outputSize;
  const headIn = layerOutputSize(lastLayer(q));
  const layerTitle = (p: DirectionPlan) => (stacked || windowed ? ` (layer ${p.l}${windowed ? `, ${directionTitle(p)}` : ''})` : '');
  const out: { name: string; what: string; values: ConstArray }[] = [];
  const data = (name: string, what: string, values: ConstArray) => out.push({ name, what, values });
  if (q.embedding) {
    data(
      'EMB',
      `embedding table int8 [${q.embedding.vocabularySize} tokens][${NI}]: x = row of the token id; column d has scale info.inputScales[d]`,
      q.embedding.tableQ,
    );
  }
  for (const p of directionPlans(q)) {
    const { layer, l, n } = p;
    const NU = layer.units;
    const gates = gateNames(layer.cell);
    const ROWS = gates.length * NU;
    const S = layer.gateShift;
    const P = layer.peepholeShift;
    const input = l === 0 ? `${NI} x` : `${layer.inputSize} from layer ${l - 1}`;
    data(
      n.W,
      `gate weights int8 [${gates.length}*${NU} rows (${gates.join(', ')})][${layer.inputSize + NU} = ${input} + ${NU} h], row = gate*${NU} + unit${layerTitle(p)}`,
      layer.weightsQ,
    );
    data(
      n.BM,
      `gate rounding offsets int32 [${ROWS}]: B[r]*${n.M}[r] + 2^${S - 1}, B the bias in accumulator units${layerTitle(p)}`,
      roundingOffsets(layer.biasQ, layer.gateMultiplier, S),
    );
    data(
      n.M,
      `gate multipliers int32 [${ROWS}]: gateInQ12 = (acc * ${n.M}[r] + ${n.BM}[r]) >> ${S} = ((acc + B[r]) * ${n.M}[r] + 2^${S - 1}) >> ${S}${layerTitle(p)}`,
      layer.gateMultiplier,
    );
    if (hasPeepholes(layer.cell)) {
      data(
        n.P,
        `peephole multipliers int32 [3][${NU}] (input, forget, output): gateInQ12 += (c * ${n.P}[k] + 2^${P - 1}) >> ${P}${layerTitle(p)}`,
        layer.peepholeMultiplier,
      );
    }
    if (hasDepthGate(layer.cell)) {
      data(
        n.P,
        `depth-gate multipliers int32 [2][${NU}] (own c, lower layer's c): dInQ12 += (c * ${n.P}[k] + 2^${P - 1}) >> ${P}${layerTitle(p)}`,
        layer.peepholeMultiplier,
      );
    }
    if (hasRecurrentBias(layer.cell)) {
      const candidateM = layer.gateMultiplier.subarray(GRU_GATE.candidate * NU);
      data(
        n.RBM,
        `recurrent rounding offsets of the candidate rows, int32 [${NU}]: RB[u]*${n.M}[r] + 2^${S - 1}, RB the recurrent bias (scaled by r with U_h h)${layerTitle(p)}`,
        roundingOffsets(layer.recurrentBiasQ, candidateM, S),
      );
    }
  }
  data('D', `head weights int8 [${NO}][${headIn}]; one accumulator unit = ${head.accScale}`, head.weightsQ);
  data('DB', `head biases int32 [${NO}]`, head.biasQ);
  data(
    'TT',
    `tanh((j - 1024 + 1/2) / 256) in Q0.15, j = 0..${q.tables.tanhQ15.length - 1} (sigmoid(x) = (TT[(x >> 5) + 1024] + 32768) >> 1)`,
    q.tables.tanhQ15,
  );
  return out;
}

/** step()'s doubles: input gains and offsets (readings only), output gains and offsets. */
export function affineArrays(q: QuantizedModel): { name: string; what: string; values: Float64Array }[] {
  const NO = q.head.outputSize;
  const inAff = q.featureNames.map((_, i) => inputAffine(q.inputNorm.mean[i], q.inputNorm.std[i], q.inputScales[i]));
  const outAff = Array.from({ length: NO }, (_, k) =>
    q.task === 'regression'
      ? outputAffine(q.head.accScale, q.outputNorm.std[k], q.outputNorm.mean[k])
      : outputAffine(q.head.accScale, 1, 0),
  );
  return [
    ...(q.embedding
      ? []
      : [
          { name: 'IG', what: 'input gains 1/(std*scale)', values: Float64Array.from(inAff, (a) => a.gain) },
          { name: 'IO', what: 'input offsets -mean*gain', values: Float64Array.from(inAff, (a) => a.offset) },
        ]),
    { name: 'OG', what: 'output gains accScale*std', values: Float64Array.from(outAff, (a) => a.gain) },
    { name: 'OO', what: 'output offsets mean', values: Float64Array.from(outAff, (a) => a.offset) },
  ];
}

/** Everything a flash-weights module reads from its Storage file, in file order: the native context and kernels (if it holds them), the arrays, then `info` as ASCII JSON. */
export function flashArrays(q: QuantizedModel, info: object, native: NativeModule): FlashArray[] {
  const json = jsonText(info).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [
    ...nativeFlashArrays(native),
    ...constantArrays(q),
    ...affineArrays(q),
    { name: 'INFO', values: Uint8Array.from(Buffer.from(json, 'latin1')), view: false },
  ];
}
