/**
 * The Espruino dialect: a dot product is one native E.convolve call (conv),
 * a saturation one E.clip call (clip), and a gate row one statement with its
 * activation inline; the module's functions are pretokenised. Espruino runs
 * code from its source text, so one native call where the portable form takes
 * several interpreted statements is the speed (docs/NUMERICS.md "How the
 * device computes"); the integers are the same.
 *
 * Weights in RAM: conv reads cached row views (RU[u]: the rows of unit u, one
 * view each). Weights in flash: views of ROW_GROUP rows at once (RW), conv
 * reads row r at its offset in its group's view (no per-row view in RAM).
 */
import type { Dialect, GateSum, RowDot } from './dialect.ts';
import type { CodeBuilder } from './builder.ts';
import type { LayerNames } from './layer-names.ts';
import { ROW_GROUP } from './flash-weights.ts';
import { es5Lines } from './es5-source.ts';
import { activationText, clipText, tanhOfCellText } from './emit-primitives.ts';

/** log2(ROW_GROUP): the group of row r is r >> GROUP_BITS. */
const GROUP_BITS = Math.log2(ROW_GROUP);

/**
 * The wrapper that pretokenises a module's functions (Espruino runs code from source text;
 * pretokenised functions run faster and take less RAM): `open` starts a function of the
 * previous flag, `restore` (the body's last line before its return) puts it back, and `close`
 * calls the function with the flag turned on first (the argument is evaluated before the body runs).
 */
export const PRETOKENISED = {
  open: '(function (previousPretokenise) {',
  restore: 'if (previousPretokenise !== undefined) E.setFlags({ pretokenise: previousPretokenise });',
  close:
    '})(typeof E !== "undefined" && typeof E.getFlags === "function" ? (function (previous) { E.setFlags({ pretokenise: 1 }); return previous; })(E.getFlags().pretokenise) : undefined)',
};

/** The gate sum z as one expression and the shift activationText applies to it. */
function gateSumText(z: GateSum): { x: string; shift: number } {
  if (z.plus === undefined) return { x: z.base, shift: z.shift };
  return { x: z.shift ? `((${z.base}) >> ${z.shift}) + (${z.plus})` : `${z.base} + (${z.plus})`, shift: 0 };
}

function espruinoDialect(rowViews: boolean): Dialect {
  return {
    target: 'espruino',
    rowViews,
    inputView: true,
    wrapModule(b, globalName, body) {
      b.comment('Espruino: the functions of this module are pretokenised (faster, smaller); the previous flag is restored.');
      b.block(`var ${globalName} = ${PRETOKENISED.open}`, () => body(() => b.line(PRETOKENISED.restore)), `${PRETOKENISED.close};`);
    },
    builtins: rowViews ? es5Lines('native-builtins') : es5Lines('flash-builtins'),
    nativeBase64: ['if (native) return E.toArrayBuffer(atob(parts.join("")));'],
    builtinLocals: ['cv = conv', 'cl = clip'],
    weightArrays: [rowViews ? 'RU' : 'RW'],
    candidateArrays: rowViews ? ['XV', 'RWX', 'RWH'] : ['XV'],
    rowDot(b: CodeBuilder, n: LayerNames, dot: RowDot): string {
      // E.convolve's offset defaults to 0 (an omitted int32 argument is 0); one argument fewer to read.
      if (rowViews) return `cv(${dot.view}, ${dot.vec})`;
      // conv(a, b, o) = Σ_i a[i] b[i + o] over a's length: vec against row r at (r % ROW_GROUP)*NV of its group's view.
      return `cv(${dot.vec}, ${n.RW}[r >> ${GROUP_BITS}], (r & ${ROW_GROUP - 1}) * ${dot.rowLength}${dot.from ? ` + ${dot.from}` : ''})`;
    },
    // one statement: target = act(z), saturated inside by cl (activationText)
    activate(b, kind, z, target, table) {
      const { x, shift } = gateSumText(z);
      b.line(`${target} = ${activationText(kind, x, shift, table)};`);
    },
    saturate(b, v, expr, lo, hi) {
      b.line(`${v} = ${clipText(expr, lo, hi)};`);
    },
    saturatedStore(b, target, expr, lo, hi, via, keepVia = false) {
      b.line(`${target} = ${keepVia ? `${via} = ` : ''}${clipText(expr, lo, hi)};`);
    },
    tanhOfCell: (b, c, cellIntBits, table) => tanhOfCellText(c, cellIntBits, table),
    headRow(b, width, h) {
      b.line(rowViews ? `Y[k] = conv(RD[k], ${h}, 0) + DB[k];` : `Y[k] = conv(${h}, D, k * ${width}) + DB[k];`);
    },
  };
}

/** Weights in RAM: conv over cached row views. */
export const ESPRUINO = espruinoDialect(true);
/** Weights in a Storage file: conv over groups of rows at an offset. */
export const ESPRUINO_FLASH = espruinoDialect(false);
