/**
 * The Storage name of an app's flash weights, one per model: a fixed prefix
 * and the CRC-32 of the file's bytes in hex (`lstm-w-1a2b3c4d.bin`, 19 of
 * Espruino's 28 characters). The app has the name compiled in, so `flash` can
 * write a new model's weights beside the ones the running app reads, and the
 * old app keeps working until the new one is saved; the same weights get the
 * same name, so they are not written twice. The CRC-32 is the model-data
 * checksum verify() reports (modelDataCrc32 of a flash module).
 */
import { crc32 } from '../core/crc32.ts';

/** What every per-model weights file's name starts with. */
export const WEIGHTS_FILE_PREFIX = 'lstm-w-';

/**
 * A per-model weights file's name: the prefix, 8 lowercase hex digits, `.bin`. Also sent to the
 * board (Storage.list), whose RegExp has no {n} quantifier (2v29: it matches nothing): spelled out.
 */
export const WEIGHTS_FILE_PATTERN = new RegExp(`^${WEIGHTS_FILE_PREFIX}${'[0-9a-f]'.repeat(8)}\\.bin$`);

export function weightsFileName(bytes: Uint8Array): string {
  return `${WEIGHTS_FILE_PREFIX}${crc32(bytes).toString(16).padStart(8, '0')}.bin`;
}
