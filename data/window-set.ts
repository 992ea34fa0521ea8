/**
 * A set of input windows, [count][window][features] normalized, read one
 * window at a time as a view. Windows cut from a series share its rows: the
 * set is an index (each window's last row) over one normalized copy of the
 * rows, so memory grows with rows × features, not × window.
 */
export interface Windows {
  readonly count: number;
  /** Values per window: window × features. */
  readonly size: number;
  /** Window k's values, [window][features]: a view, not a copy (do not write to it). */
  at(k: number): Float32Array;
}

/**
 * Windows over rows ([rows][features]): window k is the `window` rows ending
 * at row endRows[k].
 */
export function rowWindows(rows: Float32Array, endRows: Uint32Array, window: number, features: number): Windows {
  return {
    count: endRows.length,
    size: window * features,
    at: (k) => rows.subarray((endRows[k]! - window + 1) * features, (endRows[k]! + 1) * features),
  };
}

/** Windows stored one after another ([count][size]): images, texts, random test windows. */
export function denseWindows(x: Float32Array, size: number, count = Math.floor(x.length / size)): Windows {
  if (count * size > x.length) throw new Error(`denseWindows: ${count} windows of ${size} need ${count * size} values, got ${x.length}`);
  return { count, size, at: (k) => x.subarray(k * size, (k + 1) * size) };
}

/** The windows `indices` of `w` as one [indices.length][size] array (a copy). */
export function gatherWindows(w: Windows, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * w.size);
  for (let k = 0; k < indices.length; k++) out.set(w.at(indices[k]!), k * w.size);
  return out;
}

/** Windows [from, from + count) of `w` as one array (a copy). */
export function windowRange(w: Windows, from: number, count: number): Float32Array {
  return gatherWindows(
    w,
    Array.from({ length: count }, (_, k) => from + k),
  );
}

/** The windows `indices` of `w`, as a set of their own (no copy). */
export function pickWindows(w: Windows, indices: ArrayLike<number>): Windows {
  return { count: indices.length, size: w.size, at: (k) => w.at(indices[k]!) };
}

/** At most `max` windows of `w`, evenly spaced from the first (all of them when there are no more than `max`). */
export function evenlySpaced(w: Windows, max: number): Windows {
  if (w.count <= max) return w;
  return pickWindows(
    w,
    Array.from({ length: max }, (_, j) => Math.floor((j * w.count) / max)),
  );
}
