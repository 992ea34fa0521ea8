/**
 * The names of one layer's arrays in the generated module (declared by
 * emit-module.ts / emit-window.ts) and the locals the step reads them through.
 */

/** Names of one layer's arrays in the generated file. */
export interface LayerNames {
  W: string;
  RU: string;
  BM: string;
  M: string;
  P: string;
  RBM: string;
  V: string;
  H: string;
  HN: string;
  C: string;
  G: string;
  VR: string;
  XV: string;
  RW: string;
  RWX: string;
  RWH: string;
  /** A clockwork layer's step counter t (a number, not an array). */
  CK: string;
  /** A depth-gated layer's: the cell state of the layer below (its C), set by the stack. */
  CB?: string;
}

/** The names of one direction's arrays: W, V, H, ... followed by `suffix` ('' for a single-layer streaming model). */
export function layerNames(suffix: string): LayerNames {
  const s = suffix;
  const names = ['W', 'RU', 'BM', 'M', 'P', 'RBM', 'V', 'H', 'HN', 'C', 'G', 'VR', 'XV', 'RW', 'RWX', 'RWH', 'CK'] as const;
  return Object.fromEntries(names.map((n) => [n, n + s])) as unknown as LayerNames;
}

/** The locals the step reads a layer's arrays through (declared by stepQ, set by emitCellStep). */
export const LOCAL: LayerNames = {
  W: 'wq',
  RU: 'ru',
  BM: 'bm',
  M: 'm',
  P: 'pp',
  RBM: 'rbm',
  V: 'v',
  H: 'hh',
  HN: 'hn',
  C: 'cc',
  G: 'g',
  VR: 'vr',
  XV: 'xv',
  RW: 'rw',
  RWX: 'rwx',
  RWH: 'rwh',
  // the counter is read and written where it is declared: the step has no local copy of it
  CK: 'CK',
  CB: 'cb',
};
