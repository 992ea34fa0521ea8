/**
 * A tfjs-layers layer whose whole sequence runs in trainer/wasm/recurrent.wasm:
 * the forward pass in one call and its gradient (backpropagation through
 * time) in another, joined by tf.customGrad. It stands in for tf.layers.lstm,
 * gru and simpleRNN (tanh; sigmoid recurrent activation; GRU with the reset
 * before the recurrent product) and for the RNN layers of trainer/cells.ts
 * (peephole, CIFG, GRU reset-after), with the same weights in the same order
 * (kernel, recurrent_kernel, bias, then peephole or recurrent_bias), so the
 * trainer reads and writes them as it does those layers'. With `merge` it stands in for tf.layers.bidirectional
 * around one of them: the forward direction's weights, then the backward
 * direction's, which reads the window last step first; its outputs are put
 * back in time order (many-to-many) or are its state after step 0
 * (many-to-one), then concatenated after the forward ones or summed with
 * them, as the wrapper does.
 *
 * Masking (an Embedding with maskZero below it): padding steps keep the state
 * before them, as tfjs' RNN layers do; many-to-many layers pass the mask on.
 * Dropout (LSTM and RNN; tfjs' GRU also masks the h it carries, which this
 * kernel does not): while training, each direction draws its masks from the
 * trainer's seeded dropout function exactly as tfjs-layers' cells do (LSTM:
 * four input masks, then four recurrent masks, of which the first is used for
 * every gate; RNN: one of each), so both kernels draw the same masks.
 *
 * test/trainer/fused-recurrent.test.ts checks its outputs and every gradient
 * against the tfjs layers.
 */
import type { Tf } from './backend.ts';
import {
  backward,
  extraLength,
  forward,
  lastStep,
  reverseTime,
  type FusedCell,
  type Gradients,
  type SequenceMasks,
} from './fused-recurrent.ts';
import { CELLS, hasPeepholes, gateCount, type MergeMode } from '../core/model.ts';

type Tensor = import('@tensorflow/tfjs').Tensor;
type LayerVariable = import('@tensorflow/tfjs').LayerVariable;
type Layer = import('@tensorflow/tfjs').layers.Layer;

export interface FusedLayerConfig {
  cell: FusedCell;
  units: number;
  returnSequences: boolean;
  /** The layer reads the model's input: its gradient with respect to x is not needed (zeros are returned). */
  firstLayer: boolean;
  /** Bidirectional, its two directions merged this way. */
  merge?: MergeMode;
  /** Training-time dropout of the inputs and of the recurrent state (lstm and rnn). */
  dropout?: { rate: number; recurrentRate: number; func: (x: Tensor, rate: number) => Tensor };
  inputShape?: [number, number];
  name?: string;
}

const classes = new WeakMap<Tf, new (c: FusedLayerConfig) => Layer>();

