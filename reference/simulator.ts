/**
 * The integer reference of docs/NUMERICS.md: one step of every recurrent
 * cell, stacked layers and the dense head, computed with the primitives of fixed-point.ts
 * only. It is written independently of the code generator; the generated
 * code must match it bit for bit (outputs, hidden and cell state, gate
 * outputs) on every engine.
 */
import {
  PADDING_TOKEN,
  readingCount,
  tokenId,
  CIFG_GATE,
  DEPTH_GATED_GATE,
  DEPTH_TERM,
  GATE,
  GRU_GATE,
  PEEPHOLE,
  TANH_GATES,
  gateCount,
  gateNames,
  hasCellState,
  type ActivationTables,
  type CellKind,
  type QuantRecurrentLayer,
  type QuantizedModel,
  feedbackFeatures,
  isWindowModel,
  layerOutputSize,
  backwardSteps,
} from '../core/model.ts';
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
  inputAffine,
  outputAffine,
} from '../core/fixed-point.ts';
import { clockModules, isActive, nextClock } from '../core/clock.ts';
import { isStepArgument, numberOr, stepArgumentMessage } from '../core/step-arguments.ts';

/**
 * h: Q0.7 (int8); c: Q(K).(15-K) (int16, LSTM family only); gates: Q0.15 after
 * activation, gate order. For a stacked model each array holds every layer,
 * layer 0 first (`Simulator.layerStates` has one view per layer).
 */
export interface SimState {
  hQ7: Int8Array;
  cellQ: Int16Array;
  gatesQ15: Int16Array;
}

/** One layer while it steps: its weights, its state views, its v = [input, h] view, its clock counter (one value) and the state of the layer below (streaming stacks). */
interface LayerRun {
  layer: QuantRecurrentLayer;
  state: SimState;
  v: Int8Array;
  clock: Int32Array;
  below?: SimState;
}

export class Simulator {
  readonly model: QuantizedModel;
  /** Every layer's state, concatenated: layer 0 first; a bidirectional layer's forward, then backward direction. */
  readonly state: SimState;
  /** The forward direction of each layer (views). */
  readonly layerStates: SimState[];
  /** The backward direction of each bidirectional layer (views), else undefined. */
  readonly backwardStates: (SimState | undefined)[];
  /** Head accumulator of the last step (raw integer outputs). */
  readonly outputAcc: Int32Array;
  /** Each layer's step counter t (a clockwork layer's clock, core/clock.ts; 0 for the other cells), layer 0 first. */
  readonly clocks: Int32Array;
  /** Streaming models: [x, h0, h1, ...]; layer l's v = [input, h_l] is the contiguous view `layerV[l]`. */
  private readonly v: Int8Array;
  private readonly layerV: Int8Array[];
  /** Window models (NUMERICS.md §5h): each direction's own v = [input, h], and the last `window` inputs. */
  private readonly window: { runs: { forward: LayerRun; backward?: LayerRun }[]; xs: Int8Array; start: number; count: number } | undefined;

