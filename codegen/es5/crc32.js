function checksum() {
  var A = ARRAYS, T = new Int32Array(256), crc = -1, c, n, k, a, u, i;
  // T[n] = CRC-32 of byte n; -306674912 is the reflected polynomial 0xEDB88320 as an int32
  for (n = 0; n < 256; n++) {
    c = n;
    for (k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ -306674912 : c >>> 1;
    T[n] = c;
  }
  for (a = 0; a < A.length; a++) {
    u = new Uint8Array(A[a].buffer, A[a].byteOffset, A[a].byteLength);
    for (i = 0; i < u.length; i++) crc = T[(crc ^ u[i]) & 255] ^ (crc >>> 8);
  }
  return (crc ^ -1) >>> 0;
}
