/**
 * Weights in flash (espruino target, `codegen --weights flash`): every
 * constant array of the model in one Espruino Storage file, which the module
 * views in place (`require("Storage").read` gives a memory-mapped string on
 * the board; `E.toArrayBuffer` views it without a RAM copy).
 *
 * File layout: the arrays one after another in the order given, each at an
 * offset that is a multiple of 8 (so every typed-array view is aligned), little
 * endian, zero padding between them. The module checks the file's length
 * and CRC-32 (Espruino's E.CRC32: the IEEE / zlib polynomial) before
 * viewing it.
 */
import type { CodeBuilder } from './builder.ts';
import { crc32 } from '../core/crc32.ts';
import { commentText, jsString } from './js-text.ts';

export type ConstArray = Int8Array | Int16Array | Int32Array | Float64Array;

/** One array of the file; `view: false`: the module reads it otherwise (no typed-array view). */
export interface FlashArray {
  name: string;
  values: ConstArray | Uint8Array;
  view?: false;
}

export interface FlashEntry {
  name: string;
  type: 'Int8Array' | 'Int16Array' | 'Int32Array' | 'Float64Array' | 'Uint8Array';
  /** Byte offset in the file. */
  offset: number;
  /** Elements. */
  length: number;
  view: boolean;
}

export interface FlashLayout {
  bytes: Uint8Array;
  entries: FlashEntry[];
  crc32: number;
}

/**
 * Gate rows per E.convolve view with weights in flash. E.convolve(v, w, o)
 * skips o elements of w one by one, so a row read at its offset in the whole
 * matrix costs 2.2x the dot products (3x32 LSTM, Linux build of Espruino
 * 2v29: 2.75 ms vs 1.26 ms per step with one view per row), a group of 8 rows
 * 1.07x (1.35 ms), a group of 32 1.3x; one view per row would cost ~2 blocks
 * a row, a group of 8 a quarter block a row. `npm run bench:row-reads`
 * measures this again.
 */
export const ROW_GROUP = 8;

/** Longest Storage file name on Espruino (2v2x: 28 characters). */
export const STORAGE_NAME_MAX = 28;

const typeName = (a: ConstArray | Uint8Array): FlashEntry['type'] => a.constructor.name as FlashEntry['type'];

export function flashLayout(arrays: readonly FlashArray[]): FlashLayout {
  const entries: FlashEntry[] = [];
  let size = 0;
  for (const { name, values, view } of arrays) {
    entries.push({ name, type: typeName(values), offset: size, length: values.length, view: view !== false });
    size += Math.ceil(values.byteLength / 8) * 8;
  }
  const bytes = new Uint8Array(size);
  arrays.forEach(({ values }, k) => bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), entries[k]!.offset));
  return { bytes, entries, crc32: crc32(bytes) };
}

/**
 * The module's prologue in flash mode: check the Storage file, then one view
 * per array (the names of `layout.entries`) over the file's buffer WB; a
 * view's byteOffset must not exceed 65535 on Espruino, so an array further
 * in gets its own part of the file (`part(offset, bytes)`, a few blocks
 * more). `custom` may emit an entry's views itself (returns true when it did).
 */
export function emitFlashViews(
  b: CodeBuilder,
  layout: FlashLayout,
  file: string,
  writer: string,
  custom: (e: FlashEntry) => boolean,
): void {
  const n = layout.bytes.length;
  b.comment(
    `weights in the Storage file "${file}" (${n} bytes, CRC-32 ${layout.crc32}), written by ${writer}; viewed in place, no RAM copy`,
  );
  b.line(`var S = require("Storage"), WF = S.read(${jsString(file)}), r;`);
  b.line(
    `if (WF === undefined) throw new Error(${jsString(`lstm-mcu model: Storage file "${file}" is missing: upload ${writer} first`)});`,
  );
  b.block(`if (WF.length !== ${n} || (E.CRC32(WF) >>> 0) !== ${layout.crc32}) {`, () => {
    b.line(
      `throw new Error(${jsString(`lstm-mcu model: Storage file "${file}" does not hold this model's weights: upload ${writer} again`)});`,
    );
  });
  b.line('var WB = E.toArrayBuffer(WF);');
  if (n > MAX_BYTE_OFFSET) {
    b.block('function part(offset, bytes) {', () => b.line(`return E.toArrayBuffer(S.read(${jsString(file)}, offset, bytes));`));
  }
  for (const e of layout.entries) {
    if (!e.view || custom(e)) continue;
    b.line(`var ${e.name} = ${flashView(e.type, String(e.offset), String(e.length), e.offset)};`);
  }
}

/** Largest typed-array byteOffset Espruino accepts. */
export const MAX_BYTE_OFFSET = 65535;

/**
 * A view of `length` elements at byte `offset` of the file, as code (both may
 * be expressions): over WB, or over its own part of the file when the view
 * could start past the byteOffset limit (`lastOffset`: its largest offset).
 */
export function flashView(type: FlashEntry['type'], offset: string, length: string, lastOffset: number): string {
  if (lastOffset <= MAX_BYTE_OFFSET) return `new ${type}(WB, ${offset}, ${length})`;
  return `new ${type}(part(${offset}, ${BYTES[type] === 1 ? length : `(${length}) * ${BYTES[type]}`}))`;
}

const BYTES: Record<FlashEntry['type'], number> = { Int8Array: 1, Uint8Array: 1, Int16Array: 2, Int32Array: 4, Float64Array: 8 };

/** Base64 chunks written per Storage.write call by the writer program (whole base64 quads, 3 KiB of bytes). */
const WRITER_CHUNK = 4096;

/**
 * The program that writes the Storage file on the board (upload it once, or
 * after the weights change): base64 chunks written in place with
 * Storage.write(name, data, offset, size), then checked.
 */
export function emitWeightsWriter(layout: FlashLayout, file: string, header: string[]): string {
  const text = Buffer.from(layout.bytes).toString('base64');
  const n = layout.bytes.length;
  const name = jsString(file);
  const writes: string[] = [];
  // One statement per chunk (whole base64 quads: 3 bytes each): typed or uploaded line by line,
  // each chunk is written and freed before the next arrives, so the board never holds the whole text.
  for (let i = 0; i < text.length; i += WRITER_CHUNK)
    writes.push(`require("Storage").write(${name}, atob("${text.slice(i, i + WRITER_CHUNK)}"), ${(i / 4) * 3}${i === 0 ? `, ${n}` : ''});`);
  return [
    ...header.map((h) => `// ${commentText(h)}`),
    `// Writes the Storage file "${commentText(file)}" (${n} bytes, CRC-32 ${layout.crc32}) that the model module reads its weights from.`,
    '// Run it once on the board (e.g. upload it from the IDE); the module then needs no weight data in RAM.',
    `// One statement per ${(WRITER_CHUNK / 4) * 3}-byte chunk: the first creates the file at its full size, each writes its bytes at its offset.`,
    `require("Storage").erase(${name});`,
    ...writes,
    '(function () {',
    `  var f = require("Storage").read(${name});`,
    `  if (f === undefined || f.length !== ${n} || (E.CRC32(f) >>> 0) !== ${layout.crc32}) throw new Error(${jsString(`lstm-mcu: writing "${file}" failed (check the free Storage space)`)});`,
    `  print(${jsString(`lstm-mcu: wrote ${file} (${n} bytes)`)});`,
    '})();',
    '',
  ].join('\n');
}
