/**
 * The depth-gated LSTM stack (Yao et al. 2015) as tfjs-layers RNN layers.
 * A depth-gated layer reads the cell state of the layer below at the same
 * step, which tfjs' LSTM does not pass up; so each layer under a depth-gated
 * one passes up [h, c] per step (2·units values), and a depth-gated layer
 * reads its input as [h_below, c_below]. The layer at the bottom of the stack
 * is a plain LSTM. The formulas are reference/float-reference.ts' (checked
 * within 1e-5 in test/reference/float-reference.test.ts):
 *
 *   bottom (an LSTM):  z = x K + h R + b (i, f, g, o);  c = σ(f) c + σ(i) tanh(g);  h = σ(o) tanh(c)
 *   depth-gated:       z = h_below K + h R + b (i, f, g, o, d)
 *                      d = σ(z_d + w_c ⊙ c + w_l ⊙ c_below);  c = σ(f) c + σ(i) tanh(g) + d c_below;  h = σ(o) tanh(c)
 *
 * Weights, in `getWeights()` order: kernel, recurrent_kernel, bias, then the
 * depth-gate weights [2][units] (depth-gated layers), as core/model.ts lays them out.
 */
import type { Tf } from './backend.ts';
import { CLASS_NAMES, CUSTOM_STEPS } from './cells.ts';
import { gateCount } from '../core/model.ts';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Tensor2D = import('@tensorflow/tfjs').Tensor2D;
type LayerVariable = import('@tensorflow/tfjs').LayerVariable;
type RnnLayer = import('@tensorflow/tfjs').layers.RNN;

/** One layer of the stack: the bottom LSTM or a depth-gated layer; `passCell`: it passes up [h, c] (a depth-gated layer is above it). */
export interface DepthGatedLayerArgs {
  units: number;
  bottom: boolean;
  passCell: boolean;
  returnSequences?: boolean;
  inputShape?: [number, number];
}

type CellArgs = Pick<DepthGatedLayerArgs, 'units' | 'bottom' | 'passCell'>;
const classes = new WeakMap<Tf, { cell: new (a: CellArgs) => object; layer: new (a: DepthGatedLayerArgs) => RnnLayer }>();

/** The RNN cell class of one tfjs instance: the bottom LSTM or a depth-gated layer's step. */
function defineCell(tf: Tf) {
  const zeros = () => tf.initializers.zeros();
  return class DepthGatedCell extends tf.layers.RNNCell {
    static className = CLASS_NAMES['depth-gated'];
    readonly units: number;
    readonly bottom: boolean;
    readonly passCell: boolean;
    stateSize: number[];
    kernel!: LayerVariable;
    recurrentKernel!: LayerVariable;
    bias!: LayerVariable;
    depthGate?: LayerVariable;

    constructor(a: CellArgs) {
      super({});
      this.units = a.units;
      this.bottom = a.bottom;
      this.passCell = a.passCell;
      this.stateSize = [a.units, a.units];
    }

    override build(inputShape: number[] | number[][]): void {
      const U = this.units;
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
      // a depth-gated layer's input is [h_below, c_below]: its kernel reads h_below only
      const inputDim = shape[shape.length - 1]! - (this.bottom ? 0 : U);
      const G = gateCount(this.bottom ? 'lstm' : 'depth-gated');
      this.kernel = this.addWeight('kernel', [inputDim, G * U], 'float32', zeros());
      this.recurrentKernel = this.addWeight('recurrent_kernel', [U, G * U], 'float32', zeros());
      this.bias = this.addWeight('bias', [G * U], 'float32', zeros());
      if (!this.bottom) this.depthGate = this.addWeight('depth_gate', [2 * U], 'float32', zeros());
      this.built = true;
    }

    override call(inputs: Tensor | Tensor[]): Tensor[] {
      return tf.tidy(() => {
        const [input, h, c] = inputs as Tensor2D[];
        const U = this.units;
        const K = this.kernel.read() as Tensor2D;
        const R = this.recurrentKernel.read() as Tensor2D;
        const b = this.bias.read();
        const width = input!.shape[1] - (this.bottom ? 0 : U);
        const x = this.bottom ? input! : tf.slice(input!, [0, 0], [-1, width]);
        const cBelow = this.bottom ? undefined : tf.slice(input!, [0, width], [-1, U]);
        const [, hNew, cNew] = this.bottom
          ? lstmStep(tf, x, h!, c!, K, R, b)
          : CUSTOM_STEPS['depth-gated'](tf, { x, h: h!, c: c!, K, R, b, extra: this.depthGate!.read(), cBelow });
        return [this.passCell ? tf.concat([hNew!, cNew!], 1) : hNew!, hNew!, cNew!];
      });
    }

    override getConfig() {
      return { ...super.getConfig(), units: this.units, bottom: this.bottom, passCell: this.passCell };
    }
  };
}

/** The cell and layer classes of one tfjs instance, defined once and registered. */
function classesOf(tf: Tf) {
  const known = classes.get(tf);
  if (known) return known;
  const DepthGatedCell = defineCell(tf);
  class DepthGatedRnn extends tf.layers.RNN {
    static override className = `${CLASS_NAMES['depth-gated']}RNN`;
    readonly args: DepthGatedLayerArgs;
    constructor(a: DepthGatedLayerArgs) {
      const cell = new DepthGatedCell(a);
      super({ ...a, cell } as unknown as ConstructorParameters<typeof tf.layers.RNN>[0]);
      this.args = a;
    }
    // tfjs sizes an RNN's output by its cell's first state (h); a layer under a depth-gated one passes up [h, c]
    override computeOutputShape(inputShape: number[] | number[][]): number[] | number[][] {
      const shape = super.computeOutputShape(inputShape) as number[];
      return this.args.passCell ? [...shape.slice(0, -1), 2 * this.args.units] : shape;
    }
    override getConfig() {
      const { units, bottom, passCell } = this.args;
      return { ...super.getConfig(), units, bottom, passCell };
    }
  }
  const register = tf.serialization.registerClass as (c: unknown) => void;
  register(DepthGatedCell);
  register(DepthGatedRnn);
  const made = { cell: DepthGatedCell, layer: DepthGatedRnn as unknown as new (a: DepthGatedLayerArgs) => RnnLayer };
  classes.set(tf, made);
  return made;
}

/** c = σ(f) c + σ(i) tanh(g);  h = σ(o) tanh(c): [h, h, c], tfjs' LSTM cell with a sigmoid recurrent activation. */
function lstmStep(tf: Tf, x: Tensor2D, h: Tensor2D, c: Tensor2D, K: Tensor2D, R: Tensor2D, b: Tensor): Tensor[] {
  const [zi, zf, zg, zo] = tf.split(tf.add(tf.add(tf.matMul(x, K), tf.matMul(h, R)), b) as Tensor2D, 4, 1);
  const cNew = tf.add(tf.mul(tf.sigmoid(zf!), c), tf.mul(tf.sigmoid(zi!), tf.tanh(zg!)));
  const hNew = tf.mul(tf.sigmoid(zo!), tf.tanh(cNew));
  return [hNew, hNew, cNew];
}

/** One layer of a depth-gated stack (built lazily by tfjs; its weights start as zeros). */
export function depthGatedLayer(tf: Tf, args: DepthGatedLayerArgs): RnnLayer {
  return new (classesOf(tf).layer)(args);
}
