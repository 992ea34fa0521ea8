/**
 * A Float64Array for the Bangle.js 2 emulator, whose own does not hold a double.
 *
 * Measured on the emulator (Espruino 2v29.74 compiled to WebAssembly): storing 1/3 writes the
 * double's high 32 bits into bytes 0-3 and unrelated bytes into 4-7, and reading takes bytes 0-3
 * as the high word, so a value read back is near but not equal to the value stored
 * (0.33333325387 for 1/3), and IEEE-754 bytes viewed as a Float64Array read as another number
 * entirely (the bytes of 1/3 read as 1.19e+103). DataView's getFloat64 / setFloat64 do the same.
 * The generated model keeps its affine coefficients as IEEE bytes viewed as Float64Arrays, so
 * step(x) on real readings gives nonsense there. The Linux Espruino build keeps doubles exactly.
 *
 * This stand-in, typed into the emulator before a program, makes `new Float64Array(...)` a plain
 * Array of numbers: zeros for a length, the values of an array, or IEEE-754 little-endian bytes
 * read exactly from an ArrayBuffer (view offset and length as the real one takes them). It does
 * not convert what is stored into it later (a numeric string stays a string, undefined stays undefined).
 * Read from bytes, it keeps them as its buffer, byteOffset and byteLength (the model's checksum()
 * reads them), but what is stored into it does not reach them. Everything else runs on the
 * firmware's own code.
 */

/** ES5 that replaces the global Float64Array (see above). */
export const FLOAT64_STANDIN_ES5 = `Float64Array = (function () {
  var P20 = 1048576, P32 = 4294967296;
  // the double whose little-endian IEEE-754 bytes are b[at..at+7], by exact integer steps
  function fromBytes(b, at) {
    var hi = ((b[at + 7] * 256 + b[at + 6]) * 256 + b[at + 5]) * 256 + b[at + 4];
    var lo = ((b[at + 3] * 256 + b[at + 2]) * 256 + b[at + 1]) * 256 + b[at];
    var neg = hi >= 2147483648, e, m;
    if (neg) hi -= 2147483648;
    e = Math.floor(hi / P20);
    m = (hi - e * P20) * P32 + lo;
    if (e === 2047) return m ? 0 / 0 : neg ? -1 / 0 : 1 / 0;
    // normal: (2^52 + m) * 2^(e - 1075); subnormal (e = 0): m * 2^-1074
    if (e === 0) e = 1; else m += P20 * P32;
    for (e -= 1075; e > 0; e--) m *= 2;
    for (; e < 0; e++) m /= 2;
    return neg ? m / -1 : m;
  }
  return function (a, offset, length) {
    var r = [], i, b;
    if (typeof a === "number") { for (i = 0; i < a; i++) r.push(0); return r; }
    if (a instanceof ArrayBuffer) {
      // an ArrayBuffer: view its bytes from offset, length doubles (by default, to its end)
      offset = offset || 0;
      if (length === undefined) length = (a.byteLength - offset) / 8;
      b = new Uint8Array(a, offset, length * 8);
      for (i = 0; i < length; i++) r.push(fromBytes(b, 8 * i));
      // the bytes it was read from, as a view's (checksum() reads them); stores do not reach them
      r.buffer = a; r.byteOffset = offset; r.byteLength = length * 8;
      return r;
    }
    for (i = 0; i < a.length; i++) r.push(+a[i]);
    return r;
  };
})();
`;