function layerClass(tf: Tf): new (c: FusedLayerConfig) => Layer {
  const known = classes.get(tf);
  if (known) return known;
  class FusedRecurrent extends tf.layers.Layer {
    static className = 'LstmMcuFusedRecurrent';
    readonly config: FusedLayerConfig;
    /** Per direction (forward, then backward): kernel, recurrent kernel, bias (, peephole or recurrent bias). */
    directions: LayerVariable[][] = [];

    constructor(config: FusedLayerConfig) {
      super({ ...(config.name ? { name: config.name } : {}), ...(config.inputShape ? { inputShape: config.inputShape } : {}) });
      this.config = config;
      if (config.dropout && !CELLS[config.cell].fusedDropout)
        throw new Error(`fused ${config.cell}: dropout is for the lstm and rnn cells`);
      this.supportsMasking = true;
    }

    // The mask goes on with the sequence; a many-to-one output has none (tfjs' RNN.computeMask).
    override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | Tensor[]): Tensor {
      const m = Array.isArray(mask) ? mask[0] : mask;
      return (this.config.returnSequences && m ? m : null) as unknown as Tensor;
    }

    override build(inputShape: number[] | number[][]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
      const F = shape[shape.length - 1]!;
      const { cell, units } = this.config;
      const GH = gateCount(cell) * units;
      const E = extraLength(cell, units);
      const zeros = tf.initializers.zeros();
      this.directions = (this.config.merge ? ['forward_', 'backward_'] : ['']).map((prefix) => [
        this.addWeight(`${prefix}kernel`, [F, GH], 'float32', zeros),
        this.addWeight(`${prefix}recurrent_kernel`, [units, GH], 'float32', zeros),
        this.addWeight(`${prefix}bias`, [GH], 'float32', zeros),
        ...(E ? [this.addWeight(`${prefix}${hasPeepholes(cell) ? 'peephole' : 'recurrent_bias'}`, [E], 'float32', zeros)] : []),
      ]);
      this.built = true;
    }

    override computeOutputShape(inputShape: number[] | number[][]): number[] {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
      const width = this.config.merge === 'concat' ? 2 * this.config.units : this.config.units;
      return this.config.returnSequences ? [s[0]!, s[1]!, width] : [s[0]!, width];
    }

    override call(inputs: Tensor | Tensor[], kwargs: { training?: boolean; mask?: Tensor | Tensor[] } = {}): Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const [B, , F] = x.shape as [number, number, number];
      const mask = Array.isArray(kwargs.mask) ? kwargs.mask[0] : kwargs.mask;
      const steps = mask ? Float32Array.from(mask.dataSync() as ArrayLike<number>, (v) => (v ? 1 : 0)) : undefined;
      const masks = (this.config.merge ? [0, 1] : [0]).map(() => ({
        ...(kwargs.training ? dropoutMasks(tf, this.config, B, F) : {}),
        ...(steps ? { steps } : {}),
      }));
      return sequenceOp(tf, this.config, masks)(x, ...this.directions.flat().map((w) => w.read()));
    }

    override getConfig() {
      const { cell, units, returnSequences, firstLayer, merge } = this.config;
      return { ...super.getConfig(), cell, units, returnSequences, firstLayer, ...(merge ? { merge } : {}) };
    }
  }
  tf.serialization.registerClass(FusedRecurrent);
  classes.set(tf, FusedRecurrent as unknown as new (c: FusedLayerConfig) => Layer);
  return FusedRecurrent as unknown as new (c: FusedLayerConfig) => Layer;
}

/** One direction's dropout masks, drawn in tfjs-layers' order (LSTMCell / SimpleRNNCell.call). */
function dropoutMasks(tf: Tf, config: FusedLayerConfig, B: number, F: number): SequenceMasks {
  const d = config.dropout;
  if (!d) return {};
  const count = config.cell === 'lstm' ? 4 : 1;
  const draw = (shape: [number, number], rate: number): Float32Array | undefined => {
    if (!(rate > 0 && rate < 1)) return undefined;
    const drawn = tf.tidy(() => Array.from({ length: count }, () => d.func(tf.ones(shape), rate).dataSync() as Float32Array));
    return drawn[0];
  };
  const input = draw([B, F], d.rate);
  const recurrent = draw([B, config.units], d.recurrentRate);
  return { ...(input ? { input } : {}), ...(recurrent ? { recurrent } : {}) };
}

/**
 * The op (x [B][T][F], then kernel, recurrentKernel, bias (, extra) of each direction)
 * → h [B][T][width] (many-to-many) or [B][width] (many-to-one), with its gradient.
 */
