/**
 * Kernels the TensorFlow.js WebAssembly backend lacks (v4.22) and training
 * needs, registered once when the backend loads.
 *
 * UnsortedSegmentSum: the gradient of a gather, i.e. of an Embedding layer's
 * lookup. For segment ids s (shape S, a prefix of x's shape) and x:
 *   out[k, ...] = Σ_{i : s[i] = k} x[i, ...],   k in [0, numSegments)
 * (ids outside that range add nothing, as in tf.unsortedSegmentSum).
 */
import type { Tf } from './backend.ts';

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
interface WasmBackendApi {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string, memoryOffset?: number, values?: Float32Array | Int32Array): TensorInfo;
}

export function registerWasmKernels(tf: Tf): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as unknown as { x: TensorInfo; segmentIds: TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as WasmBackendApi;
      const values = b.readSync(x.dataId);
      const ids = b.readSync(segmentIds.dataId);
      const inner = ids.length === 0 ? 0 : values.length / ids.length;
      const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      for (let i = 0; i < ids.length; i++) {
        const k = ids[i]!;
        if (k < 0 || k >= numSegments) continue;
        for (let j = 0; j < inner; j++) out[k * inner + j] += values[i * inner + j]!;
      }
      return b.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype, undefined, out) as never;
    },
  });
}
