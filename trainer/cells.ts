/**
 * Recurrent cells TensorFlow.js does not have, as tfjs-layers RNN cells
 * (trained through `tf.layers.rnn({ cell })`, gradients by tfjs autodiff).
 * Each computes exactly the formulas of reference/float-reference.ts, with the
 * weights in the layouts of core/model.ts (checked within 1e-5 in
 * test/reference/float-reference.test.ts):
 *
 * - peephole LSTM, gates i, f, g, o; peephole weights [3][units] (i, f, o):
 *     i = σ(z_i + p_i c),  f = σ(z_f + p_f c),  c' = f c + i tanh(z_g),  o = σ(z_o + p_o c'),  h = o tanh(c')
 * - CIFG LSTM, gates f, g, o:  f = σ(z_f);  c' = f c + (1 − f) tanh(z_g);  h = σ(z_o) tanh(c')
 * - depth-gated LSTM, gates i, f, g, o, d; depth-gate weights [2][units] (c(t-1), c_below):
 *     d = σ(z_d + w_c c + w_l c_below),  c' = f c + i tanh(z_g) + d c_below  (its layer: depth-gated-layer.ts)
 * - GRU reset-after, gates z, r, h~; input bias b and recurrent bias b':
 *     xz = x W + b;  hz = h U + b';  z = σ(xz_z + hz_z);  r = σ(xz_r + hz_r)
 *     n = tanh(xz_h + r hz_h);  h' = z h + (1 − z) n
 * - Clockwork RNN (core/clock.ts), gate h~; its input carries one more column,
 *   the clock t of the step (trainer/clock-column.ts), which it splits off:
 *     h' = tanh(x W + h (U ⊙ M) + b) where t mod T(u) = 0, else h
 *   with M the block upper-triangular mask (h_j feeds unit u when module(j) >= module(u))
 *
 * Weights are created as zeros; the trainer sets seeded initial values
 * (trainer/train.ts) and reads them back in `getWeights()` order:
 * kernel, recurrentKernel, bias, then peephole or recurrentBias.
 */
import type { Tf } from './backend.ts';
import {
  CELLS,
  CELL_KINDS,
  hasRecurrentBias,
  hasPeepholes,
  hasCellState,
  hasClock,
  gateCount,
  readsCellBelow,
  type CellKind,
} from '../core/model.ts';
import { clockMask, clockOfUnits } from '../core/clock.ts';
import type { CustomCellKind } from '../core/cells.ts';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Tensor2D = import('@tensorflow/tfjs').Tensor2D;
type LayerVariable = import('@tensorflow/tfjs').LayerVariable;
type RNNCell = import('@tensorflow/tfjs').layers.RNNCell;

/** Cells built here rather than taken from tfjs: the kinds the cell table gives no TensorFlow.js layer. */
export type { CustomCellKind };
/** The kinds TensorFlow.js has no layer for (CELLS[kind].tfjsLayer unset). */
export const isCustomCell = (cell: CellKind): cell is CustomCellKind => CELLS[cell].tfjsLayer === undefined;
export const CUSTOM_CELLS: readonly CustomCellKind[] = CELL_KINDS.filter(isCustomCell);

export const CLASS_NAMES: Record<CustomCellKind, string> = {
  peephole: 'LstmMcuPeepholeLSTMCell',
  'depth-gated': 'LstmMcuDepthGatedLSTMCell',
  cifg: 'LstmMcuCIFGLSTMCell',
  'gru-reset-after': 'LstmMcuGRUResetAfterCell',
  clockwork: 'LstmMcuClockworkCell',
};

/** A [batch, G*units] tensor split into the kind's gates, in gate order. */
const gates = (tf: Tf, z: Tensor, cell: CustomCellKind): Tensor2D[] => tf.split(z as Tensor2D, gateCount(cell), 1);

/** One step's operands: input, state, weights, the kind's extra tensor (peepholes, recurrent bias, depth gate), the lower layer's c (depth-gated). */
interface StepInputs {
  x: Tensor2D;
  h: Tensor2D;
  c: Tensor2D;
  K: Tensor2D;
  R: Tensor2D;
  b: Tensor;
  extra?: Tensor;
  /** Clockwork: the step's clock t [batch][1], each unit's period [units] and the recurrent mask [units][units]. */
  clock?: { t: Tensor2D; periods: Tensor; mask: Tensor };
  /** Depth-gated: the lower layer's c at this step [batch][units]. */
  cBelow?: Tensor2D;
}