  constructor(model: QuantizedModel) {
    this.model = model;
    this.lastReading = new Float64Array(readingCount(model)).fill(NaN);
    const { layers } = model;
    const inputSize = layers[0].inputSize;
    const directionsOf = (l: QuantRecurrentLayer) => (l.backward ? [l, l.backward] : [l]);
    const all = layers.flatMap(directionsOf);
    const totalUnits = all.reduce((s, l) => s + l.units, 0);
    const totalCells = all.reduce((s, l) => s + (hasCellState(l.cell) ? l.units : 0), 0);
    const totalRows = all.reduce((s, l) => s + gateCount(l.cell) * l.units, 0);
    const cellQ = new Int16Array(totalCells);
    const gatesQ15 = new Int16Array(totalRows);
    this.layerStates = [];
    this.backwardStates = [];
    this.layerV = [];
    this.outputAcc = new Int32Array(model.head.outputSize);
    this.clocks = new Int32Array(layers.length);
    let cStart = 0;
    let gStart = 0;
    /** The cell and gate views of the next direction, in order. */
    const nextViews = (l: QuantRecurrentLayer) => {
      const cells = hasCellState(l.cell) ? l.units : 0;
      const rows = gateCount(l.cell) * l.units;
      const views = { cellQ: cellQ.subarray(cStart, cStart + cells), gatesQ15: gatesQ15.subarray(gStart, gStart + rows) };
      cStart += cells;
      gStart += rows;
      return views;
    };

    if (!isWindowModel(model)) {
      this.window = undefined;
      this.v = new Int8Array(inputSize + totalUnits);
      this.state = { hQ7: this.v.subarray(inputSize), cellQ, gatesQ15 };
      let hStart = inputSize;
      layers.forEach((l) => {
        this.layerV.push(this.v.subarray(hStart - l.inputSize, hStart + l.units));
        this.layerStates.push({ hQ7: this.v.subarray(hStart, hStart + l.units), ...nextViews(l) });
        this.backwardStates.push(undefined);
        hStart += l.units;
      });
      return;
    }
    this.v = new Int8Array(0);
    this.state = { hQ7: new Int8Array(totalUnits), cellQ, gatesQ15 };
    const run = (layer: QuantRecurrentLayer): LayerRun => {
      const v = new Int8Array(layer.inputSize + layer.units);
      // a window model holds no clockwork layer (core/artifact-validation.ts): its counter stays 0
      return { layer, v, clock: new Int32Array(1), state: { hQ7: v.subarray(layer.inputSize), ...nextViews(layer) } };
    };
    const runs = layers.map((l) => {
      const forward = run(l);
      const backward = l.backward ? run(l.backward) : undefined;
      this.layerStates.push(forward.state);
      this.backwardStates.push(backward?.state);
      return { forward, backward };
    });
    this.window = { runs, xs: new Int8Array(model.window * inputSize), start: 0, count: 0 };
  }

  reset(): void {
    this.lastReading.fill(NaN);
    this.v.fill(0);
    this.state.hQ7.fill(0);
    this.state.cellQ.fill(0);
    this.state.gatesQ15.fill(0);
    this.outputAcc.fill(0);
    this.clocks.fill(0);
    if (this.window) {
      this.window.start = 0;
      this.window.count = 0;
      for (const r of this.window.runs) for (const d of [r.forward, r.backward]) d?.v.fill(0);
    }
  }

  /** The readings of the last step(x) (NaN where missing), for forecast(). */
  private readonly lastReading: Float64Array = new Float64Array(0);

  /**
   * One-to-many (NUMERICS.md §8a): `steps` forecasts from the current state.
   * The first is the output of the last step (the next reading); each is fed
   * back as the next reading of its feature (the other features keep their
   * last reading) to step to the next one. The model's state is restored
   * afterwards, so the next step(x) continues as if forecast() had not run.
   * [steps][outputs].
   */
  forecast(steps: number): Float64Array {
    if (this.window) throw new Error('forecast: a window model (bidirectional or reverse) cannot forecast step by step');
    const feedback = feedbackFeatures(this.model);
    const saved = [
      Int8Array.from(this.v),
      Int16Array.from(this.state.cellQ),
      Int16Array.from(this.state.gatesQ15),
      Int32Array.from(this.outputAcc),
      Float64Array.from(this.lastReading),
      Int32Array.from(this.clocks),
    ] as const;
    const x = Float64Array.from(this.lastReading);
    const out = new Float64Array(steps * this.model.head.outputSize);
    for (let s = 0; s < steps; s++) {
      const y = s === 0 ? this.currentOutput() : this.step(x);
      y.forEach((v, k) => {
        out[s * y.length + k] = v;
        if (feedback[k] >= 0) x[feedback[k]] = v;
      });
    }
    this.v.set(saved[0]);
    this.state.cellQ.set(saved[1]);
    this.state.gatesQ15.set(saved[2]);
    this.outputAcc.set(saved[3]);
    this.lastReading.set(saved[4]);
    this.clocks.set(saved[5]);
    return out;
  }

  /** The real outputs of the current state: what the last step(x) returned. */
  private currentOutput(): Float64Array {
    const y = this.dequantizeOutput(this.outputAcc);
    if (this.model.targetMode === 'change') this.model.baseFeatures.forEach((f, k) => (y[k] = baseReading(this.lastReading[f]) + y[k]));
    return y;
  }

