/**
 * Golden vectors: a quantized model, its int8 input segments and the trace
 * the integer contract gives for them, stored as JSON with how they were
 * produced. They pin docs/NUMERICS.md: a change of any formula changes them.
 */
import type { QuantizedModel } from '../../core/model.ts';
import type { TraceStep } from '../../parity/trace.ts';

export interface GoldenFile {
  producedBy: string;
  model: Record<string, unknown>;
  segments: number[][][];
  trace: TraceStep[];
}

const TYPED: Record<string, 'i8' | 'i16' | 'i32'> = {
  'layers.weightsQ': 'i8',
  'layers.biasQ': 'i32',
  'layers.gateMultiplier': 'i32',
  'layers.peepholeMultiplier': 'i32',
  'layers.recurrentBiasQ': 'i32',
  'head.weightsQ': 'i8',
  'head.biasQ': 'i32',
  'tables.tanhQ15': 'i16',
  'embedding.tableQ': 'i8',
};

export function modelToJson(q: QuantizedModel): Record<string, unknown> {
  return JSON.parse(JSON.stringify(q, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int8Array) : v)));
}

/** Fields added after the first golden files were written; absent means "this cell has none". */
const ADDED_DEFAULTS: Record<string, unknown> = { peepholeMultiplier: [], peepholeShift: 0, recurrentBiasQ: [] };

export function modelFromJson(json: Record<string, unknown>): QuantizedModel {
  const q = structuredClone(json) as Record<string, Record<string, unknown>>;
  // Files written before stacked layers hold the one layer in `recurrent`.
  const withDefaults = (l: Record<string, unknown>): Record<string, unknown> => ({
    ...ADDED_DEFAULTS,
    ...l,
    ...(l.backward ? { backward: withDefaults(l.backward as Record<string, unknown>) } : {}),
  });
  const layers = ((q.layers as unknown as Record<string, unknown>[] | undefined) ?? [q.recurrent]).map(withDefaults);
  // Every direction of every layer (a bidirectional layer's backward one too).
  const directions = layers.flatMap((l) => [l, ...(l.backward ? [l.backward as Record<string, unknown>] : [])]);
  delete q.recurrent;
  const typed = (values: number[], kind: 'i8' | 'i16' | 'i32') =>
    kind === 'i8' ? Int8Array.from(values) : kind === 'i16' ? Int16Array.from(values) : Int32Array.from(values);
  for (const [path, kind] of Object.entries(TYPED)) {
    const [a, b] = path.split('.');
    if (a === 'layers') for (const l of directions) l[b] = typed(l[b] as number[], kind);
    else if (q[a]) q[a][b] = typed(q[a][b] as number[], kind);
  }
  return { ...q, layers } as unknown as QuantizedModel;
}