function sequenceOp(tf: Tf, c: FusedLayerConfig, masks: SequenceMasks[]) {
  const f = (x: Tensor, ...weights: Tensor[]) => {
    const [B, T, F] = x.shape as [number, number, number];
    const H = c.units;
    const xs = x.dataSync() as Float32Array;
    const shape = { cell: c.cell, T, B, F, H };
    const per = extraLength(c.cell, H) ? 4 : 3;
    const directions = (c.merge ? [false, true] : [false]).map((backwards, d) => {
      const w = weights.slice(per * d, per * d + per).map((t) => t.dataSync() as Float32Array);
      const layerWeights = { kernel: w[0]!, recurrentKernel: w[1]!, bias: w[2]!, ...(w[3] ? { extra: w[3] } : {}) };
      // The backward direction runs forward over the window reversed in time (its padding too).
      const m = masks[d]!;
      const directionMasks = backwards && m.steps ? { ...m, steps: reverseTime(m.steps, B, T, 1) } : m;
      const run = forward(shape, backwards ? reverseTime(xs, B, T, F) : xs, layerWeights, directionMasks);
      // Its outputs in time order (many-to-many) or its state after step 0 (many-to-one).
      const out = c.returnSequences ? (backwards ? reverseTime(run.h, B, T, H) : run.h) : lastStep(run.h, B, T, H);
      return { backwards, layerWeights, run, out };
    });
    const steps = c.returnSequences ? B * T : B;
    const width = c.merge === 'concat' ? 2 * H : H;
    const merged = new Float32Array(steps * width);
    for (let r = 0; r < steps; r++) {
      for (const [d, dir] of directions.entries()) {
        const row = dir.out.subarray(r * H, (r + 1) * H);
        if (c.merge === 'concat') merged.set(row, r * width + d * H);
        else for (let j = 0; j < H; j++) merged[r * width + j]! += row[j]!;
      }
    }
    const value = c.returnSequences ? tf.tensor3d(merged, [B, T, width]) : tf.tensor2d(merged, [B, width]);
    const gradFunc = (dy: Tensor | Tensor[]) => {
      const dMerged = (Array.isArray(dy) ? dy[0]! : dy).dataSync() as Float32Array;
      let dx: Float32Array | undefined;
      const grads: Gradients[] = directions.map((dir, d) => {
        // dh of every step this direction ran, in the order it ran them.
        const dh = new Float32Array(B * T * H);
        for (let r = 0; r < steps; r++) {
          const from = dMerged.subarray(r * width + (c.merge === 'concat' ? d * H : 0), r * width + (c.merge === 'concat' ? d * H : 0) + H);
          // many-to-one: only the last step run has an output
          const to = c.returnSequences ? r * H : (r * T + T - 1) * H;
          dh.set(from, to);
        }
        const g = backward(
          dir.run.record,
          dir.backwards && c.returnSequences ? reverseTime(dh, B, T, H) : dh,
          dir.layerWeights,
          !c.firstLayer,
        );
        if (g.x) {
          const gx = dir.backwards ? reverseTime(g.x, B, T, F) : g.x;
          if (!dx) dx = gx;
          else for (let i = 0; i < gx.length; i++) dx[i]! += gx[i]!;
        }
        return g;
      });
      return [
        dx ? tf.tensor3d(dx, [B, T, F]) : tf.zeros([B, T, F]),
        ...grads.flatMap((g, d) => [
          tf.tensor(g.kernel, weights[per * d]!.shape),
          tf.tensor(g.recurrentKernel, weights[per * d + 1]!.shape),
          tf.tensor(g.bias, weights[per * d + 2]!.shape),
          ...(g.extra ? [tf.tensor(g.extra, weights[per * d + 3]!.shape)] : []),
        ]),
      ];
    };
    return { value, gradFunc };
  };
  return tf.customGrad(f as unknown as Parameters<Tf['customGrad']>[0]) as unknown as (x: Tensor, ...weights: Tensor[]) => Tensor;
}

/** A fused recurrent layer for a tfjs model (tf.sequential().add). */
export function fusedRecurrentLayer(tf: Tf, config: FusedLayerConfig): Layer {
  return new (layerClass(tf))(config);
}
