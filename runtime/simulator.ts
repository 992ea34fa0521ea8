/**
 * The integer reference of docs/NUMERICS.md: one step of every recurrent
 * cell and the dense head, computed with the primitives of fixed-point.ts
 * only. It is written independently of the code generator; the generated
 * code must match it bit for bit (outputs, hidden and cell state, gate
 * outputs) on every engine.
 */
import { CIFG_GATE, GATE, GRU_GATE, PEEPHOLE, TANH_GATES, gateCount, gateNames, hasCellState, type QuantizedModel } from './model.ts';
import {
  EXACT_LIMIT,
  RECURRENT_PART_MAX,
  RECURRENT_PART_MIN,
  cellToQ12,
  roundHalfUp,
  roundShift,
  saturate,
  saturateInt16,
  saturateInt8,
  sigmoidQ15,
  tanhQ15,
} from './fixed-point.ts';

/** h: Q0.7 (int8); c: Q(K).(15-K) (int16, LSTM family only); gates: Q0.15 after activation, gate order. */
export interface SimState {
  hQ7: Int8Array;
  cellQ: Int16Array;
  gatesQ15: Int16Array;
}

export class Simulator {
  readonly model: QuantizedModel;
  readonly state: SimState;
  /** Head accumulator of the last step (raw integer outputs). */
  readonly outputAcc: Int32Array;

  constructor(model: QuantizedModel) {
    this.model = model;
    const { units, cell } = model.recurrent;
    this.state = {
      hQ7: new Int8Array(units),
      cellQ: new Int16Array(hasCellState(cell) ? units : 0),
      gatesQ15: new Int16Array(gateCount(cell) * units),
    };
    this.outputAcc = new Int32Array(model.head.outputSize);
  }

  reset(): void {
    this.state.hQ7.fill(0);
    this.state.cellQ.fill(0);
    this.state.gatesQ15.fill(0);
    this.outputAcc.fill(0);
  }

  /** The int8 input vector the device computes from real readings (NUMERICS.md §3). */
  quantizeInput(reading: ArrayLike<number>): Int8Array {
    const { inputNorm, inputScales } = this.model;
    const xq = new Int8Array(inputScales.length);
    for (let i = 0; i < xq.length; i++) {
      const { gain, offset } = inputAffine(inputNorm.mean[i], inputNorm.std[i], inputScales[i]);
      xq[i] = quantizeReading(reading[i], gain, offset);
    }
    return xq;
  }

  /** Real-valued outputs from the head accumulator (NUMERICS.md §8). */
  dequantizeOutput(acc: ArrayLike<number> = this.outputAcc): Float64Array {
    const { head, outputNorm, task } = this.model;
    const y = new Float64Array(acc.length);
    for (let k = 0; k < acc.length; k++) {
      const { gain, offset } =
        task === 'regression'
          ? outputAffine(head.accScale, outputNorm.std[k], outputNorm.mean[k])
          : outputAffine(head.accScale, 1, 0);
      y[k] = acc[k] * gain + offset;
    }
    return y;
  }

  /** One time step on an int8 input vector; returns the head accumulator. */
  stepQ(xq: ArrayLike<number>): Int32Array {
    const { recurrent, head } = this.model;
    const { inputSize, units } = recurrent;
    const { hQ7 } = this.state;

    // v = [x, h]  (int8)
    const v = new Int8Array(inputSize + units);
    for (let i = 0; i < inputSize; i++) v[i] = saturateInt8(xq[i]);
    v.set(hQ7, inputSize);

    switch (recurrent.cell) {
      case 'lstm':
        this.lstmStep(v);
        break;
      case 'peephole':
        this.peepholeStep(v);
        break;
      case 'cifg':
        this.cifgStep(v);
        break;
      case 'gru':
        this.gruStep(v);
        break;
      case 'gru-reset-after':
        this.gruResetAfterStep(v);
        break;
      case 'rnn':
        this.rnnStep(v);
        break;
    }

    // y = Σ D[k,j] h[j] + d[k]   (raw head accumulator)
    for (let k = 0; k < head.outputSize; k++) {
      let acc = head.biasQ[k];
      for (let j = 0; j < units; j++) acc += head.weightsQ[k * units + j] * hQ7[j];
      this.outputAcc[k] = acc;
    }
    return this.outputAcc;
  }

  /** acc = Σ_{i in [from, to)} W[r,i] v[i] + bias   (exact integer, NUMERICS.md §5 step 1) */
  private rowAcc(r: number, v: Int8Array, from: number, to: number, bias: number): number {
    const { weightsQ } = this.model.recurrent;
    const width = v.length;
    let acc = bias;
    for (let i = from; i < to; i++) acc += weightsQ[r * width + i] * v[i];
    return acc;
  }

  /** roundShift(acc * m[r], S), before saturation (NUMERICS.md §5 step 2). */
  private rescale(r: number, acc: number): number {
    const { gateMultiplier, gateShift } = this.model.recurrent;
    const product = acc * gateMultiplier[r];
    if (Math.abs(product) >= EXACT_LIMIT) throw new Error(`row ${r}: acc*m ${product} not exact`);
    return roundShift(product, gateShift);
  }

