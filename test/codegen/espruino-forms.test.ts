/**
 * The espruino target's one-expression forms (codegen/emit-primitives.ts,
 * NUMERICS.md "How the device computes"): evaluated with E.clip's semantics,
 * each must equal the contract's primitive for every integer it can meet,
 * well beyond int16. The parity tests check whole models on real engines;
 * these check the identities over the whole range, including values a model
 * rarely reaches.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { activationText, tanhOfCellText } from '../../codegen/emit-primitives.ts';
import { localsByReads } from '../../codegen/locals-order.ts';
import { buildTanhTable, cellToQ12, saturateInt16, sigmoidQ15, tanhQ15 } from '../../core/fixed-point.ts';
import { fakeEspruinoGlobals } from '../../parity/engines.ts';

const TT = buildTanhTable();
const clip = fakeEspruinoGlobals().E.clip;
/** The expression text as a function of x, with tt and cl bound as in the generated step. */
const compile = (text: string) =>
  new Function('x', 'tt', 'cl', `return ${text};`) as (x: number, tt: Int16Array, cl: typeof clip) => number;

describe('activation of z = x >> S in one expression', () => {
  // S = 0: x is z; 15: a usual gate shift (folded into one shift); 27: S + 5 > 31 (two shifts).
  for (const S of [0, 15, 27]) {
    const sigmoid = compile(activationText('sigmoid', 'x', S, 'tt'));
    const tanh = compile(activationText('tanh', 'x', S, 'tt'));
    it(`S = ${S}: σ(sat16(z)) and tanh(z) for operands below 2^31 (§7)`, () => {
      fc.assert(
        fc.property(fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), (x) => {
          const z = x >> S;
          expect(sigmoid(x, TT, clip)).toBe(sigmoidQ15(saturateInt16(z), TT));
          expect(tanh(x, TT, clip)).toBe(tanhQ15(z, TT));
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('S = 0 around the ends of int16 and of the table, exhaustively', () => {
    const sigmoid = compile(activationText('sigmoid', 'x', 0, 'tt'));
    const tanh = compile(activationText('tanh', 'x', 0, 'tt'));
    for (let z = -70000; z <= 70000; z++) {
      if (sigmoid(z, TT, clip) !== sigmoidQ15(saturateInt16(z), TT)) throw new Error(`sigmoid differs at z = ${z}`);
      if (tanh(z, TT, clip) !== tanhQ15(z, TT)) throw new Error(`tanh differs at z = ${z}`);
    }
  });

  it('folds the two shifts into one only when the sum is at most 31', () => {
    expect(activationText('sigmoid', 'x', 15, 'tt')).toContain('(x) >> 20');
    expect(activationText('sigmoid', 'x', 27, 'tt')).toContain('((x) >> 27) >> 5');
  });
});

describe('tanh(c) of a cell state in one expression', () => {
  for (let K = 0; K <= 8; K++) {
    it(`K = ${K}: every int16 c, clamped only where the index can leave the table`, () => {
      const f = compile(tanhOfCellText('x', K, 'tt'));
      for (let c = -32768; c <= 32767; c++) {
        if (f(c, TT, clip) !== tanhQ15(cellToQ12(c, K), TT)) throw new Error(`differs at c = ${c}`);
      }
      expect(tanhOfCellText('x', K, 'tt').includes('cl(')).toBe(K >= 2);
    });
  }
});

describe('the order of stepQ locals', () => {
  it('puts the names read in the loops first, weighted by their trip counts', () => {
    // i: 4 readings x 32 x 4 = 512; q: 2 x 128 = 256; u: 4 x 32 = 128; r: 32; z: 4; k: 1; w: none
    const body = 'z = 1; k = z + z + z; for (u = 0; u < 32; u++) { r = u; for (i = 0; i < 4; i++) q = q + i; }';
    expect(localsByReads(body, ['z', 'k', 'r', 'u', 'q', 'i', 'w'])).toEqual(['i', 'q', 'u', 'r', 'z', 'k']);
  });
});
