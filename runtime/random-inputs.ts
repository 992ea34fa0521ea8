/**
 * Deterministic random int8 input segments for parity runs: uniform values
 * with a share of extremes (-128, 127) to drive gates and cells into saturation.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomSegments(seed: number, inputSize: number, lengths: number[], extremeShare = 0.2): Int8Array[][] {
  const rnd = mulberry32(seed ^ 0x51ed270b);
  return lengths.map((len) =>
    Array.from({ length: len }, () =>
      Int8Array.from({ length: inputSize }, () => {
        const r = rnd();
        if (r < extremeShare / 2) return -128;
        if (r < extremeShare) return 127;
        return Math.floor(rnd() * 256) - 128;
      }),
    ),
  );
}
