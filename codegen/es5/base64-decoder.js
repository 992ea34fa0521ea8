// base64 text (one string, or chunks of at most CHUNK characters) -> ArrayBuffer
function buf(s) {
  var parts = typeof s === "string" ? [s] : s;
  // NATIVE
  var A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var last = parts[parts.length - 1], total = 0, p, c, n, i, j = 0, v;
  for (p = 0; p < parts.length; p++) total += parts[p].length;
  var pad = last.charAt(last.length - 1) === "=" ? (last.charAt(last.length - 2) === "=" ? 2 : 1) : 0;
  var out = new Uint8Array((total >> 2) * 3 - pad), len = out.length;
  for (p = 0; p < parts.length; p++) {
    c = parts[p]; n = c.length;
    for (i = 0; i < n; i += 4) {
      v = (A.indexOf(c.charAt(i)) << 18) | (A.indexOf(c.charAt(i + 1)) << 12) |
        ((A.indexOf(c.charAt(i + 2)) & 63) << 6) | (A.indexOf(c.charAt(i + 3)) & 63);
      out[j++] = (v >> 16) & 255;
      if (j < len) out[j++] = (v >> 8) & 255;
      if (j < len) out[j++] = v & 255;
    }
  }
  return out.buffer;
}