  /**
   * The int8 input vector the device computes from real readings (NUMERICS.md §3),
   * or an embedding model's table row of the token id reading[0] (§3a).
   */
  quantizeInput(reading: ArrayLike<number>): Int8Array {
    const { inputNorm, inputScales, embedding } = this.model;
    if (embedding) {
      const id = tokenId(reading[0], embedding);
      return embedding.tableQ.slice(id * embedding.dim, (id + 1) * embedding.dim);
    }
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
        task === 'regression' ? outputAffine(head.accScale, outputNorm.std[k], outputNorm.mean[k]) : outputAffine(head.accScale, 1, 0);
      y[k] = acc[k] * gain + offset;
    }
    return y;
  }

  /** One time step on an int8 input vector; returns the head accumulator. */
  stepQ(xq: ArrayLike<number>): Int32Array {
    const inputs = this.model.layers[0].inputSize;
    if (!isStepArgument(xq, inputs)) throw new TypeError(stepArgumentMessage('stepQ(xq)', inputs, 'int8 inputs'));
    const top = this.window ? this.windowStep(xq) : this.streamStep(xq);
    // y = Σ D[k,j] h[j] + d[k]   (raw head accumulator over what the last layer passes up)
    const { head } = this.model;
    for (let k = 0; k < head.outputSize; k++) {
      let acc = head.biasQ[k];
      for (let j = 0; j < top.length; j++) acc += head.weightsQ[k * top.length + j] * top[j];
      this.outputAcc[k] = acc;
    }
    return this.outputAcc;
  }

  /** Streaming: v[0..I) = sat8(x); each layer then reads [input, h] in place, bottom first. */
  private streamStep(xq: ArrayLike<number>): Int8Array {
    const { layers } = this.model;
    for (let i = 0; i < layers[0].inputSize; i++) this.v[i] = saturateInt8(numberOr(xq[i], 0));
    layers.forEach((layer, l) =>
      this.layerStep({
        layer,
        state: this.layerStates[l],
        v: this.layerV[l],
        clock: this.clocks.subarray(l, l + 1),
        below: this.layerStates[l - 1],
      }),
    );
    return this.layerStates[layers.length - 1].hQ7;
  }

  /**
   * Window models (NUMERICS.md §5h): the input joins the last `window` inputs
   * (fewer right after a reset); every layer then runs over them from a zero
   * state, forward, and backward for a bidirectional layer; the layer above
   * reads the merged sequence; the head reads merge(forward h after the last
   * step, backward h after the first). A top layer with readout 'last-step'
   * runs its backward direction over the last input only (step n-1); the head
   * reads merge(forward h after the last step, backward h after that one step).
   * A reverse layer runs only backward (its own weights, steps n-1 .. 0); the
   * head reads its h after step 0.
   */
  /**
   * Window models only: the input joins the window as in stepQ, without
   * running the model (the state and outputs stay those of the last stepQ).
   * A window's outputs depend only on its inputs, so feeding W - 1 inputs and
   * stepping the last gives stepQ's result for the last step at 1/W the cost.
   */
  feedQ(xq: ArrayLike<number>): void {
    if (!this.window) throw new Error('feedQ: only window (bidirectional or reverse) models keep their inputs');
    this.pushInput(xq);
  }

  private pushInput(xq: ArrayLike<number>): void {
    const w = this.window!;
    const { layers, window } = this.model;
    const I = layers[0].inputSize;
    // Ring of the last `window` inputs: when full, the newest overwrites the oldest.
    if (w.count < window) w.count++;
    else w.start = (w.start + 1) % window;
    const slot = (w.start + w.count - 1) % window;
    for (let i = 0; i < I; i++) w.xs[slot * I + i] = saturateInt8(numberOr(xq[i], 0));
  }

  private windowStep(xq: ArrayLike<number>): Int8Array {
    const w = this.window!;
    const { layers, window } = this.model;
    const I = layers[0].inputSize;
    this.pushInput(xq);
    const n = w.count;
    let input = (t: number): Int8Array => w.xs.subarray(((w.start + t) % window) * I, (((w.start + t) % window) + 1) * I);
    let top = new Int8Array(0);
    let hOffset = 0;
    layers.forEach((layer, l) => {
      const { forward, backward } = w.runs[l];
      const U = layer.units;
      const width = layerOutputSize(layer);
      const seq = new Int8Array(n * width);
      // steps n-1-k for k < `steps` (reverse), else k = 0 .. n-1
      const pass = (run: LayerRun, reverse: boolean, store: (t: number, h: Int8Array) => void, steps = n) => {
        run.v.fill(0);
        run.state.cellQ.fill(0);
        for (let k = 0; k < steps; k++) {
          const t = reverse ? n - 1 - k : k;
          run.v.set(input(t), 0);
          this.layerStep(run);
          store(t, run.state.hQ7);
        }
      };
      // A reverse layer runs its own weights last step first; its h after step 0 is what the head reads.
      pass(forward, layer.reverse === true, (t, h) => seq.set(h, t * width));
      this.state.hQ7.set(forward.state.hQ7, hOffset);
      hOffset += U;
      if (!backward) {
        top = Int8Array.from(forward.state.hQ7);
      } else if (layer.merge === 'sum') {
        // h = sat8(roundShift(h_f + h_b, 1))   (Q0.7 + Q0.7 -> Q1.6)
        pass(
          backward,
          true,
          (t, h) => {
            for (let u = 0; u < U; u++) seq[t * width + u] = saturateInt8(roundShift(seq[t * width + u] + h[u], 1));
          },
          backwardSteps(layer, n),
        );
        top = Int8Array.from(forward.state.hQ7, (f, u) => saturateInt8(roundShift(f + backward.state.hQ7[u], 1)));
      } else {
        pass(backward, true, (t, h) => seq.set(h, t * width + U), backwardSteps(layer, n));
        top = new Int8Array(2 * U);
        top.set(forward.state.hQ7);
        top.set(backward.state.hQ7, U);
      }
      if (backward) {
        this.state.hQ7.set(backward.state.hQ7, hOffset);
        hOffset += U;
      }
      input = (t: number) => seq.subarray(t * width, (t + 1) * width);
    });
    return top;
  }

  private layerStep(run: LayerRun): void {
    CELL_STEPS[run.layer.cell](run, this.model.tables);
  }

  /**
   * Real readings in, real outputs out (quantization and normalization baked in).
   * Target mode 'change': the forecast change is added to the current reading
   * of the target (NaN when that reading is not a finite number).
   */
  step(x: ArrayLike<unknown>): Float64Array {
    const inputs = readingCount(this.model);
    const what = this.model.embedding ? 'token id' : 'readings';
    if (!isStepArgument(x, inputs)) throw new TypeError(stepArgumentMessage('step(x)', inputs, what));
    // Each reading as a number (a non-number NaN: missing), as the device reads it (core/step-arguments.ts).
    const reading = Float64Array.from({ length: inputs }, (_, i) => numberOr(x[i], NaN));
    // Kept for forecast(): a missing reading is kept as NaN, which every later use treats the same way.
    this.lastReading.set(reading);
    // Embedding: the padding token is not a step; the outputs stay those of the last one (§3a).
    const padding = this.model.embedding !== undefined && reading[0] === PADDING_TOKEN;
    const y = this.dequantizeOutput(padding ? this.outputAcc : this.stepQ(this.quantizeInput(reading)));
    if (this.model.targetMode === 'change') {
      this.model.baseFeatures.forEach((f, k) => {
        y[k] = baseReading(reading[f]) + y[k];
      });
    }
    return y;
  }
}

