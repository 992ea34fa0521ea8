/**
 * The integer reference of docs/NUMERICS.md: an LSTM step and a dense head
 * computed with the primitives of fixed-point.ts only. It is written
 * independently of the code generator; the generated code must match it bit
 * for bit (outputs, hidden and cell state, gate outputs) on every engine.
 */
import { GATE, GATE_COUNT, GRU_GATE, TANH_GATES, gateCount, gateNames, type QuantizedModel } from './model.ts';
import {
  EXACT_LIMIT,
  cellToQ12,
  roundHalfUp,
  roundShift,
  saturateInt16,
  saturateInt8,
  sigmoidQ15,
  tanhQ15,
} from './fixed-point.ts';

/** h: Q0.7 (int8); c: Q(K).(15-K) (int16, LSTM only); gates: Q0.15 after activation, gate order. */
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
    const { units } = model.recurrent;
    this.state = {
      hQ7: new Int8Array(units),
      cellQ: new Int16Array(model.recurrent.cell === 'lstm' ? units : 0),
      gatesQ15: new Int16Array(gateCount(model.recurrent.cell) * units),
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

    if (recurrent.cell === 'lstm') this.lstmStep(v);
    else if (recurrent.cell === 'gru') this.gruStep(v);
    else this.rnnStep(v);

    // y = Σ D[k,j] h[j] + d[k]   (raw head accumulator)
    for (let k = 0; k < head.outputSize; k++) {
      let acc = head.biasQ[k];
      for (let j = 0; j < units; j++) acc += head.weightsQ[k * units + j] * hQ7[j];
      this.outputAcc[k] = acc;
    }
    return this.outputAcc;
  }

  /**
   * Gate row r over the int8 vector v (NUMERICS.md §5 steps 1-3):
   *   acc = Σ W[r,i] v[i] + b[r];  gateInQ12 = sat16(roundShift(acc * m[r], S));  σ or tanh -> Q0.15
   */
  private gateRow(r: number, v: Int8Array): number {
    const { recurrent, tables } = this.model;
    const { weightsQ, biasQ, gateMultiplier, gateShift, units } = recurrent;
    const width = v.length;
    let acc = biasQ[r];
    for (let i = 0; i < width; i++) acc += weightsQ[r * width + i] * v[i];
    const product = acc * gateMultiplier[r];
    if (Math.abs(product) >= EXACT_LIMIT) throw new Error(`row ${r}: acc*m ${product} not exact`);
    const gateInQ12 = saturateInt16(roundShift(product, gateShift));
    const gate = gateNames(recurrent.cell)[Math.floor(r / units)];
    return TANH_GATES.has(gate) ? tanhQ15(gateInQ12, tables.tanhQ15) : sigmoidQ15(gateInQ12, tables.sigmoidQ15);
  }

  /** LSTM (NUMERICS.md §5). */
  private lstmStep(v: Int8Array): void {
    const { recurrent, tables } = this.model;
    const { units, cellIntBits } = recurrent;
    const { hQ7, cellQ, gatesQ15 } = this.state;
    for (let r = 0; r < GATE_COUNT * units; r++) gatesQ15[r] = this.gateRow(r, v);
    for (let u = 0; u < units; u++) {
      const iQ15 = gatesQ15[GATE.input * units + u];
      const fQ15 = gatesQ15[GATE.forget * units + u];
      const gQ15 = gatesQ15[GATE.cell * units + u];
      const oQ15 = gatesQ15[GATE.output * units + u];
      // c = sat16(roundShift(f*c, 15) + roundShift(i*g, 15+K))   (-> Q(K).(15-K))
      const cell = roundShift(fQ15 * cellQ[u], 15) + roundShift(iQ15 * gQ15, 15 + cellIntBits);
      cellQ[u] = saturateInt16(cell);
      // h = sat8(roundShift(o * tanh(c), 23))                    (Q0.15 x Q0.15 -> Q0.7)
      const tanhCellQ15 = tanhQ15(cellToQ12(cellQ[u], cellIntBits), tables.tanhQ15);
      hQ7[u] = saturateInt8(roundShift(oQ15 * tanhCellQ15, 23));
    }
  }

  /** GRU, reset before the recurrent product (NUMERICS.md §5b). */
  private gruStep(v: Int8Array): void {
    const { inputSize, units } = this.model.recurrent;
    const { hQ7, gatesQ15 } = this.state;
    for (let r = 0; r < 2 * units; r++) gatesQ15[r] = this.gateRow(r, v);
    // v' = [x, r ⊙ h]:  rh = sat8(roundShift(r * h, 15))   (Q0.15 x Q0.7 -> Q0.7)
    const vReset = Int8Array.from(v);
    for (let u = 0; u < units; u++) vReset[inputSize + u] = saturateInt8(roundShift(gatesQ15[GRU_GATE.reset * units + u] * hQ7[u], 15));
    for (let u = 0; u < units; u++) {
      const r = GRU_GATE.candidate * units + u;
      gatesQ15[r] = this.gateRow(r, vReset);
    }
    for (let u = 0; u < units; u++) {
      const zQ15 = gatesQ15[GRU_GATE.update * units + u];
      const nQ15 = gatesQ15[GRU_GATE.candidate * units + u];
      // h = sat8(roundShift(z*h + roundShift((2^15 - z)*n, 8), 15))   (Q0.22 -> Q0.7)
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
