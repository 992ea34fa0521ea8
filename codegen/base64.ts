/** Typed arrays as little-endian base64 text for generated code. */
export function toBase64LE(data: Int8Array | Int16Array | Int32Array | Float64Array): string {
  // Host byte order is little-endian on every platform Node supports; the
  // generated code checks the device's order before viewing these bytes.
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