/** acc = Σ_{i in [from, to)} W[r,i] v[i] + bias   (exact integer, NUMERICS.md §5 step 1) */
function rowAcc(layer: QuantRecurrentLayer, v: Int8Array, r: number, from: number, to: number, bias: number): number {
  const width = v.length;
  let acc = bias;
  for (let i = from; i < to; i++) acc += layer.weightsQ[r * width + i] * v[i];
  return acc;
}

/** roundShift(acc * m[r], S), before saturation (NUMERICS.md §5 step 2). */
function rescale(layer: QuantRecurrentLayer, r: number, acc: number): number {
  const product = acc * layer.gateMultiplier[r];
  if (Math.abs(product) >= EXACT_LIMIT) throw new Error(`row ${r}: acc*m ${product} not exact`);
  return roundShift(product, layer.gateShift);
}

/** σ or tanh of a Q3.12 gate input, by the row's gate (NUMERICS.md §4). */
function activate(layer: QuantRecurrentLayer, tables: ActivationTables, r: number, gateInQ12: number): number {
  const gate = gateNames(layer.cell)[Math.floor(r / layer.units)];
  return TANH_GATES.has(gate) ? tanhQ15(gateInQ12, tables.tanhQ15) : sigmoidQ15(gateInQ12, tables.tanhQ15);
}

