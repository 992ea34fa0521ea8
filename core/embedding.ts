/**
 * Embedding input on the host (NUMERICS.md §3a): token windows
 * ([n][window] ids, padded with token 0) as the vectors the recurrent layers
 * read, float (table rows) or int8 (quantized table rows), with the steps a
 * padding token leaves out.
 */
import { PADDING_TOKEN, tokenId, type FloatEmbedding, type QuantEmbedding } from './model.ts';

export interface EmbeddedWindows<T extends Float32Array | Int8Array> {
  /** [n][window][dim]: the table row of each step's token (zeros for padding). */
  x: T;
  /** [n][window]: 1 where the step is padding (the model does not step on it). */
  padding: Uint8Array;
}

function embed<T extends Float32Array | Int8Array>(
  e: { vocabularySize: number; dim: number; unknownToken: number },
  table: T,
  ids: ArrayLike<number>,
  make: (n: number) => T,
): EmbeddedWindows<T> {
  const D = e.dim;
  const x = make(ids.length * D);
  const padding = new Uint8Array(ids.length);
  for (let s = 0; s < ids.length; s++) {
    if (ids[s] === PADDING_TOKEN) {
      padding[s] = 1;
      continue;
    }
    const id = tokenId(ids[s], e);
    x.set(table.subarray(id * D, (id + 1) * D), s * D);
  }
  return { x, padding };
}

/** Float rows of every step of token windows. */
export function embedWindows(e: FloatEmbedding, ids: ArrayLike<number>): EmbeddedWindows<Float32Array> {
  return embed(e, e.table, ids, (n) => new Float32Array(n));
}

/** Int8 rows of every step of token windows, as the device looks them up. */
export function embedWindowsQ(e: QuantEmbedding, ids: ArrayLike<number>): EmbeddedWindows<Int8Array> {
  return embed(e, e.tableQ, ids, (n) => new Int8Array(n));
}

/**
 * The steps of window `n` the model runs on, as a contiguous [steps][width]
 * copy: every step, or only those that are not padding.
 */
export function windowSteps<T extends Float32Array | Int8Array>(
  x: T,
  padding: Uint8Array | undefined,
  n: number,
  window: number,
  width: number,
): { x: T; steps: number } {
  const whole = x.subarray(n * window * width, (n + 1) * window * width) as T;
  if (!padding) return { x: whole, steps: window };
  const out = new (x.constructor as new (n: number) => T)(window * width);
  let steps = 0;
  for (let t = 0; t < window; t++) {
    if (padding[n * window + t]) continue;
    out.set(whole.subarray(t * width, (t + 1) * width), steps * width);
    steps++;
  }
  return { x: out.subarray(0, steps * width) as T, steps };
}
