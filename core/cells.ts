/**
 * The recurrent cell kinds, as one table: every fact about a kind that more
 * than one stage reads. A stage that does something per kind dispatches over
 * `CellKind` exhaustively (a `Record<CellKind, …>` or a switch ending in
 * `assertNever`), so adding a kind here makes the compiler list every place
 * that must learn it. docs/ADDING_A_CELL.md is the checklist.
 *
 * - 'lstm': LSTM (Hochreiter & Schmidhuber, with a forget gate);
 * - 'peephole': LSTM whose gates also see the cell state (Gers & Schmidhuber 2000);
 * - 'cifg': LSTM with coupled input and forget gates (input = 1 - forget);
 * - 'gru': GRU, reset applied before the recurrent product (Cho 2014; TensorFlow.js' GRU);
 * - 'gru-reset-after': GRU, reset applied after it (Keras' reset_after=True, PyTorch);
 * - 'rnn': simple RNN (tanh);
 * - 'clockwork': Clockwork RNN (Koutník et al. 2014): a tanh RNN whose units
 *   form modules with periods, each updated only at the steps its period divides;
 * - 'depth-gated': LSTM with a depth gate onto the cell state of the layer below
 *   (Yao et al. 2015); a layer above an LSTM-family layer of its own width.
 */

export type CellKind = 'lstm' | 'peephole' | 'cifg' | 'gru' | 'gru-reset-after' | 'rnn' | 'clockwork' | 'depth-gated';

export interface CellFacts {
  /** What it is, in a few words (--help, docs). */
  title: string;
  /** How the generated module's comments name it. */
  codeTitle: string;
  /** Gate rows in the order of the kernel columns (the Keras / TensorFlow.js orders). */
  gates: readonly ('input' | 'forget' | 'cell' | 'output' | 'update' | 'reset' | 'candidate' | 'depth')[];
  /** Carries a cell state c besides h (the LSTM family). */
  cellState: boolean;
  /** Index of the forget gate among `gates` (its bias starts at 1 when training), if it has one. */
  forgetGate?: number;
  /** The input gate is 1 − forget (no input gate row). */
  coupledInputGate: boolean;
  /**
   * A float tensor besides kernel, recurrent kernel and bias: 'peephole'
   * ([3][units] diagonal weights onto i, f, o) or 'recurrentBias' ([G][units],
   * the bias of the recurrent product) or 'depthGate' ([2][units] diagonal
   * weights of this layer's and the lower layer's cell state onto the depth gate).
   */
  extra?: 'peephole' | 'recurrentBias' | 'depthGate';
  /**
   * Reads the cell state of the layer below at the same step (the depth
   * gate): never layer 0; the layer below is a forward LSTM-family layer of
   * the same width, and the two share one cell-state format.
   */
  readsCellBelow?: true;
  /** Where the GRU reset gate applies: before the recurrent product (r ⊙ h is its input) or after it. */
  reset?: 'before' | 'after';
  /** How TensorFlow.js trains it: its own layer of that name, or a cell of trainer/cells.ts. */
  tfjsLayer?: 'lstm' | 'gru' | 'simpleRNN';
  /** The fused kernel applies dropout to it (tfjs' GRU also masks the h it carries, which the kernel does not). */
  fusedDropout: boolean;
  /**
   * The units form modules with clock periods (core/clock.ts): a step
   * counter is part of the state, a module updates only at the steps its
   * period divides, and reads the h of modules at least as slow as itself.
   */
  clock?: true;
}

