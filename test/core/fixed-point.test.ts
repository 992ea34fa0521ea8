import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildTanhTable,
  cellToQ12,
  roundHalfUp,
  roundShift,
  saturate,
  saturateInt16,
  saturateInt8,
  sigmoidQ15,
  tanhQ15,
  TABLE_ENTRIES,
  SIGMOID_TABLE_ERROR_LSB,
  TANH_TABLE_ERROR_LSB,
} from '../../core/fixed-point.ts';

const tanhTable = buildTanhTable();

describe('roundShift (round half up)', () => {
  it('equals floor((v + 2^(s-1)) / 2^s) computed in BigInt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 }), fc.integer({ min: -(2 ** 30), max: 2 ** 30 - 1 }), (s, v) => {
        fc.pre(Math.abs(v) + 2 ** (s - 1) < 2 ** 31);
        const big = BigInt(v) + (1n << BigInt(s - 1));
        // BigInt division truncates toward zero; make it a floor.
        const q = big / (1n << BigInt(s));
        const floor = big < 0n && q * (1n << BigInt(s)) !== big ? q - 1n : q;
        expect(roundShift(v, s)).toBe(Number(floor));
      }),
    );
  });

  it('rounds halves up, also for negative values', () => {
    expect(roundShift(3, 1)).toBe(2); // 1.5 -> 2
    expect(roundShift(-3, 1)).toBe(-1); // -1.5 -> -1
    expect(roundShift(-5, 2)).toBe(-1); // -1.25 -> -1
    expect(roundShift(6, 2)).toBe(2); // 1.5 -> 2
    expect(roundShift(-6, 2)).toBe(-1); // -1.5 -> -1
  });

  it('refuses operands at or past 2^31 and shifts outside 1..31', () => {
    expect(() => roundShift(2 ** 31 - 1, 1)).toThrow(/contract/);
    expect(() => roundShift(-(2 ** 31), 4)).toThrow(/contract/);
    expect(() => roundShift(1, 0)).toThrow(/1..31/);
    expect(() => roundShift(1, 32)).toThrow(/1..31/);
    expect(() => roundShift(1.5, 3)).toThrow(/contract/);
  });

  it('roundHalfUp matches roundShift on exact halves', () => {
    for (let v = -40; v <= 40; v++) expect(roundHalfUp(v / 8)).toBe(roundShift(v, 3));
  });
});

describe('saturation', () => {
  it('clamps to the range and passes values inside it', () => {
    expect(saturate(5, -2, 3)).toBe(3);
    expect(saturate(-5, -2, 3)).toBe(-2);
    expect(saturate(1, -2, 3)).toBe(1);
    expect(saturateInt8(1000)).toBe(127);
    expect(saturateInt8(-129)).toBe(-128);
    expect(saturateInt16(32768)).toBe(32767);
    expect(saturateInt16(-40000)).toBe(-32768);
    expect(saturateInt16(-32768)).toBe(-32768);
  });
});

describe('activation table', () => {
  it('has the documented size, centre and end values', () => {
    expect(tanhTable.length).toBe(TABLE_ENTRIES);
    expect(tanhTable[1024]).toBe(Math.floor(32768 * Math.tanh(0.5 / 256) + 0.5)); // bucket [0, 2^-8)
    expect(tanhTable[2047]).toBe(Math.floor(32768 * Math.tanh(1023.5 / 256) + 0.5));
    expect(tanhTable[0]).toBe(-tanhTable[2047]);
  });

  it('is monotonic and odd (bucket midpoints are symmetric about 0)', () => {
    for (let j = 1; j < tanhTable.length; j++) expect(tanhTable[j]).toBeGreaterThanOrEqual(tanhTable[j - 1]);
    for (let j = 0; j < 1024; j++) expect(tanhTable[1024 + j]).toBe(-tanhTable[1023 - j]);
  });

  // Direct lookup: half a bucket times the largest slope, plus rounding (fixed-point.ts).
  it('sigmoid is within 33 LSB and tanh within 64.5 LSB of float over the whole Q3.12 int16 domain', () => {
    let worstSigmoid = 0;
    let worstTanh = 0;
    for (let x = -32768; x <= 32767; x++) {
      worstSigmoid = Math.max(worstSigmoid, Math.abs(sigmoidQ15(x, tanhTable) - 32768 / (1 + Math.exp(-x / 4096))));
      worstTanh = Math.max(worstTanh, Math.abs(tanhQ15(x, tanhTable) - 32768 * Math.tanh(x / 4096)));
    }
    expect(worstSigmoid).toBeLessThanOrEqual(SIGMOID_TABLE_ERROR_LSB);
    expect(worstTanh).toBeLessThanOrEqual(TANH_TABLE_ERROR_LSB);
  });

  it('reads the sigmoid as (1 + tanh(x/2)) / 2 from the same bucket', () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (x) => {
        expect(sigmoidQ15(x, tanhTable)).toBe((tanhQ15(Math.floor(x / 2), tanhTable) + 32768) >> 1);
      }),
    );
  });

  it('tanh saturates far outside the table; the sigmoid refuses arguments outside int16', () => {
    for (const x of [2 ** 14, 32768, 100000, 2 ** 30, 2 ** 31 - 1]) {
      expect(tanhQ15(x, tanhTable)).toBe(tanhTable[2047]);
      expect(tanhQ15(-x, tanhTable)).toBe(tanhTable[0]);
    }
    expect(sigmoidQ15(32767, tanhTable)).toBe((tanhTable[2047] + 32768) >> 1);
    expect(sigmoidQ15(-32768, tanhTable)).toBe((tanhTable[0] + 32768) >> 1);
    expect(() => sigmoidQ15(32768, tanhTable)).toThrow(/int16/);
    expect(() => tanhQ15(2 ** 31, tanhTable)).toThrow(/contract/);
  });
});

describe('cellToQ12', () => {
  it('rescales each cell format to Q3.12', () => {
    // 1.5 in Q(K).(15-K) for K = 0..12, except where it does not fit (K = 0: saturated value).
    for (let K = 1; K <= 12; K++) {
      const c = 1.5 * 2 ** (15 - K);
      expect(cellToQ12(c, K)).toBe(1.5 * 4096);
    }
    expect(cellToQ12(-3, 2)).toBe(-1); // -1.5 -> -1 (round half up)
    expect(cellToQ12(32767, 0)).toBe(4096); // 0.99997 in Q0.15 -> 1.0 in Q3.12
  });
});
