/**
 * A tfjs-layers layer whose whole sequence runs in trainer/wasm/recurrent.wasm:
 * the forward pass in one call and its gradient (backpropagation through
 * time) in another, joined by tf.customGrad. It stands in for tf.layers.lstm,
 * gru and simpleRNN (tanh; sigmoid recurrent activation; GRU with the reset
 * before the recurrent product), with the same weights in the same order
 * (kernel, recurrent_kernel, bias), so the trainer reads and writes them as
 * it does those layers'. No masking, dropout or backwards reading: the
 * trainer uses it only where those are absent (fusedApplies in train.ts).
 *
 * test/trainer/fused-recurrent.test.ts checks its outputs and every gradient
 * against the tfjs layers.
 */
import type { Tf } from './backend.ts';
import { backward, forward, lastStep, type FusedCell } from './fused-recurrent.ts';

type Tensor = import('@tensorflow/tfjs').Tensor;
type LayerVariable = import('@tensorflow/tfjs').LayerVariable;
type Layer = import('@tensorflow/tfjs').layers.Layer;

export interface FusedLayerConfig {
  cell: FusedCell;
  units: number;
  returnSequences: boolean;
  /** The layer reads the model's input: its gradient with respect to x is not needed (zeros are returned). */
  firstLayer: boolean;
  inputShape?: [number, number];
  name?: string;
}

const GATES: Record<FusedCell, number> = { lstm: 4, gru: 3, rnn: 1 };
const classes = new WeakMap<Tf, new (c: FusedLayerConfig) => Layer>();

function layerClass(tf: Tf): new (c: FusedLayerConfig) => Layer {
  const known = classes.get(tf);
  if (known) return known;
  class FusedRecurrent extends tf.layers.Layer {
    static className = 'LstmMcuFusedRecurrent';
    readonly config: FusedLayerConfig;
    kernel!: LayerVariable;
    recurrentKernel!: LayerVariable;
    bias!: LayerVariable;

    constructor(config: FusedLayerConfig) {
      super({ ...(config.name ? { name: config.name } : {}), ...(config.inputShape ? { inputShape: config.inputShape } : {}) });
      this.config = config;
    }

    override build(inputShape: number[] | number[][]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
      const F = shape[shape.length - 1]!;
      const GH = GATES[this.config.cell] * this.config.units;
      const zeros = tf.initializers.zeros();
      this.kernel = this.addWeight('kernel', [F, GH], 'float32', zeros);
      this.recurrentKernel = this.addWeight('recurrent_kernel', [this.config.units, GH], 'float32', zeros);
      this.bias = this.addWeight('bias', [GH], 'float32', zeros);
      this.built = true;
    }

    override computeOutputShape(inputShape: number[] | number[][]): number[] {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
      return this.config.returnSequences ? [s[0]!, s[1]!, this.config.units] : [s[0]!, this.config.units];
    }

    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return sequenceOp(tf, this.config)(x, this.kernel.read(), this.recurrentKernel.read(), this.bias.read());
    }

    override getConfig() {
      const { cell, units, returnSequences, firstLayer } = this.config;
      return { ...super.getConfig(), cell, units, returnSequences, firstLayer };
    }
  }
  tf.serialization.registerClass(FusedRecurrent);
  classes.set(tf, FusedRecurrent as unknown as new (c: FusedLayerConfig) => Layer);
  return FusedRecurrent as unknown as new (c: FusedLayerConfig) => Layer;
}

/** The op (x [B][T][F], kernel, recurrentKernel, bias) → h [B][T][H] or, for many-to-one, h_T [B][H], with its gradient. */
function sequenceOp(tf: Tf, c: FusedLayerConfig) {
  return tf.customGrad(((x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor) => {
    const [B, T, F] = x.shape as [number, number, number];
    const H = c.units;
    const weights = {
      kernel: kernel.dataSync() as Float32Array,
      recurrentKernel: recurrentKernel.dataSync() as Float32Array,
      bias: bias.dataSync() as Float32Array,
    };
    const run = forward({ cell: c.cell, T, B, F, H }, x.dataSync() as Float32Array, weights);
    const value = c.returnSequences ? tf.tensor3d(run.h, [B, T, H]) : tf.tensor2d(lastStep(run.h, B, T, H), [B, H]);
    const gradFunc = (dy: Tensor | Tensor[]) => {
      const d = (Array.isArray(dy) ? dy[0]! : dy).dataSync() as Float32Array;
      // dh of every step: the output's gradient, or only the last step's.
      let dh = d;
      if (!c.returnSequences) {
        dh = new Float32Array(B * T * H);
        for (let b = 0; b < B; b++) dh.set(d.subarray(b * H, (b + 1) * H), (b * T + T - 1) * H);
      }
      const g = backward(run.record, dh, weights, !c.firstLayer);
      return [
        g.x ? tf.tensor3d(g.x, [B, T, F]) : tf.zeros([B, T, F]),
        tf.tensor2d(g.kernel, kernel.shape as [number, number]),
        tf.tensor2d(g.recurrentKernel, recurrentKernel.shape as [number, number]),
        tf.tensor1d(g.bias),
      ];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<Tf['customGrad']>[0]) as unknown as (x: Tensor, k: Tensor, r: Tensor, b: Tensor) => Tensor;
}

/** A fused recurrent layer for a tfjs model (tf.sequential().add). */
export function fusedRecurrentLayer(tf: Tf, config: FusedLayerConfig): Layer {
  return new (layerClass(tf))(config);
}