/**
 * Gate row r over the int8 vector v (the layer's v, or the GRU's v'), NUMERICS.md §5 steps 1-3:
 *   acc = Σ W[r,i] v[i] + b[r];  gateInQ12 = sat16(roundShift(acc * m[r], S) + extraQ12);  σ or tanh -> Q0.15
 * extraQ12 is the peephole term (peephole LSTM), else 0.
 */
function gateRow(run: LayerRun, tables: ActivationTables, r: number, v: Int8Array = run.v, extraQ12 = 0): number {
  const { layer } = run;
  const acc = rowAcc(layer, v, r, 0, v.length, layer.biasQ[r]);
  return activate(layer, tables, r, saturateInt16(rescale(layer, r, acc) + extraQ12));
}

/** Peephole term in Q3.12: roundShift(c * p[k], P)   (NUMERICS.md §5e). */
function peepholeQ12(layer: QuantRecurrentLayer, k: number, cQ: number): number {
  return roundShift(cQ * layer.peepholeMultiplier[k], layer.peepholeShift);
}

/**
 * c = sat16(roundShift(f*c, 15) + roundShift(i*g, 15+K) + depthTerm)   (-> Q(K).(15-K));
 * depthTerm = roundShift(d*c_below, 15) for a depth-gated layer (§5j), else 0.
 */
function cellUpdate({ layer, state }: LayerRun, u: number, iQ15: number, fQ15: number, gQ15: number, depthTerm = 0): void {
  const { cellQ } = state;
  cellQ[u] = saturateInt16(roundShift(fQ15 * cellQ[u], 15) + roundShift(iQ15 * gQ15, 15 + layer.cellIntBits) + depthTerm);
}

/** h = sat8(roundShift(o * tanh(c), 23))   (Q0.15 x Q0.15 -> Q0.7) */
function hidden({ layer, state }: LayerRun, tables: ActivationTables, u: number, oQ15: number): void {
  const tanhCellQ15 = tanhQ15(cellToQ12(state.cellQ[u], layer.cellIntBits), tables.tanhQ15);
  state.hQ7[u] = saturateInt8(roundShift(oQ15 * tanhCellQ15, 23));
}

/** LSTM (NUMERICS.md §5). */
function lstmStep(run: LayerRun, tables: ActivationTables): void {
  const { units } = run.layer;
  const { gatesQ15 } = run.state;
  for (let r = 0; r < 4 * units; r++) gatesQ15[r] = gateRow(run, tables, r);
  for (let u = 0; u < units; u++) {
    const g = (gate: number) => gatesQ15[gate * units + u];
    cellUpdate(run, u, g(GATE.input), g(GATE.forget), g(GATE.cell));
    hidden(run, tables, u, g(GATE.output));
  }
}

