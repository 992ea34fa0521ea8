/**
 * The two forms the generated module is written in, behind one interface.
 * The section and cell emitters say what a statement computes; the dialect
 * says how it is written:
 * - espruino (codegen/dialect-espruino.ts): dot products as one native
 *   E.convolve call (conv) over cached row views, or over groups of rows in
 *   flash; saturation as one E.clip call (clip); an activation and its
 *   saturation in one expression; the functions pretokenised.
 * - portable (codegen/dialect-portable.ts): loops and if-chains that any ES5
 *   engine runs (JerryScript, Duktape, Node).
 * Both compute the same integers (docs/NUMERICS.md "How the device computes");
 * every test of the generated module runs on both.
 */
import type { CodeBuilder } from './builder.ts';
import type { LayerNames } from './layer-names.ts';

export type Target = 'espruino' | 'es5';
export const TARGETS: readonly Target[] = ['espruino', 'es5'];

/** One dot product of a gate row: Σ W[r, from + i] vec[i] for i < count, the row r of `rowLength` values. */
export interface RowDot {
  /** The local the portable loop sums into (and the expression it returns). */
  into: string;
  vec: string;
  /** The row's cached view (espruino with row views). */
  view: string;
  from: number;
  count: number;
  rowLength: number;
}

/** A gate's pre-activation z = (base >> shift) + plus; base `z` with shift 0 is the local z, already set. */
export interface GateSum {
  base: string;
  shift: number;
  plus?: string;
}

export interface Dialect {
  readonly target: Target;
  /** The rows of unit u are read through the cached views RU[u] (the local q). */
  readonly rowViews: boolean;
  /** The reset-after GRU reads the input part of v through its own view XV. */
  readonly inputView: boolean;
  /** The module's function around its body; `beforeReturn` runs just before the body's return. */
  wrapModule(b: CodeBuilder, globalName: string, body: (beforeReturn?: () => void) => void): void;
  /** The lines that define conv and clip before the data is decoded (weights in RAM). */
  readonly builtins: readonly string[];
  /** The base64 decoder's shortcut to a native decoder, if any. */
  readonly nativeBase64: readonly string[];
  /** The step's locals for the built-ins (set before a layer's loops, beside its arrays). */
  readonly builtinLocals: readonly string[];
  /** The arrays of a layer the step reads its gate rows through. */
  readonly weightArrays: readonly (keyof LayerNames)[];
  /** The arrays the reset-after candidate row reads besides those (its input part, its two halves). */
  readonly candidateArrays: readonly (keyof LayerNames)[];
  /** Σ W[r, i] vec[i] over the row's part as an expression (the portable loop is written first). */
  rowDot(b: CodeBuilder, n: LayerNames, dot: RowDot): string;
  /** target = σ(sat16(z)) or tanh(z) (Q3.12 -> Q0.15) of the gate sum z, through the table `table`. */
  activate(b: CodeBuilder, kind: 'sigmoid' | 'tanh', z: GateSum, target: string, table: string): void;
  /** v = sat(expr, lo, hi) in the local v. */
  saturate(b: CodeBuilder, v: string, expr: string, lo: number, hi: number): void;
  /** target = sat(expr, lo, hi) through the local `via`; `keepVia`: the code after reads it from `via`. */
  saturatedStore(b: CodeBuilder, target: string, expr: string, lo: number, hi: number, via: string, keepVia?: boolean): void;
  /** tanh(c) of a cell state c in Q(K).(15-K), as an expression (the portable form writes the local t first). */
  tanhOfCell(b: CodeBuilder, c: string, cellIntBits: number, table: string): string;
  /** Y[k] = Σ D[k,j] h[j] + DB[k] for the head row k, over the `width` values of h. */
  headRow(b: CodeBuilder, width: number, h: string): void;
}
