/**
 * The value a generated module's checksum() returns on a device that holds
 * the model intact: CRC-32 (IEEE, as zlib and Espruino's E.CRC32) of its
 * constant data. Weights in RAM: the little-endian bytes of constantArrays
 * then affineArrays, in file order; a module holding the native context (on
 * either path): the context's constant regions, then the embedding table and
 * affineArrays (the arrays the context holds are left out); weights in flash:
 * the Storage file.
 */
import type { QuantizedModel } from '../core/model.ts';
import { crc32 } from '../core/crc32.ts';
import { affineArrays, constantArrays } from './module-data.ts';
import { flashWeights, type EmitOptions } from './emit-module.ts';
import { DEFAULT_NATIVE, nativeConstantRegions, nativeModule } from './emit-native.ts';

export function modelDataCrc32(q: QuantizedModel, options: EmitOptions): number {
  if (options.flash) return crc32(flashWeights(q, options).bytes);
  const native = nativeModule(q, options.target, options.native ?? DEFAULT_NATIVE, false);
  const bytesOf = (a: { values: ArrayBufferView }) => new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength);
  const arrays =
    native.kind === 'native'
      ? [
          ...nativeConstantRegions(native.plan).map(([off, length]) => native.bytes.subarray(off, off + length)),
          ...[...constantArrays(q).filter((a) => a.name === 'EMB'), ...affineArrays(q)].map(bytesOf),
        ]
      : [...constantArrays(q), ...affineArrays(q)].map(bytesOf);
  const all = new Uint8Array(arrays.reduce((s, a) => s + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    all.set(a, at);
    at += a.length;
  }
  return crc32(all);
}