/** The table with its literal types (what the types below are derived from); read it as CELLS. */
const CELL_TABLE = {
  lstm: {
    title: 'LSTM with a forget gate',
    codeTitle: 'LSTM',
    gates: ['input', 'forget', 'cell', 'output'],
    cellState: true,
    forgetGate: 1,
    coupledInputGate: false,
    tfjsLayer: 'lstm',
    fusedDropout: true,
  },
  peephole: {
    title: 'LSTM whose gates also see the cell state (Gers & Schmidhuber 2000)',
    codeTitle: 'Peephole LSTM',
    gates: ['input', 'forget', 'cell', 'output'],
    cellState: true,
    forgetGate: 1,
    coupledInputGate: false,
    extra: 'peephole',
    fusedDropout: false,
  },
  cifg: {
    title: 'coupled input-forget gates: the input gate is 1 − forget',
    codeTitle: 'CIFG LSTM (coupled input-forget gates)',
    gates: ['forget', 'cell', 'output'],
    cellState: true,
    forgetGate: 0,
    coupledInputGate: true,
    fusedDropout: false,
  },
  gru: {
    title: 'GRU, reset gate applied before the recurrent product (TensorFlow.js)',
    codeTitle: 'GRU (reset before the recurrent product)',
    gates: ['update', 'reset', 'candidate'],
    cellState: false,
    coupledInputGate: false,
    reset: 'before',
    tfjsLayer: 'gru',
    fusedDropout: false,
  },
  'gru-reset-after': {
    title: "GRU, reset gate applied after the recurrent product, two bias vectors (Keras' reset_after=True, PyTorch)",
    codeTitle: 'GRU (reset after the recurrent product)',
    gates: ['update', 'reset', 'candidate'],
    cellState: false,
    coupledInputGate: false,
    extra: 'recurrentBias',
    reset: 'after',
    fusedDropout: false,
  },
  rnn: {
    title: 'simple tanh RNN',
    codeTitle: 'Simple RNN',
    gates: ['candidate'],
    cellState: false,
    coupledInputGate: false,
    tfjsLayer: 'simpleRNN',
    fusedDropout: true,
  },
  clockwork: {
    title: 'Clockwork RNN: tanh modules updated every T_i steps (Koutník et al. 2014)',
    codeTitle: 'Clockwork RNN',
    gates: ['candidate'],
    cellState: false,
    coupledInputGate: false,
    clock: true,
    fusedDropout: false,
  },
  'depth-gated': {
    title: 'LSTM whose depth gate adds the cell state of the layer below (Yao et al. 2015); layer 0 is an LSTM',
    codeTitle: 'Depth-gated LSTM',
    gates: ['input', 'forget', 'cell', 'output', 'depth'],
    cellState: true,
    forgetGate: 1,
    coupledInputGate: false,
    extra: 'depthGate',
    readsCellBelow: true,
    fusedDropout: false,
  },
} as const satisfies { readonly [K in CellKind]: CellFacts };

export const CELLS: { readonly [K in CellKind]: CellFacts } = CELL_TABLE;

/** The kinds TensorFlow.js has a layer for; every other kind is a cell of trainer/cells.ts. */
export type TfjsLayerKind = { [K in CellKind]: (typeof CELL_TABLE)[K] extends { tfjsLayer: string } ? K : never }[CellKind];
export type CustomCellKind = Exclude<CellKind, TfjsLayerKind>;

export const CELL_KINDS = Object.keys(CELLS) as readonly CellKind[];

/** The end of an exhaustive dispatch: a kind no branch took is a compile error here. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${String(value)}`);
}

// The predicates below answer false for a kind not in the table (a damaged
// or foreign file is read before it is validated).

/** Cells with a cell state c (the LSTM family). */
export const hasCellState = (cell: CellKind): boolean => CELLS[cell]?.cellState === true;
/** The GRU conventions. */
export const isGru = (cell: CellKind): boolean => CELLS[cell]?.reset !== undefined;
/** Diagonal peephole weights [3][units] (onto i, f, o). */
export const hasPeepholes = (cell: CellKind): boolean => CELLS[cell]?.extra === 'peephole';
/** A bias of the recurrent product besides the input bias (GRU reset-after). */
export const hasRecurrentBias = (cell: CellKind): boolean => CELLS[cell]?.extra === 'recurrentBias';
/** Diagonal depth-gate weights [2][units] (onto the depth gate: this layer's c(t-1), the lower layer's c(t)). */
export const hasDepthGate = (cell: CellKind): boolean => CELLS[cell]?.extra === 'depthGate';
/** Reads the cell state of the layer below (the depth-gated LSTM). */
export const readsCellBelow = (cell: CellKind): boolean => CELLS[cell]?.readsCellBelow === true;
/** The GRU whose candidate rows read [x, r ⊙ h] (reset before the recurrent product). */
export const resetsBeforeProduct = (cell: CellKind): boolean => CELLS[cell]?.reset === 'before';
/** Modules with clock periods and a step counter in the state (Clockwork RNN). */
export const hasClock = (cell: CellKind): boolean => CELLS[cell]?.clock === true;