  /** σ or tanh of a Q3.12 gate input, by the row's gate (NUMERICS.md §4). */
  private activate(r: number, gateInQ12: number): number {
    const { recurrent, tables } = this.model;
    const gate = gateNames(recurrent.cell)[Math.floor(r / recurrent.units)];
    return TANH_GATES.has(gate) ? tanhQ15(gateInQ12, tables.tanhQ15) : sigmoidQ15(gateInQ12, tables.sigmoidQ15);
  }

  /**
   * Gate row r over the int8 vector v (NUMERICS.md §5 steps 1-3):
   *   acc = Σ W[r,i] v[i] + b[r];  gateInQ12 = sat16(roundShift(acc * m[r], S) + extraQ12);  σ or tanh -> Q0.15
   * extraQ12 is the peephole term (peephole LSTM), else 0.
   */
  private gateRow(r: number, v: Int8Array, extraQ12 = 0): number {
    const acc = this.rowAcc(r, v, 0, v.length, this.model.recurrent.biasQ[r]);
    return this.activate(r, saturateInt16(this.rescale(r, acc) + extraQ12));
  }

  /** Peephole term in Q3.12: roundShift(c * p[k], P)   (NUMERICS.md §5e). */
  private peepholeQ12(k: number, cQ: number): number {
    const { peepholeMultiplier, peepholeShift } = this.model.recurrent;
    return roundShift(cQ * peepholeMultiplier[k], peepholeShift);
  }

  /** c = sat16(roundShift(f*c, 15) + roundShift(i*g, 15+K))   (-> Q(K).(15-K)) */
  private cellUpdate(u: number, iQ15: number, fQ15: number, gQ15: number): void {
    const { cellQ } = this.state;
    cellQ[u] = saturateInt16(roundShift(fQ15 * cellQ[u], 15) + roundShift(iQ15 * gQ15, 15 + this.model.recurrent.cellIntBits));
  }

  /** h = sat8(roundShift(o * tanh(c), 23))   (Q0.15 x Q0.15 -> Q0.7) */
  private hidden(u: number, oQ15: number): void {
    const { cellIntBits } = this.model.recurrent;
    const tanhCellQ15 = tanhQ15(cellToQ12(this.state.cellQ[u], cellIntBits), this.model.tables.tanhQ15);
    this.state.hQ7[u] = saturateInt8(roundShift(oQ15 * tanhCellQ15, 23));
  }

  /** LSTM (NUMERICS.md §5). */
  private lstmStep(v: Int8Array): void {
    const { units } = this.model.recurrent;
    const { gatesQ15 } = this.state;
    for (let r = 0; r < 4 * units; r++) gatesQ15[r] = this.gateRow(r, v);
    for (let u = 0; u < units; u++) {
      const g = (gate: number) => gatesQ15[gate * units + u];
      this.cellUpdate(u, g(GATE.input), g(GATE.forget), g(GATE.cell));
      this.hidden(u, g(GATE.output));
    }
  }

  /** Peephole LSTM (NUMERICS.md §5e): i, f see c(t-1); o sees c(t). */
  private peepholeStep(v: Int8Array): void {
    const { units } = this.model.recurrent;
    const { gatesQ15, cellQ } = this.state;
    for (let u = 0; u < units; u++) {
      gatesQ15[GATE.input * units + u] = this.gateRow(GATE.input * units + u, v, this.peepholeQ12(PEEPHOLE.input * units + u, cellQ[u]));
      gatesQ15[GATE.forget * units + u] = this.gateRow(GATE.forget * units + u, v, this.peepholeQ12(PEEPHOLE.forget * units + u, cellQ[u]));
    }
    for (let u = 0; u < units; u++) gatesQ15[GATE.cell * units + u] = this.gateRow(GATE.cell * units + u, v);
    for (let u = 0; u < units; u++) {
      const g = (gate: number) => gatesQ15[gate * units + u];
      this.cellUpdate(u, g(GATE.input), g(GATE.forget), g(GATE.cell));
    }
    for (let u = 0; u < units; u++) {
      gatesQ15[GATE.output * units + u] = this.gateRow(GATE.output * units + u, v, this.peepholeQ12(PEEPHOLE.output * units + u, cellQ[u]));
    }
    for (let u = 0; u < units; u++) this.hidden(u, gatesQ15[GATE.output * units + u]);
  }

  /** CIFG (NUMERICS.md §5f): input gate i = 2^15 - f. */
  private cifgStep(v: Int8Array): void {
    const { units } = this.model.recurrent;
    const { gatesQ15 } = this.state;
    for (let r = 0; r < 3 * units; r++) gatesQ15[r] = this.gateRow(r, v);
    for (let u = 0; u < units; u++) {
      const g = (gate: number) => gatesQ15[gate * units + u];
      this.cellUpdate(u, 32768 - g(CIFG_GATE.forget), g(CIFG_GATE.forget), g(CIFG_GATE.cell));
      this.hidden(u, g(CIFG_GATE.output));
    }
  }

