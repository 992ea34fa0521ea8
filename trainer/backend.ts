/**
 * Picks the TensorFlow.js backend. 'auto' prefers the native binding
 * (@tensorflow/tfjs-node, not a dependency: used only if the user installed
 * it), else WebAssembly. The plain-JS 'cpu' backend is used only when asked
 * for: it is far slower and a silent fallback would hide that.
 *
 * Safe to call many times in one process: the result is cached per request,
 * concurrent calls share one initialization.
 *
 * TensorFlow.js is imported on the first initialization, not with this module:
 * loading it takes half a second, which a command that trains nothing (or
 * `--help`) should not pay.
 */
import { UserError } from '../core/errors.ts';
import { registerWasmKernels } from './wasm-kernels.ts';

export type Tf = typeof import('@tensorflow/tfjs');
export type BackendPref = 'auto' | 'node' | 'wasm' | 'cpu';
export interface TfBackend {
  tf: Tf;
  /** tfjs backend name: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  backend: string;
}

const NODE_PACKAGE = '@tensorflow/tfjs-node';

let nodeTf: Promise<Tf | undefined> | undefined;
let jsTf: Promise<Tf> | undefined;
let wasmLoaded: Promise<void> | undefined;
let current: TfBackend | undefined;
/** Serializes initializations so concurrent callers do not race on setBackend. */
let queue: Promise<unknown> = Promise.resolve();

/** Loads tfjs-node once; undefined if it is not installed or fails to load. */
function loadNode(): Promise<Tf | undefined> {
  nodeTf ??= (async () => {
    try {
      const specifier: string = NODE_PACKAGE; // not a dependency: keep the import dynamic and untyped
      const mod = (await import(specifier)) as { default?: Tf } & Partial<Tf>;
      const tf = (mod.default && typeof mod.default.setBackend === 'function' ? mod.default : mod) as Tf;
      if (typeof tf.setBackend !== 'function' || typeof tf.layers?.lstm !== 'function') return undefined;
      return tf;
    } catch {
      return undefined;
    }
  })();
  return nodeTf;
}

/** TensorFlow.js itself (the wasm and cpu backends), loaded once. */
function loadJs(): Promise<Tf> {
  jsTf ??= import('@tensorflow/tfjs');
  return jsTf;
}

function loadWasm(): Promise<void> {
  wasmLoaded ??= loadJs().then(async (tfjs) => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmKernels(tfjs);
  });
  return wasmLoaded;
}

async function activate(tf: Tf, name: string): Promise<TfBackend> {
  if (tf.getBackend() !== name || current?.tf !== tf) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new UserError(`could not initialize the TensorFlow.js '${name}' backend`);
  }
  await tf.ready();
  current = { tf, backend: tf.getBackend() };
  return current;
}

async function init(pref: BackendPref): Promise<TfBackend> {
  switch (pref) {
    case 'auto': {
      const node = await loadNode();
      if (node) return activate(node, 'tensorflow');
      await loadWasm();
      return activate(await loadJs(), 'wasm');
    }
    case 'node': {
      const node = await loadNode();
      if (!node) {
        throw new UserError(`backend 'node' needs ${NODE_PACKAGE}, which is not installed or failed to load (npm install ${NODE_PACKAGE})`);
      }
      return activate(node, 'tensorflow');
    }
    case 'wasm':
      await loadWasm();
      return activate(await loadJs(), 'wasm');
    case 'cpu':
      return activate(await loadJs(), 'cpu');
    default:
      throw new UserError(`unknown backend '${String(pref)}' (expected auto, node, wasm or cpu)`);
  }
}

export function initBackend(pref: BackendPref = 'auto'): Promise<TfBackend> {
  const run = queue.then(() => init(pref));
  queue = run.catch(() => undefined);
  return run;
}

/** The backend set by the last initBackend call, or 'auto' initialized now. */
export async function currentBackend(): Promise<TfBackend> {
  await queue;
  return current ?? initBackend('auto');
}
