var conv = E.convolve; // conv(a, b, o) = Σ_i a[i] b[i + o] over a's length
var clip = E.clip; // clip(x, lo, hi) = min(max(x, lo), hi) in one call
