/**
 * The native context (native/context.ts, docs/NUMERICS.md "The native context"):
 * its word indices are those of native/context.h, its regions are 4-byte aligned
 * and disjoint, the weight rows are padded as the kernel reads them, and what the
 * kernel cannot run yet is refused in one line.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import {
  H,
  L,
  NATIVE_CELL,
  NATIVE_MAGIC,
  HEADER_WORDS,
  LAYER_WORDS,
  buildNativeContext,
  nativeUnsupported,
  pad4,
  paddedRows,
  planNativeContext,
} from '../../native/context.ts';
import { NATIVE_DIR } from '../../native/toolchain.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { CELL_KINDS, gateCount, readsCellBelow } from '../../core/model.ts';

/** NAME = value pairs of the C header's enums and defines. */
function headerConstants(): Map<string, number> {
  const text = fs.readFileSync(path.join(NATIVE_DIR, 'context.h'), 'utf8');
  const found = new Map<string, number>();
  for (const m of text.matchAll(/\b([A-Z][A-Z0-9_]*)\s*=\s*(-?\d+)/g)) found.set(m[1], Number(m[2]));
  for (const m of text.matchAll(/#define\s+([A-Z_]+)\s+(0x[0-9A-Fa-f]+)/g)) found.set(m[1], Number(m[2]));
  return found;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

describe('native context', () => {
  it('has the word indices, cell numbers and magic of native/context.h', () => {
    const c = headerConstants();
    expect(c.get('LMK_MAGIC')).toBe(NATIVE_MAGIC);
    expect(c.get('HEADER_WORDS')).toBe(HEADER_WORDS);
    expect(c.get('LAYER_WORDS')).toBe(LAYER_WORDS);
    for (const [name, index] of Object.entries(H)) expect(c.get(`H_${snake(name)}`), name).toBe(index);
    for (const [name, index] of Object.entries(L)) expect(c.get(`L_${snake(name)}`), name).toBe(index);
    for (const kind of CELL_KINDS) expect(c.get(`CELL_${snake(kind).replace(/-/g, '_')}`), kind).toBe(NATIVE_CELL[kind]);
    // a kind the kernel has no step for is refused in one line, and runs the JavaScript step (a depth-gated
    // stack has its own line: test/native/parity.test.ts)
    for (const kind of CELL_KINDS.filter((k) => NATIVE_CELL[k] === undefined && !readsCellBelow(k)))
      expect(nativeUnsupported(randomQuantizedModel({ seed: 1, inputSize: 2, units: 4, cell: kind }))).toBe(
        `${kind} layers run in JavaScript: the kernel has no step for them`,
      );
  });

  it('lays out disjoint regions, aligned but for the packed state; the state block holds x, every h, y, every c and gate', () => {
    const q = randomQuantizedModel({
      seed: 4,
      inputSize: 3,
      units: 5,
      outputSize: 2,
      cell: 'peephole',
      stacked: [{ cell: 'gru-reset-after', units: 6 }],
    });
    const plan = planNativeContext(q);
    const regions: [string, number, number][] = [
      ['x', plan.inputOff, 3],
      ['y', plan.outputOff, 8],
      ['scratch', plan.scratchOff, 2 * 12],
    ];
    plan.layers.forEach((p, l) => {
      const rows = gateCount(p.layer.cell) * p.layer.units;
      regions.push(
        [`h${l}`, p.hOff, p.layer.units],
        [`gates${l}`, p.gatesOff, 2 * rows],
        [`weights${l}`, p.weightsOff, paddedRows(p.layer) * (pad4(p.layer.inputSize) + pad4(p.layer.units))],
        [`rowScale${l}`, p.rowScaleOff, 8 * paddedRows(p.layer)],
      );
      if (p.cellOff) regions.push([`c${l}`, p.cellOff, 2 * p.layer.units]);
      if (p.peepOff) regions.push([`peep${l}`, p.peepOff, 12 * p.layer.units]);
      if (p.recBiasOff) regions.push([`recBias${l}`, p.recBiasOff, 4 * p.layer.units]);
    });
    expect(plan.layers[0].cellOff).toBeGreaterThan(0);
    expect(plan.layers[1].recBiasOff).toBeGreaterThan(0);
    regions.sort((a, b) => a[1] - b[1]);
    // h, c and gates of the layers above the first follow the layer below's with no padding (one view each)
    const [p0, p1] = plan.layers;
    expect(p1.hOff - p0.hOff).toBe(5);
    expect(p1.gatesOff - p0.gatesOff).toBe(2 * 4 * 5);
    expect(p1.cellOff).toBe(0);
    regions.forEach(([name, off, bytes], i) => {
      if (!['h1', 'gates1'].includes(name)) expect(off % 4, name).toBe(0);
      expect(off, name).toBeGreaterThanOrEqual(4 * (HEADER_WORDS + 2 * LAYER_WORDS));
      if (i + 1 < regions.length) expect(off + bytes, `${name} overlaps ${regions[i + 1][0]}`).toBeLessThanOrEqual(regions[i + 1][1]);
      expect(off + bytes).toBeLessThanOrEqual(plan.totalBytes);
    });
    const state = ['x', 'y', 'h0', 'h1', 'c0', 'gates0', 'gates1'];
    for (const [name, off, bytes] of regions.filter((r) => state.includes(r[0]))) {
      expect(off, name).toBeGreaterThanOrEqual(plan.stateOff);
      expect(off + bytes, name).toBeLessThanOrEqual(plan.stateOff + plan.stateBytes);
    }
  });

  it('pads each gate to U4 rows and each row as [x | 0.. | h | 0..], interleaves groups of 4 rows word by word, folds the bias', () => {
    const q = randomQuantizedModel({ seed: 9, inputSize: 3, units: 5, cell: 'lstm' });
    const { plan, bytes } = buildNativeContext(q);
    const view = new DataView(bytes.buffer);
    const [p] = plan.layers;
    const layer = q.layers[0];
    // I4 = 4, U4 = 8: a row is 3 words (12 bytes); a group of 4 rows is 48 bytes, word k of its row j at 16k + 4j.
    const paddedRow = (padded: number) => {
      const group = p.weightsOff + 48 * (padded >> 2);
      return Array.from({ length: 12 }, (_, i) => view.getInt8(group + 16 * (i >> 2) + 4 * (padded & 3) + (i & 3)));
    };
    for (const r of [0, 4, 7, 19]) {
      const padded = 8 * Math.floor(r / 5) + (r % 5);
      const w = layer.weightsQ.subarray(r * 8, (r + 1) * 8);
      expect(paddedRow(padded), `row ${r}`).toEqual([...w.subarray(0, 3), 0, ...w.subarray(3), 0, 0, 0]);
      expect(view.getInt32(p.rowScaleOff + 8 * padded, true)).toBe(layer.gateMultiplier[r]);
      expect(view.getInt32(p.rowScaleOff + 8 * padded + 4, true)).toBe(
        layer.biasQ[r] * layer.gateMultiplier[r] + 2 ** (layer.gateShift - 1),
      );
    }
    // the padding rows of each gate (units 5..7) are zeros
    for (const padded of [5, 6, 7, 29, 31])
      expect(
        paddedRow(padded).every((b) => b === 0),
        `padded row ${padded}`,
      ).toBe(true);
    expect(paddedRows(layer)).toBe(32);
    expect(view.getInt32(0, true)).toBe(NATIVE_MAGIC);
    expect(view.getInt32(4 * HEADER_WORDS + 4 * L.cell, true)).toBe(NATIVE_CELL.lstm);
    expect(view.getInt16(plan.tableOff + 2 * 1500, true)).toBe(q.tables.tanhQ15[1500]);
  });

  it('refuses window models in one line', () => {
    const q = randomQuantizedModel({ seed: 2, inputSize: 2, units: 3, bidirectional: 'concat' });
    expect(() => buildNativeContext(q)).toThrow(/^native context: window models .* streaming step only$/);
    expect(() => buildNativeContext({ ...randomQuantizedModel({ seed: 2, inputSize: 2, units: 3 }), deployment: 'window' })).toThrow(
      /window models/,
    );
  });
});
