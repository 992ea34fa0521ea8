/**
 * The portable dialect (target es5): loops for the dot products, if-chains
 * for saturation, one statement per step of a formula. Any ES5 engine runs it.
 */
import type { Dialect, GateSum, RowDot } from './dialect.ts';
import type { CodeBuilder } from './builder.ts';
import type { LayerNames } from './layer-names.ts';
import { emitSaturate, emitSaturateInt16, emitSigmoid, emitTanh, emitTanhOfCell } from './emit-primitives.ts';

/** z = (base >> shift) + plus in the local z, unless base is z itself unshifted. */
function emitGateSum(b: CodeBuilder, z: GateSum): void {
  if (!(z.base === 'z' && z.shift === 0)) b.line(`z = (${z.base}) >> ${z.shift};`);
  if (z.plus !== undefined) b.line(`z += ${z.plus};`);
}

export const PORTABLE: Dialect = {
  target: 'es5',
  rowViews: false,
  inputView: false,
  wrapModule(b, globalName, body) {
    b.block(`var ${globalName} = (function () {`, () => body(), '})();');
  },
  builtins: [],
  nativeBase64: [],
  builtinLocals: [],
  weightArrays: ['W'],
  candidateArrays: [],
  // acc = Σ_i W[r*NV + from + i] vec[i]: the loop, into `into` first.
  rowDot(b: CodeBuilder, n: LayerNames, dot: RowDot): string {
    b.line(`${dot.into} = 0; w = r * ${dot.rowLength}${dot.from ? ` + ${dot.from}` : ''};`);
    b.line(`for (i = 0; i < ${dot.count}; i++) ${dot.into} += ${n.W}[w + i] * ${dot.vec}[i];`);
    return dot.into;
  },
  // tanh: its index is clamped, no sat16 first (NUMERICS.md §4); sigmoid: sat16(z) first.
  activate(b, kind, z, target, table) {
    emitGateSum(b, z);
    if (kind === 'tanh') emitTanh(b, 'z', target, table);
    else {
      emitSaturateInt16(b, 'z');
      emitSigmoid(b, 'z', target, table);
    }
  },
  saturate(b, v, expr, lo, hi) {
    b.line(`${v} = ${expr};`);
    emitSaturate(b, v, lo, hi);
  },
  saturatedStore(b, target, expr, lo, hi, via) {
    this.saturate(b, via, expr, lo, hi);
    b.line(`${target} = ${via};`);
  },
  tanhOfCell(b, c, cellIntBits, table) {
    emitTanhOfCell(b, c, cellIntBits, 't', table);
    return 't';
  },
  headRow(b, width, h) {
    b.line(`acc = DB[k]; w = k * ${width};`);
    b.line(`for (i = 0; i < ${width}; i++) acc += D[w + i] * ${h}[i];`);
    b.line('Y[k] = acc;');
  },
};
