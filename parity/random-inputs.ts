/**
 * Deterministic random int8 input segments for parity runs: uniform values
 * with a share of extremes (-128, 127) to drive gates and cells into saturation.
 */
import { mulberry32 } from '../core/prng.ts';

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
