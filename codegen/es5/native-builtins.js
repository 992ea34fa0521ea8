var native = typeof E !== "undefined" && typeof E.convolve === "function";
// conv(a, b, o) = Σ_i a[i] b[i + o] over a's length: E.convolve on Espruino, the same integer sum elsewhere
var conv = native ? E.convolve : function (a, b, o) { var s = 0, i; o = o || 0; for (i = 0; i < a.length; i++) s += a[i] * b[i + o]; return s; };
// clip(x, lo, hi) = min(max(x, lo), hi): E.clip on Espruino (one native call), the same comparisons elsewhere
var clip = native && typeof E.clip === "function" ? E.clip : function (x, lo, hi) { return x < lo ? lo : x > hi ? hi : x; };