/** Peephole LSTM (NUMERICS.md §5e): i, f see c(t-1); o sees c(t). */
function peepholeStep(run: LayerRun, tables: ActivationTables): void {
  const { layer } = run;
  const { units } = layer;
  const { gatesQ15, cellQ } = run.state;
  const peepholeRow = (gate: number, peephole: number, u: number) =>
    gateRow(run, tables, gate * units + u, run.v, peepholeQ12(layer, peephole * units + u, cellQ[u]));
  for (let u = 0; u < units; u++) {
    gatesQ15[GATE.input * units + u] = peepholeRow(GATE.input, PEEPHOLE.input, u);
    gatesQ15[GATE.forget * units + u] = peepholeRow(GATE.forget, PEEPHOLE.forget, u);
  }
  for (let u = 0; u < units; u++) gatesQ15[GATE.cell * units + u] = gateRow(run, tables, GATE.cell * units + u);
  for (let u = 0; u < units; u++) {
    const g = (gate: number) => gatesQ15[gate * units + u];
    cellUpdate(run, u, g(GATE.input), g(GATE.forget), g(GATE.cell));
  }
  for (let u = 0; u < units; u++) gatesQ15[GATE.output * units + u] = peepholeRow(GATE.output, PEEPHOLE.output, u);
  for (let u = 0; u < units; u++) hidden(run, tables, u, gatesQ15[GATE.output * units + u]);
}

/** CIFG (NUMERICS.md §5f): input gate i = 2^15 - f. */
function cifgStep(run: LayerRun, tables: ActivationTables): void {
  const { units } = run.layer;
  const { gatesQ15 } = run.state;
  for (let r = 0; r < 3 * units; r++) gatesQ15[r] = gateRow(run, tables, r);
  for (let u = 0; u < units; u++) {
    const g = (gate: number) => gatesQ15[gate * units + u];
    cellUpdate(run, u, 32768 - g(CIFG_GATE.forget), g(CIFG_GATE.forget), g(CIFG_GATE.cell));
    hidden(run, tables, u, g(CIFG_GATE.output));
  }
}

/**
 * Depth-gated LSTM (NUMERICS.md §5j): the LSTM's rows, then the depth gate, which sees this
 * layer's c(t-1) and the lower layer's c(t) (same format Q(K).(15-K)) through the peephole term:
 *   dInQ12 = sat16(roundShift(acc_d * m, S) + roundShift(c * p[0u], P) + roundShift(c_below * p[1u], P))
 *   c = sat16(roundShift(f*c, 15) + roundShift(i*g, 15+K) + roundShift(d*c_below, 15))
 */
function depthGatedStep(run: LayerRun, tables: ActivationTables): void {
  const { layer, below } = run;
  if (!below) throw new Error('a depth-gated layer steps after the layer below it (streaming stacks only)');
  const { units } = layer;
  const { gatesQ15, cellQ } = run.state;
  for (let r = 0; r < 4 * units; r++) gatesQ15[r] = gateRow(run, tables, r);
  for (let u = 0; u < units; u++) {
    const termsQ12 =
      peepholeQ12(layer, DEPTH_TERM.cellPrevious * units + u, cellQ[u]) +
      peepholeQ12(layer, DEPTH_TERM.cellBelow * units + u, below.cellQ[u]);
    const r = DEPTH_GATED_GATE.depth * units + u;
    gatesQ15[r] = gateRow(run, tables, r, run.v, termsQ12);
  }
  for (let u = 0; u < units; u++) {
    const g = (gate: number) => gatesQ15[gate * units + u];
    const depthTerm = roundShift(g(DEPTH_GATED_GATE.depth) * below.cellQ[u], 15);
    cellUpdate(run, u, g(GATE.input), g(GATE.forget), g(GATE.cell), depthTerm);
    hidden(run, tables, u, g(GATE.output));
  }
}

/** GRU, reset before the recurrent product (NUMERICS.md §5b). */
function gruStep(run: LayerRun, tables: ActivationTables): void {
  const { inputSize, units } = run.layer;
  const { gatesQ15 } = run.state;
  for (let r = 0; r < 2 * units; r++) gatesQ15[r] = gateRow(run, tables, r);
  // v' = [x, r ⊙ h]:  rh = sat8(roundShift(r * h, 15))   (Q0.15 x Q0.7 -> Q0.7)
  const vReset = Int8Array.from(run.v);
  for (let u = 0; u < units; u++)
    vReset[inputSize + u] = saturateInt8(roundShift(gatesQ15[GRU_GATE.reset * units + u] * run.v[inputSize + u], 15));
  for (let u = 0; u < units; u++) {
    const r = GRU_GATE.candidate * units + u;
    gatesQ15[r] = gateRow(run, tables, r, vReset);
  }
  gruHidden(run);
}

