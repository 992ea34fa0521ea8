/**
 * Each gate alone: after one step, every gate output of the simulator is
 * within a budget of the float gate, where the budget is computed from the
 * actual quantization errors of that row (weights, inputs, bias, multiplier,
 * shift rounding) and the table error. A wrong gate order, layout or scale
 * breaks this long before it breaks a metric.
 */
import { describe, expect, it } from 'vitest';
import { CELL_KINDS, DEPTH_TERM, GRU_GATE, PEEPHOLE_GATES, TANH_GATES, gateCount, gateNames, type CellKind } from '../../core/model.ts';
import { Simulator } from '../../reference/simulator.ts';
import { floatRecurrentStep, newFloatState } from '../../reference/float-reference.ts';
import { SIGMOID_TABLE_ERROR_LSB, TANH_TABLE_ERROR_LSB, buildTanhTable, roundHalfUp, saturateInt8 } from '../../core/fixed-point.ts';
import { randomFloatModel, randomWindows, mulberry32 } from '../../parity/random-model.ts';
import { quantizeModel } from '../../quantize/quantize.ts';
import { denseWindows } from '../../data/window-set.ts';

// Table error budgets (fixed-point.ts, held by fixed-point.test.ts).
const SIGMOID_TABLE_ERROR = SIGMOID_TABLE_ERROR_LSB / 32768;
const TANH_TABLE_ERROR = TANH_TABLE_ERROR_LSB / 32768;
const TANH_TOP = buildTanhTable()[2047]; // tanh of the last bucket: where tanh saturates

function setup(seed: number, cell: CellKind) {
  const float = randomFloatModel({ seed, inputSize: 3, units: 5, weightRange: 1.5, biasRange: 1, cell });
  const calib = randomWindows(seed, 16, float.window, 3);
  const q = quantizeModel(float, { weightScale: 'per-row', calibrationX: denseWindows(calib, float.window * 3), floatModelSha256: '' });
  return { float, q };
}

const CASES = CELL_KINDS.flatMap((cell) => gateNames(cell).map((name, index) => ({ cell, name, index })));

