/**
 * The overflow proof: bounds come from the actual weights, a model whose
 * bounds cannot hold is refused (or rescaled where the contract allows), and
 * inputs that reach the worst case saturate identically everywhere.
 */
import { describe, expect, it } from 'vitest';
import { assertBounds, checkBounds, dotBound, gateAccBounds, rescaleOperandBound } from '../../quantize/bounds.ts';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { quantizeModel } from '../../quantize/quantize.ts';
import { UserError } from '../../core/errors.ts';
import { availableEngines } from '../../parity/engines.ts';
import { checkParity } from '../../parity/parity.ts';
import { Simulator } from '../../reference/simulator.ts';
import { randomFloatModel, randomQuantizedModel, randomWindows } from '../../parity/random-model.ts';
import { CELL_KINDS, type FloatModel, type QuantizedModel } from '../../core/model.ts';
import { buildTanhTable } from '../../core/fixed-point.ts';
import { denseWindows } from '../../data/window-set.ts';

// Where the activations saturate: tanh at the table's last bucket, the sigmoid at (that + 2^15) >> 1.
const TANH_TOP = buildTanhTable()[2047];
const SIGMOID_TOP = (TANH_TOP + 32768) >> 1;

const quantize = (f: FloatModel) =>
  quantizeModel(f, {
    weightScale: 'per-row',
    calibrationX: denseWindows(randomWindows(1, 8, f.window, f.layers[0].inputSize), f.window * f.layers[0].inputSize),
    floatModelSha256: '',
  });

describe('bounds from the actual weights', () => {
  it('dotBound is 128·Σ|w| + |b|, reached by the int8 vector of matching signs', () => {
    const w = [3, -5, 0, 127];
    expect(dotBound(w, 0, 4, -7)).toBe(128 * 135 + 7);
    // Worst case for a negative total: v = -128·sign(w) reaches -(128·Σ|w|) exactly, and the bias adds -7.
    const v = w.map((x) => (x > 0 ? -128 : 128));
    expect(Math.abs(w.reduce((s, x, i) => s + x * v[i], 0) - 7)).toBe(128 * 135 + 7);
  });

  it('every check of a random model holds and is reported with its numbers', () => {
    const q = randomQuantizedModel({ seed: 5, inputSize: 3, units: 8 });
    const checks = checkBounds(q);
    expect(checks.length).toBeGreaterThanOrEqual(9);
    for (const c of checks) expect(c.ok, c.name).toBe(true);
    // The quantizer picks the largest shift for which the operand bound holds: one more bit would break it.
    const S = q.layers[0].gateShift;
    expect(S).toBeLessThan(31);
    const accBounds = gateAccBounds(q.layers[0].weightsQ, q.layers[0].biasQ, q.layers[0].inputSize + q.layers[0].units);
    const worstWithOneMoreBit = Math.max(
      ...q.layers[0].rowScales.map((s, r) => rescaleOperandBound(accBounds[r], Math.floor(s * 2 ** (12 + S + 1) + 0.5), S + 1)),
    );
    expect(worstWithOneMoreBit).toBeGreaterThanOrEqual(2 ** 31);
  });

  it('the generated header prints the proven bounds', () => {
    const q = randomQuantizedModel({ seed: 5, inputSize: 3, units: 8 });
    const code = emitModule(q, { target: 'es5', globalName: 'm', modelSha256: '', generatorVersion: 'test' });
    for (const c of checkBounds(q)) expect(code).toContain(`${c.name} <= ${c.bound} < ${c.limit}`);
  });
});

