/**
 * The value a generated module's checksum() returns on a device that holds
 * the model intact: CRC-32 (IEEE, as zlib and Espruino's E.CRC32) of its
 * constant data. Weights in RAM: the little-endian bytes of constantArrays
 * then affineArrays, in file order; weights in flash: the Storage file.
 */
import type { QuantizedModel } from '../core/model.ts';
import { crc32 } from '../core/crc32.ts';
import { affineArrays, constantArrays } from './module-data.ts';
import { flashWeights, type EmitOptions } from './emit-module.ts';

export function modelDataCrc32(q: QuantizedModel, options: EmitOptions): number {
  if (options.flash) return crc32(flashWeights(q, options).bytes);
  const arrays = [...constantArrays(q), ...affineArrays(q)].map(
    (a) => new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength),
  );
  const all = new Uint8Array(arrays.reduce((s, a) => s + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    all.set(a, at);
    at += a.length;
  }
  return crc32(all);
}