describe.each(CASES)('$cell gate $name alone', ({ cell, name, index }) => {
  const isTanh = TANH_GATES.has(name);
  it('matches the float gate within the budget of its own quantization errors', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { float, q } = setup(seed, cell);
      // The first layer of this kind (a depth-gated stack's: layer 1, over an LSTM) reads the simulator's own input.
      const L = float.layers.findIndex((l) => l.cell === cell);
      const { inputSize, units, weightsQ, rowScales, columnScales, biasQ, gateMultiplier, gateShift, cellIntBits } = q.layers[L];
      const width = inputSize + units;
      const rnd = mulberry32(seed * 7919);
      const x0 = Array.from({ length: q.layers[0].inputSize }, () => (rnd() * 2 - 1) * 2);
      const xq0 = x0.map((v, i) => saturateInt8(roundHalfUp(v / q.inputScales[i])));
      const sim = new Simulator(q);
      sim.stepQ(xq0);
      const xq = L === 0 ? xq0 : Array.from(sim.layerStates[L - 1].hQ7);
      const x = L === 0 ? x0 : xq.map((v, i) => v * columnScales[i]);
      // The layer below as the simulator left it (its c is what a depth gate reads).
      const below =
        L === 0
          ? undefined
          : {
              ...newFloatState(float.layers[L - 1]),
              c: Float64Array.from(sim.layerStates[L - 1].cellQ, (c) => c / 2 ** (15 - cellIntBits)),
            };
      // Float gate on the dequantized input, so the budget below covers only the row's own errors.
      const state = newFloatState(float.layers[L]);
      floatRecurrentStep(float.layers[L], state, x, below);
      const cols = gateCount(cell) * units;
      for (let u = 0; u < units; u++) {
        const r = index * units + u;
        // |Δz| <= Σ|q s_r - k|·|vq| + Σ|k|·|x/sx - xq| + |b - bq s_r| + |acc|·|m/2^(12+S) - s_r| + 1/2^13
        let err = 0;
        let acc = biasQ[r];
        for (let i = 0; i < inputSize; i++) {
          const k = float.layers[L].kernel[i * cols + r] * columnScales[i];
          err += Math.abs(weightsQ[r * width + i] * rowScales[r] - k) * Math.abs(xq[i]);
          err += Math.abs(k) * Math.abs(x[i] / columnScales[i] - xq[i]);
          acc += weightsQ[r * width + i] * xq[i];
        }
        // Reset-after update and reset rows fold both biases into one.
        const foldedBias = cell === 'gru-reset-after' && name !== 'candidate' ? float.layers[0].recurrentBias![r] : 0;
        err += Math.abs(float.layers[L].bias[r] + foldedBias - biasQ[r] * rowScales[r]);
        err += Math.abs(acc) * Math.abs(gateMultiplier[r] / 2 ** (12 + gateShift) - rowScales[r]);
        err += 1 / 2 ** 13;
        let z = state.preActivations[r];
        if (cell === 'peephole') {
          // The peephole term p·c, on the simulator's own cell state (c(t-1) = 0 for i and f; c(t) for o):
          // |Δ| <= |p - pm/2^(K-3+P)|·|c| + 1/2^13.
          const k = PEEPHOLE_GATES.indexOf(name as (typeof PEEPHOLE_GATES)[number]);
          if (k >= 0) {
            const { cellIntBits: K, peepholeMultiplier, peepholeShift: P } = q.layers[0];
            const p = float.layers[0].peephole![k * units + u];
            const cSim = name === 'output' ? sim.state.cellQ[u] / 2 ** (15 - K) : 0;
            const cFloat = name === 'output' ? state.c[u] : 0;
            z += p * (cSim - cFloat);
            err += Math.abs(p - peepholeMultiplier[k * units + u] / 2 ** (K - 3 + P)) * Math.abs(cSim) + 1 / 2 ** 13;
          }
        }
        if (cell === 'depth-gated' && name === 'depth') {
          // w_c·c(t-1) is 0 at the first step; w_l·c_below on the simulator's own c_below:
          // |Δ| <= |w_l - pm/2^(K-3+P)|·|c_below| + 1/2^13.
          const { peepholeMultiplier, peepholeShift: P } = q.layers[L];
          const wl = float.layers[L].depthGate![DEPTH_TERM.cellBelow * units + u];
          const pm = peepholeMultiplier[DEPTH_TERM.cellBelow * units + u];
          err += Math.abs(wl - pm / 2 ** (cellIntBits - 3 + P)) * Math.abs(below!.c[u]) + 1 / 2 ** 13;
        }
        if (cell === 'gru-reset-after' && name === 'candidate') {
          // z = x part + r·(U h + b'), on the simulator's own reset gate; h = 0 after reset, so U h + b' = b'.
          // |Δ| <= r·(|b' - b'q s_r| + |b'q|·|m/2^(12+S) - s_r| + 1/2^13) + 1/2^13.
          const rFloat = 1 / (1 + Math.exp(-state.preActivations[GRU_GATE.reset * units + u]));
          const rSim = sim.state.gatesQ15[GRU_GATE.reset * units + u] / 32768;
          const rb = float.layers[0].recurrentBias![r];
          const rbQ = q.layers[0].recurrentBiasQ[u];
          z += (rSim - rFloat) * state.recurrentPart[u];
          err +=
            rSim *
              (Math.abs(rb - rbQ * rowScales[r]) +
                Math.abs(rbQ) * Math.abs(gateMultiplier[r] / 2 ** (12 + gateShift) - rowScales[r]) +
                1 / 2 ** 13) +
            1 / 2 ** 13;
        }
        const slope = isTanh ? 1 : 0.25;
        const floatGate = isTanh ? Math.tanh(z) : 1 / (1 + Math.exp(-z));
        const simGate = sim.layerStates[L].gatesQ15[r] / 32768;
        expect(Math.abs(simGate - floatGate), `${name} gate, seed ${seed}, unit ${u}`).toBeLessThanOrEqual(
          slope * err + (isTanh ? TANH_TABLE_ERROR : SIGMOID_TABLE_ERROR),
        );
      }
    }
  });

  it('saturates at the documented ends when its pre-activation is driven far out', () => {
    for (const sign of [1, -1]) {
      // A bias of ±50 puts the row's pre-activation far past the Q3.12 range (±8).
      const float = randomFloatModel({ seed: 3, inputSize: 3, units: 5, cell });
      const L = float.layers.findIndex((l) => l.cell === cell);
      const units = float.layers[L].units;
      for (let u = 0; u < units; u++) float.layers[L].bias[index * units + u] = sign * 50;
      const q = quantizeModel(float, {
        weightScale: 'per-row',
        calibrationX: denseWindows(randomWindows(3, 16, float.window, 3), float.window * 3),
        floatModelSha256: '',
      });
      const sim = new Simulator(q);
      sim.stepQ([127, -128, 127]);
      for (let u = 0; u < units; u++) {
        const g = sim.layerStates[L].gatesQ15[index * units + u];
        if (isTanh) expect(g).toBe(sign > 0 ? TANH_TOP : -TANH_TOP);
        else expect(g).toBe(sign > 0 ? 32757 : 11);
      }
    }
  });
});

describe('GRU reset-after: the recurrent part is saturated at ±16 before r scales it (NUMERICS.md §5d)', () => {
  it('a recurrent part of 100 counts as 16', () => {
    const float = randomFloatModel({ seed: 5, inputSize: 2, units: 3, cell: 'gru-reset-after' });
    const U = 3;
    float.layers[0].kernel.fill(0);
    float.layers[0].recurrentKernel.fill(0);
    float.layers[0].bias.fill(0);
    float.layers[0].recurrentBias!.fill(0);
    // r = σ(-4) ≈ 0.018; the candidate's recurrent part U_h h + b' = b' = 100.
    for (let u = 0; u < U; u++) {
      float.layers[0].bias[GRU_GATE.reset * U + u] = -4;
      float.layers[0].recurrentBias![GRU_GATE.candidate * U + u] = 100;
    }
    const q = quantizeModel(float, {
      weightScale: 'per-row',
      calibrationX: denseWindows(randomWindows(5, 4, float.window, 2), float.window * 2),
      floatModelSha256: '',
    });
    const sim = new Simulator(q);
    sim.stepQ([0, 0]);
    for (let u = 0; u < U; u++) {
      const r = sim.state.gatesQ15[GRU_GATE.reset * U + u] / 32768;
      const candidate = sim.state.gatesQ15[GRU_GATE.candidate * U + u] / 32768;
      // r·16 as the float tanh sees it, within the table error (and the 1/2^13 of the Q3.12 sum).
      expect(Math.abs(candidate - Math.tanh(r * 16))).toBeLessThan(TANH_TABLE_ERROR + 1 / 2 ** 13);
      expect(Math.abs(candidate - Math.tanh(r * 100))).toBeGreaterThan(0.1);
    }
  });
});
