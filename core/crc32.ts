/** Checksums of Espruino Storage files (E.CRC32 on the board). */
/** CRC-32 (IEEE 802.3, reflected, init and final xor 0xFFFFFFFF), unsigned (compare E.CRC32(s) >>> 0 on the board). */
export function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) {
    c ^= bytes[i]!;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ -1) >>> 0;
}