/** The float step of each custom kind: [output, h] (and c for the LSTM family). Every custom kind must have one. */
export const CUSTOM_STEPS: { readonly [K in CustomCellKind]: (tf: Tf, s: StepInputs) => Tensor[] } = {
  clockwork: (tf, { x, h, K, R, b, clock }) => {
    const active = tf.equal(tf.mod(clock!.t, clock!.periods), 0);
    const z = tf.add(tf.add(tf.matMul(x, K), tf.matMul(h, tf.mul(R, clock!.mask) as Tensor2D)), b);
    const hNew = tf.where(tf.broadcastTo(active, h.shape), tf.tanh(z), h);
    return [hNew, hNew];
  },
  // the depth gate sees c(t-1) and the lower layer's c(t); c gains d ⊙ c_below (its layer: trainer/depth-gated-layer.ts)
  'depth-gated': (tf, { x, h, c, K, R, b, extra, cBelow }) => {
    const [zi, zf, zg, zo, zd] = gates(tf, tf.add(tf.add(tf.matMul(x, K), tf.matMul(h, R)), b), 'depth-gated');
    const [wc, wl] = tf.split(extra!, 2, 0);
    const d = tf.sigmoid(tf.add(tf.add(zd!, tf.mul(wc!, c)), tf.mul(wl!, cBelow!)));
    const cNew = tf.add(tf.add(tf.mul(tf.sigmoid(zf!), c), tf.mul(tf.sigmoid(zi!), tf.tanh(zg!))), tf.mul(d, cBelow!));
    const hNew = tf.mul(tf.sigmoid(zo!), tf.tanh(cNew));
    return [hNew, hNew, cNew];
  },
  'gru-reset-after': (tf, { x, h, K, R, b, extra }) => {
    const [xz, xr, xh] = gates(tf, tf.add(tf.matMul(x, K), b), 'gru-reset-after');
    const [hz, hr, hh] = gates(tf, tf.add(tf.matMul(h, R), extra!), 'gru-reset-after');
    const z = tf.sigmoid(tf.add(xz!, hz!));
    const r = tf.sigmoid(tf.add(xr!, hr!));
    const n = tf.tanh(tf.add(xh!, tf.mul(r, hh!)));
    const hNew = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), n));
    return [hNew, hNew];
  },
  cifg: (tf, { x, h, c, K, R, b }) => {
    const [zf, zg, zo] = gates(tf, tf.add(tf.add(tf.matMul(x, K), tf.matMul(h, R)), b), 'cifg');
    const f = tf.sigmoid(zf!);
    const cNew = tf.add(tf.mul(f, c), tf.mul(tf.sub(1, f), tf.tanh(zg!)));
    const hNew = tf.mul(tf.sigmoid(zo!), tf.tanh(cNew));
    return [hNew, hNew, cNew];
  },
  peephole: (tf, { x, h, c, K, R, b, extra }) => {
    const [zi, zf, zg, zo] = gates(tf, tf.add(tf.add(tf.matMul(x, K), tf.matMul(h, R)), b), 'peephole');
    const [pi, pf, po] = tf.split(extra!, 3, 0);
    const i = tf.sigmoid(tf.add(zi!, tf.mul(pi!, c)));
    const f = tf.sigmoid(tf.add(zf!, tf.mul(pf!, c)));
    const cNew = tf.add(tf.mul(f, c), tf.mul(i, tf.tanh(zg!)));
    const o = tf.sigmoid(tf.add(zo!, tf.mul(po!, cNew)));
    const hNew = tf.mul(o, tf.tanh(cNew));
    return [hNew, hNew, cNew];
  },
};

type CellArgs = { units: number; name?: string; clockPeriods?: number[] };
type CellClass = new (args: CellArgs) => RNNCell;
const classes = new WeakMap<Tf, Map<CustomCellKind, CellClass>>();

/**
 * The tfjs RNN cell class of a custom kind, defined once per tfjs instance and
 * registered for (de)serialization: tfjs' Bidirectional wrapper builds its
 * backward layer from the forward layer's config.
 */