/**
 * GRU, reset after the recurrent product (NUMERICS.md §5d): the candidate rows
 * split into an input part and a recurrent part, both rescaled by the row's multiplier:
 *   nX = roundShift(accX * m, S);  nH = sat17(roundShift(accH * m, S))
 *   gateInQ12 = sat16(nX + roundShift(r * nH, 15))
 */
function gruResetAfterStep(run: LayerRun, tables: ActivationTables): void {
  const { layer, v } = run;
  const { inputSize, units, biasQ, recurrentBiasQ } = layer;
  const { gatesQ15 } = run.state;
  for (let r = 0; r < 2 * units; r++) gatesQ15[r] = gateRow(run, tables, r);
  for (let u = 0; u < units; u++) {
    const r = GRU_GATE.candidate * units + u;
    const nX = rescale(layer, r, rowAcc(layer, v, r, 0, inputSize, biasQ[r]));
    const nH = saturate(
      rescale(layer, r, rowAcc(layer, v, r, inputSize, v.length, recurrentBiasQ[u])),
      RECURRENT_PART_MIN,
      RECURRENT_PART_MAX,
    );
    const resetQ15 = gatesQ15[GRU_GATE.reset * units + u];
    gatesQ15[r] = activate(layer, tables, r, saturateInt16(nX + roundShift(resetQ15 * nH, 15)));
  }
  gruHidden(run);
}

/** h = sat8(roundShift(z*h + roundShift((2^15 - z)*n, 8), 15))   (Q0.22 -> Q0.7) */
function gruHidden({ layer, state }: LayerRun): void {
  const { units } = layer;
  const { hQ7, gatesQ15 } = state;
  for (let u = 0; u < units; u++) {
    const zQ15 = gatesQ15[GRU_GATE.update * units + u];
    const nQ15 = gatesQ15[GRU_GATE.candidate * units + u];
    hQ7[u] = saturateInt8(roundShift(zQ15 * hQ7[u] + roundShift((32768 - zQ15) * nQ15, 8), 15));
  }
}

/** Simple RNN (NUMERICS.md §5c): h = sat8(roundShift(tanh(gateIn), 8)). */
function rnnStep(run: LayerRun, tables: ActivationTables): void {
  const { units } = run.layer;
  const { hQ7, gatesQ15 } = run.state;
  for (let r = 0; r < units; r++) gatesQ15[r] = gateRow(run, tables, r);
  for (let u = 0; u < units; u++) hQ7[u] = saturateInt8(roundShift(gatesQ15[u], 8));
}

/**
 * Clockwork RNN (NUMERICS.md §5i): at counter t only the rows of the modules
 * whose period divides t run, each as a simple RNN row over the old h (its
 * weights from faster modules are zero); the other units keep h and gate;
 * then t = (t + 1) mod L.
 */
function clockworkStep(run: LayerRun, tables: ActivationTables): void {
  const { units, clockPeriods } = run.layer;
  const { hQ7, gatesQ15 } = run.state;
  const active = clockModules(units, clockPeriods!).filter((m) => isActive(m.period, run.clock[0]!));
  for (const m of active) for (let r = m.start; r < m.end; r++) gatesQ15[r] = gateRow(run, tables, r);
  for (const m of active) for (let u = m.start; u < m.end; u++) hQ7[u] = saturateInt8(roundShift(gatesQ15[u], 8));
  run.clock[0] = nextClock(run.clock[0]!, clockPeriods!);
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

/** One integer step of each cell kind (NUMERICS.md §5–§5f, §5i, §5j): every kind must have one. */
const CELL_STEPS: { readonly [K in CellKind]: (run: LayerRun, tables: ActivationTables) => void } = {
  lstm: lstmStep,
  peephole: peepholeStep,
  cifg: cifgStep,
  gru: gruStep,
  'gru-reset-after': gruResetAfterStep,
  rnn: rnnStep,
  clockwork: clockworkStep,
  'depth-gated': depthGatedStep,
};