  /** GRU, reset before the recurrent product (NUMERICS.md §5b). */
  private gruStep(v: Int8Array): void {
    const { inputSize, units } = this.model.recurrent;
    const { gatesQ15 } = this.state;
    for (let r = 0; r < 2 * units; r++) gatesQ15[r] = this.gateRow(r, v);
    // v' = [x, r ⊙ h]:  rh = sat8(roundShift(r * h, 15))   (Q0.15 x Q0.7 -> Q0.7)
    const vReset = Int8Array.from(v);
    for (let u = 0; u < units; u++) vReset[inputSize + u] = saturateInt8(roundShift(gatesQ15[GRU_GATE.reset * units + u] * v[inputSize + u], 15));
    for (let u = 0; u < units; u++) {
      const r = GRU_GATE.candidate * units + u;
      gatesQ15[r] = this.gateRow(r, vReset);
    }
    this.gruHidden();
  }

  /**
   * GRU, reset after the recurrent product (NUMERICS.md §5d): the candidate rows
   * split into an input part and a recurrent part, both rescaled by the row's multiplier:
   *   nX = roundShift(accX * m, S);  nH = sat17(roundShift(accH * m, S))
   *   gateInQ12 = sat16(nX + roundShift(r * nH, 15))
   */
  private gruResetAfterStep(v: Int8Array): void {
    const { inputSize, units, biasQ, recurrentBiasQ } = this.model.recurrent;
    const { gatesQ15 } = this.state;
    for (let r = 0; r < 2 * units; r++) gatesQ15[r] = this.gateRow(r, v);
    for (let u = 0; u < units; u++) {
      const r = GRU_GATE.candidate * units + u;
      const nX = this.rescale(r, this.rowAcc(r, v, 0, inputSize, biasQ[r]));
      const nH = saturate(this.rescale(r, this.rowAcc(r, v, inputSize, v.length, recurrentBiasQ[u])), RECURRENT_PART_MIN, RECURRENT_PART_MAX);
      const resetQ15 = gatesQ15[GRU_GATE.reset * units + u];
      gatesQ15[r] = this.activate(r, saturateInt16(nX + roundShift(resetQ15 * nH, 15)));
    }
    this.gruHidden();
  }

  /** h = sat8(roundShift(z*h + roundShift((2^15 - z)*n, 8), 15))   (Q0.22 -> Q0.7) */
  private gruHidden(): void {
    const { units } = this.model.recurrent;
    const { hQ7, gatesQ15 } = this.state;
    for (let u = 0; u < units; u++) {
      const zQ15 = gatesQ15[GRU_GATE.update * units + u];
      const nQ15 = gatesQ15[GRU_GATE.candidate * units + u];
      hQ7[u] = saturateInt8(roundShift(zQ15 * hQ7[u] + roundShift((32768 - zQ15) * nQ15, 8), 15));
    }
  }

  /** Simple RNN (NUMERICS.md §5c): h = sat8(roundShift(tanh(gateIn), 8)). */
  private rnnStep(v: Int8Array): void {
    const { units } = this.model.recurrent;
    const { hQ7, gatesQ15 } = this.state;
    for (let r = 0; r < units; r++) gatesQ15[r] = this.gateRow(r, v);
    for (let u = 0; u < units; u++) hQ7[u] = saturateInt8(roundShift(gatesQ15[u], 8));
  }

  /**
   * Real readings in, real outputs out (quantization and normalization baked in).
   * Target mode 'change': the forecast change is added to the current reading
   * of the target (NaN when that reading is not a finite number).
   */
  step(reading: ArrayLike<number>): Float64Array {
    const y = this.dequantizeOutput(this.stepQ(this.quantizeInput(reading)));
    if (this.model.targetMode === 'change') {
      this.model.baseFeatures.forEach((f, k) => {
        y[k] = baseReading(reading[f]) + y[k];
      });
    }
    return y;
  }
}

/**
 * Reading -> int8 (NUMERICS.md §3), computed in doubles identically everywhere:
 *   xq = sat8(floor(reading * gain + offset + 0.5)), gain = 1/(std*scale), offset = -mean*gain
 * A non-finite or missing reading counts as the mean (xq = 0); ±Infinity saturates.
 */
export function quantizeReading(reading: number, gain: number, offset: number): number {
  if (reading === Infinity) return gain > 0 ? 127 : -128;
  if (reading === -Infinity) return gain > 0 ? -128 : 127;
  if (typeof reading !== 'number' || reading !== reading) return 0;
  const v = roundHalfUp(reading * gain + offset);
  return saturateInt8(v);
}

/** The reading a 'change' forecast is added to: itself when finite, else NaN. */
export function baseReading(v: number): number {
  return typeof v === 'number' && v - v === 0 ? v : NaN;
}

export function inputAffine(mean: number, std: number, scale: number): { gain: number; offset: number } {
  const gain = 1 / (std * scale);
  return { gain, offset: -mean * gain };
}

/** y = acc * gain + offset, gain = accScale * std, offset = mean. */
export function outputAffine(accScale: number, std: number, mean: number): { gain: number; offset: number } {
  return { gain: accScale * std, offset: mean };
}