function cellClass(tf: Tf, cell: CustomCellKind): CellClass {
  let byKind = classes.get(tf);
  if (!byKind) classes.set(tf, (byKind = new Map()));
  const known = byKind.get(cell);
  if (known) return known;
  const G = gateCount(cell);
  const zeros = () => tf.initializers.zeros();

  class CustomCell extends tf.layers.RNNCell {
    static className = CLASS_NAMES[cell];
    readonly units: number;
    stateSize: number | number[];
    kernel!: LayerVariable;
    recurrentKernel!: LayerVariable;
    bias!: LayerVariable;
    extra!: LayerVariable;
    readonly clockPeriods: number[] | undefined;

    constructor(args: CellArgs) {
      super({ name: args.name });
      this.units = args.units;
      this.stateSize = hasCellState(cell) ? [args.units, args.units] : args.units;
      this.clockPeriods = args.clockPeriods;
      if (hasClock(cell) && !args.clockPeriods) throw new Error('a clockwork cell needs its clock periods');
    }

    override build(inputShape: number[] | number[][]): void {
      const units = this.units;
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
      // a clockwork cell's last input column is the clock, not a feature
      const inputDim = shape[shape.length - 1]! - (hasClock(cell) ? 1 : 0);
      this.kernel = this.addWeight('kernel', [inputDim, G * units], 'float32', zeros());
      this.recurrentKernel = this.addWeight('recurrent_kernel', [units, G * units], 'float32', zeros());
      this.bias = this.addWeight('bias', [G * units], 'float32', zeros());
      if (hasPeepholes(cell)) this.extra = this.addWeight('peephole', [3 * units], 'float32', zeros());
      if (hasRecurrentBias(cell)) this.extra = this.addWeight('recurrent_bias', [G * units], 'float32', zeros());
      this.built = true;
    }

    override call(inputs: Tensor | Tensor[]): Tensor[] {
      return tf.tidy(() => {
        const [input, h, c] = inputs as Tensor2D[];
        const K = this.kernel.read() as Tensor2D;
        const R = this.recurrentKernel.read() as Tensor2D;
        const b = this.bias.read();
        const periods = this.clockPeriods;
        if (!periods) return CUSTOM_STEPS[cell](tf, { x: input!, h: h!, c: c!, K, R, b, extra: this.extra?.read() });
        const F = input!.shape[1] - 1;
        const x = tf.slice(input!, [0, 0], [-1, F]);
        const t = tf.slice(input!, [0, F], [-1, 1]);
        const clock = {
          t,
          periods: tf.tensor1d(clockOfUnits(this.units, periods)),
          mask: tf.tensor2d(clockMask(this.units, periods), [this.units, this.units]),
        };
        return CUSTOM_STEPS[cell](tf, { x, h: h!, c: c!, K, R, b, clock });
      });
    }

    override getConfig() {
      return { ...super.getConfig(), units: this.units, ...(this.clockPeriods ? { clockPeriods: this.clockPeriods } : {}) };
    }
  }
  tf.serialization.registerClass(CustomCell as unknown as Parameters<typeof tf.serialization.registerClass>[0]);
  byKind.set(cell, CustomCell as unknown as CellClass);
  return CustomCell as unknown as CellClass;
}

/** A tfjs RNN cell of a custom kind with `units` units (built lazily by the RNN layer). */
export function customCell(tf: Tf, cell: CustomCellKind, units: number, clockPeriods?: number[]): RNNCell {
  return new (cellClass(tf, cell))({ units, ...(clockPeriods ? { clockPeriods } : {}) });
}

type RnnLayer = import('@tensorflow/tfjs').layers.RNN;
type RnnClass = new (args: {
  units: number;
  clockPeriods?: number[];
  returnSequences?: boolean;
  goBackwards?: boolean;
  inputShape?: number[];
  name?: string;
}) => RnnLayer;
const rnnClasses = new WeakMap<Tf, Map<CustomCellKind, RnnClass>>();

/**
 * A tfjs RNN layer over a custom cell, as its own registered layer class.
 * tfjs' generic RNN layer serializes its cell into its config, and tfjs'
 * Bidirectional wrapper reuses (and mutates) that config to build the
 * backward layer, which breaks for a generic RNN; this class serializes only
 * `units` and rebuilds its cell from them.
 */
export function customRnnLayer(
  tf: Tf,
  cell: CustomCellKind,
  args: { units: number; returnSequences: boolean; inputShape?: [number, number]; clockPeriods?: number[] },
): RnnLayer {
  if (readsCellBelow(cell)) throw new Error(`the ${cell} layer reads the layer below: trainer/depth-gated-layer.ts builds it`);
  let byKind = rnnClasses.get(tf);
  if (!byKind) rnnClasses.set(tf, (byKind = new Map()));
  let Layer = byKind.get(cell);
  if (!Layer) {
    class CustomRnn extends tf.layers.RNN {
      static override className = `${CLASS_NAMES[cell]}RNN`;
      readonly units: number;
      readonly clockPeriods: number[] | undefined;
      constructor(a: {
        units: number;
        clockPeriods?: number[];
        returnSequences?: boolean;
        goBackwards?: boolean;
        inputShape?: number[];
        name?: string;
      }) {
        const { clockPeriods, ...rest } = a;
        super({ ...rest, cell: customCell(tf, cell, a.units, clockPeriods) } as ConstructorParameters<typeof tf.layers.RNN>[0]);
        this.units = a.units;
        this.clockPeriods = clockPeriods;
      }
      override getConfig() {
        return { ...super.getConfig(), units: this.units, ...(this.clockPeriods ? { clockPeriods: this.clockPeriods } : {}) };
      }
      static override fromConfig<T>(cls: new (a: object) => T, config: Record<string, unknown>): T {
        return new cls({ ...config });
      }
    }
    tf.serialization.registerClass(CustomRnn as unknown as Parameters<typeof tf.serialization.registerClass>[0]);
    Layer = CustomRnn as unknown as RnnClass;
    byKind.set(cell, Layer);
  }
  return new Layer({
    units: args.units,
    ...(args.clockPeriods ? { clockPeriods: args.clockPeriods } : {}),
    returnSequences: args.returnSequences,
    ...(args.inputShape ? { inputShape: args.inputShape } : {}),
  });
}
