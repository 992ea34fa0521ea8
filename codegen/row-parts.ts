/**
 * Weights in RAM on Espruino: a matrix whose row views would start past byte
 * 65,535 of its buffer (no Espruino build accepts a larger typed-array
 * byteOffset) is decoded as parts of whole rows, each its own buffer, so every
 * row view starts within its part. The bytes, their order and the checksum are
 * those of the one array; only where they live changes.
 */
import { hasRecurrentBias } from '../core/model.ts';
import { toBase64LE } from './base64.ts';
import { MAX_BYTE_OFFSET } from './flash-weights.ts';
import type { DirectionPlan } from './emit-window.ts';

/** A row-major int8 matrix read through row views: its name, row width and the furthest a view starts inside a row. */
export interface RowMatrix {
  name: string;
  rows: number;
  width: number;
  /** The largest offset inside a row where a view starts (a reset-after GRU's h part: the input size). */
  innerStart: number;
}

/** The matrices the espruino target views row by row: each direction's gate weights, then the head. */
export function rowMatrices(plans: DirectionPlan[], headRows: number, headIn: number, gates: (p: DirectionPlan) => number): RowMatrix[] {
  return [
    ...plans.map((p) => ({
      name: p.n.W,
      rows: gates(p) * p.layer.units,
      width: p.layer.inputSize + p.layer.units,
      innerStart: hasRecurrentBias(p.layer.cell) ? p.layer.inputSize : 0,
    })),
    { name: 'D', rows: headRows, width: headIn, innerStart: 0 },
  ];
}

/**
 * Rows per part: the most rows R with (R - 1) * width + innerStart <= 65535, so the
 * last view of a part starts within the limit; undefined when one part holds them all.
 */
export function rowsPerPart(m: RowMatrix): number | undefined {
  if ((m.rows - 1) * m.width + m.innerStart <= MAX_BYTE_OFFSET) return undefined;
  return Math.floor((MAX_BYTE_OFFSET - m.innerStart) / m.width) + 1;
}

/** The parts' names, in row order: NAME_P0, NAME_P1, ... (their base64 is NAME_Pk_B64). */
export function partNames(m: RowMatrix, perPart: number): string[] {
  return Array.from({ length: Math.ceil(m.rows / perPart) }, (_, k) => `${m.name}_P${k}`);
}

/** The bytes of part k of a matrix held as `values`, as base64. */
export function partBase64(values: Int8Array, m: RowMatrix, perPart: number, k: number): string {
  return toBase64LE(values.subarray(k * perPart * m.width, Math.min(m.rows, (k + 1) * perPart) * m.width));
}

/**
 * A view of `length` bytes from `inner` into row `row` (code expressions), over the
 * one buffer or, parted, over the part holding the row: row r is row r % R of part r / R.
 */
export function rowView(m: RowMatrix, perPart: number | undefined, row: string, inner: string, length: number): string {
  const simple = /^\w+$/.test(row);
  const at = (r: string) => (inner === '0' ? `${r} * ${m.width}` : `${r} * ${m.width} + ${inner}`);
  if (perPart === undefined) return `new Int8Array(${m.name}.buffer, ${at(simple ? row : `(${row})`)}, ${length})`;
  const index = simple ? row : `(${row})`;
  return `new Int8Array(${m.name}[${index} / ${perPart} | 0].buffer, ${at(`(${index} % ${perPart})`)}, ${length})`;
}
