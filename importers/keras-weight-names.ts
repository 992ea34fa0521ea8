/**
 * Which entry of a layers model's weights manifest holds a Keras layer's
 * weight, found the way TensorFlow.js' own loader finds it
 * (LayersModel.loadWeights in tfjs-layers 4.22):
 *
 * - `layer/weight`, as TensorFlow.js saves a model (any scope before it);
 * - `layer/cell/weight`, as Keras >= 2.2 names a recurrent layer's weights
 *   (`lstm/lstm_cell/kernel`, `bidirectional/forward_lstm/lstm_cell/kernel`)
 *   and the converter keeps them: the part before the weight name is dropped;
 * - Keras 3 names (the manifest's first name ends in a number): a weight is
 *   `layer/index`, its index among the layer's weights (a Bidirectional's
 *   backward half counts on from its forward half), after the folders
 *   `vars` and `layer_checkpoint_dependencies` and leading underscores are
 *   dropped: `layers/gru/cell/vars/0` is the GRU's kernel.
 */

export interface ManifestWeight {
  shape: number[];
  data: Float32Array;
}

/** A Keras 3 name as tfjs-layers reads it: no `vars` or `layer_checkpoint_dependencies` folders, no leading underscores. */
function keras3Name(name: string): string {
  return name
    .split('/')
    .map((part) => (part.startsWith('_') ? part.slice(1) : part))
    .filter((part) => part !== 'vars' && part !== 'layer_checkpoint_dependencies')
    .join('/');
}

/** `layer/cell/weight` -> `layer/weight`: the inner cell name Keras >= 2.2 adds, dropped. */
function withoutCell(name: string): string {
  const parts = name.split('/');
  return parts.length < 3 ? name : [...parts.slice(0, -2), parts[parts.length - 1]].join('/');
}

/** Whether the manifest names weights by index (Keras 3), as tfjs-layers decides it: by its first name. */
export function namedByIndex(names: string[]): boolean {
  return names.length > 0 && /^\d+$/.test(names[0].split('/').pop()!);
}

/**
 * The finder of a manifest's weights: (layer, weight name, index among the
 * layer's weights) -> the weight, trying the name as written before the
 * name without its cell part.
 */
export function weightFinder(weights: Map<string, ManifestWeight>) {
  const names = [...weights.keys()];
  const byIndex = namedByIndex(names);
  const read = byIndex ? names.map(keras3Name) : names;
  const fits = (key: string, want: string) => key === want || key.endsWith(`/${want}`);
  return (layer: string, name: string, index: number): ManifestWeight | undefined => {
    const want = byIndex ? `${layer}/${index}` : `${layer}/${name}`;
    for (const form of [(k: string) => k, withoutCell]) {
      const at = read.findIndex((k) => fits(form(k), want));
      if (at >= 0) return weights.get(names[at]);
    }
    return undefined;
  };
}