describe('models whose bounds cannot hold', () => {
  it('codegen refuses a quantized model whose rescale operand can pass 2^31', () => {
    const q = randomQuantizedModel({ seed: 5, inputSize: 3, units: 8 });
    const broken: QuantizedModel = { ...q, layers: [{ ...q.layers[0], gateMultiplier: q.layers[0].gateMultiplier.map((m) => m * 64) }] };
    expect(() => emitModule(broken, { target: 'es5', globalName: 'm', modelSha256: '', generatorVersion: 'test' })).toThrow(UserError);
    expect(() => assertBounds(broken, 'codegen')).toThrow(/cannot prove gate rescale operand .* stays below 2147483648/);
  });

  it('codegen refuses a head whose accumulator can pass 2^31', () => {
    const q = randomQuantizedModel({ seed: 5, inputSize: 3, units: 8 });
    const broken: QuantizedModel = { ...q, head: { ...q.head, biasQ: Int32Array.from([2 ** 31 - 10]) } };
    expect(() => assertBounds(broken, 'codegen')).toThrow(/head accumulator/);
  });

  it('the quantizer refuses gate pre-activations too large for any shift', () => {
    const f = randomFloatModel({ seed: 2, inputSize: 2, units: 3 });
    f.layers[0].bias[0] = 1e12; // |b / s_r| alone passes 2^31
    expect(() => quantize(f)).toThrow(UserError);
  });

  it('the quantizer rescales a head whose bias would overflow, and the result is still exact', () => {
    const f = randomFloatModel({ seed: 2, inputSize: 2, units: 3 });
    f.head.bias[0] = 1e9; // b / s_y would pass 2^31 at the natural scale
    const q = quantize(f);
    const natural = Math.max(...Array.from(f.head.kernel, (w) => Math.abs(w) / 128)) / 127;
    expect(q.head.accScale).toBeGreaterThan(natural);
    for (const c of checkBounds(q)) expect(c.ok, c.name).toBe(true);
    const sim = new Simulator(q);
    const y = sim.stepQ([1, 2]);
    expect(Math.abs(y[0] * q.head.accScale - 1e9) / 1e9).toBeLessThan(1e-6);
  });
});

describe('worst-case inputs saturate identically everywhere', () => {
  it('all-extreme weights and inputs drive every gate and the cell into saturation, bit-exact on every engine', async () => {
    // Every weight at its extreme with the same sign, inputs at the extreme of the same sign:
    // each accumulator reaches its proven bound.
    const f = randomFloatModel({ seed: 9, inputSize: 4, units: 6 });
    f.layers[0].kernel.fill(3);
    f.layers[0].recurrentKernel.fill(3);
    f.layers[0].bias.fill(0);
    const q = quantize(f);
    const sim = new Simulator(q);
    const plus = [127, 127, 127, 127];
    const minus = [-128, -128, -128, -128];
    const seq = [plus, plus, plus, minus, minus, minus, plus, minus].map((v) => Int8Array.from(v));
    for (const xq of seq) sim.stepQ(xq);
    // After a run of +127 inputs, every gate is saturated high, c at its format's edge.
    sim.reset();
    for (let t = 0; t < 5; t++) sim.stepQ(plus);
    expect(Math.min(...sim.state.gatesQ15)).toBeGreaterThanOrEqual(TANH_TOP);
    expect(Math.max(...sim.state.gatesQ15)).toBe(SIGMOID_TOP);
    expect(Math.max(...sim.state.hQ7)).toBe(127);
    const { engines } = availableEngines();
    const sources = TARGETS.map((target) => ({
      target,
      globalName: 'm',
      code: emitModule(q, { target, globalName: 'm', modelSha256: '', generatorVersion: 'test' }),
    }));
    for (const r of await checkParity(q, sources, engines, [seq, seq.slice().reverse()])) expect(r.mismatch, r.message).toBeUndefined();
  });

  it.each(CELL_KINDS)(
    '%s: extreme weights, peepholes and biases, extreme inputs: proven bounds hold and all engines agree',
    async (cell) => {
      const f = randomFloatModel({ seed: 10, inputSize: 3, units: 5, cell });
      for (const sign of [1, -1]) {
        f.layers[0].kernel.fill(3 * sign);
        f.layers[0].recurrentKernel.fill(3 * sign);
        f.layers[0].bias.fill(2 * sign);
        f.layers[0].peephole?.fill(3 * sign);
        f.layers[0].recurrentBias?.fill(2 * sign);
        const q = quantize(f);
        for (const c of checkBounds(q)) expect(c.ok, c.name).toBe(true);
        const plus = Int8Array.from([127, 127, 127]);
        const minus = Int8Array.from([-128, -128, -128]);
        const seq = [plus, plus, plus, plus, minus, minus, minus, minus, plus, minus, plus];
        // Some gate rows are driven to the ends of their activation's range.
        const sim = new Simulator(q);
        for (let t = 0; t < 4; t++) sim.stepQ(sign > 0 ? plus : minus);
        expect(Array.from(sim.state.gatesQ15).some((g) => Math.abs(g) >= TANH_TOP)).toBe(true);
        const { engines } = availableEngines();
        const sources = TARGETS.map((target) => ({
          target,
          globalName: 'm',
          code: emitModule(q, { target, globalName: 'm', modelSha256: '', generatorVersion: 'test' }),
        }));
        for (const r of await checkParity(q, sources, engines, [seq, seq.slice().reverse()])) expect(r.mismatch, r.message).toBeUndefined();
      }
    },
  );
});
