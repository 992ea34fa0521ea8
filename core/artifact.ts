/**
 * The model artifact file: encode / decode FloatModel and QuantizedModel with
 * the schema in `artifact.proto`, read them from disk, write them atomically.
 *
 * Every problem with a file becomes a one-line UserError naming the file, so
 * the CLI never prints a protobufjs stack trace. Decoded models are validated
 * (sizes consistent, numbers finite) so later stages can trust them.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import { UserError } from './errors.ts';
import { describeFsError, writeFileAtomic } from './write-atomic.ts';
import { checkOrThrow, Invalid, validateFloatModel, validateQuantizedModel } from './artifact-validation.ts';
import {
  hasRecurrentBias,
  hasClock,
  hasPeepholes,
  hasDepthGate,
  defaultHead,
  type CellKind,
  type HeadActivation,
  type SequencePattern,
  type MergeMode,
  type Readout,
  type FloatModel,
  type FloatRecurrentLayer,
  type QuantRecurrentLayer,
  type ModelHeader,
  type Normalization,
  type Provenance,
  type QuantizedModel,
  type TargetMode,
  type Task,
  type TensorRange,
  type Deployment,
} from './model.ts';

/** protobufjs, required on the first schema load: not with this module, so a command's start does not pay for it. */
const loadProtobuf = (): typeof protobuf => createRequire(import.meta.url)('protobufjs');

/** Version of artifact.proto written by this tool; newer files are refused. */
/**
 * Version 2: the recurrent layers are the repeated `layers` field (stacked
 * models). Version 1 files (one layer in `recurrent`) are still read.
 */
export const FORMAT_VERSION = 2;
export const ARTIFACT_MAGIC = 'lstm-mcu';

export type ArtifactKind = 'float' | 'quantized';
export type DecodedArtifact = { kind: 'float'; model: FloatModel } | { kind: 'quantized'; model: QuantizedModel };

// ---------------------------------------------------------------------------
// Schema (loaded once, on first use, so importing this module costs nothing).

interface Schema {
  Artifact: protobuf.Type;
  FloatModel: protobuf.Type;
  QuantizedModel: protobuf.Type;
}
let schema: Schema | undefined;

function types(): Schema {
  if (!schema) {
    const root = loadProtobuf().loadSync(fileURLToPath(new URL('./artifact.proto', import.meta.url)));
    schema = {
      Artifact: root.lookupType('lstm_mcu.Artifact'),
      FloatModel: root.lookupType('lstm_mcu.FloatModel'),
      QuantizedModel: root.lookupType('lstm_mcu.QuantizedModel'),
    };
  }
  return schema;
}

/** A decoded protobuf message as a plain object (protobufjs is untyped). */
type Pb = Record<string, any>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------
// Encoding.

export function encodeFloatModel(m: FloatModel): Uint8Array {
  checkOrThrow(
    () => validateFloatModel(m),
    (p) => `cannot encode float model: ${p}`,
  );
  return envelope('float', types().FloatModel.encode(floatToPb(m)).finish());
}

export function encodeQuantizedModel(m: QuantizedModel): Uint8Array {
  checkOrThrow(
    () => validateQuantizedModel(m),
    (p) => `cannot encode quantized model: ${p}`,
  );
  return envelope('quantized', types().QuantizedModel.encode(quantizedToPb(m)).finish());
}

function envelope(kind: ArtifactKind, payload: Uint8Array): Uint8Array {
  const sha256 = createHash('sha256').update(payload).digest();
  return types().Artifact.encode({ magic: ARTIFACT_MAGIC, formatVersion: FORMAT_VERSION, kind, payload, sha256 }).finish();
}

const int8Bytes = (a: Int8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.length);
const pbNorm = (n: Normalization): Pb => ({ mean: n.mean, std: n.std });
const pbProvenance = (p: Provenance): Pb => ({ ...p });

/** The ModelHeader fields, shared by both kinds. */
function headerToPb(m: ModelHeader): Pb {
  return {
    task: m.task,
    featureNames: m.featureNames,
    targetNames: m.targetNames,
    classLabels: m.classLabels,
    classNames: m.classNames ?? [],
    window: m.window,
    horizon: m.horizon,
    targetMode: m.targetMode,
    headActivation: m.headActivation,
    sequence: m.sequence,
    baseFeatures: m.baseFeatures,
    inputNorm: pbNorm(m.inputNorm),
    outputNorm: pbNorm(m.outputNorm),
    provenance: pbProvenance(m.provenance),
  };
}

function floatLayerToPb(l: FloatRecurrentLayer): Pb {
  return {
    cell: l.cell,
    inputSize: l.inputSize,
    units: l.units,
    kernel: l.kernel,
    recurrentKernel: l.recurrentKernel,
    bias: l.bias,
    peephole: l.peephole ?? [],
    recurrentBias: l.recurrentBias ?? [],
    clockPeriods: l.clockPeriods ?? [],
    depthGate: l.depthGate ?? [],
    ...(l.backward ? { backward: floatLayerToPb(l.backward), merge: l.merge ?? 'concat' } : {}),
    ...(l.readout ? { readout: l.readout } : {}),
    ...(l.reverse ? { reverse: true } : {}),
  };
}

function floatToPb(m: FloatModel): Pb {
  return {
    ...headerToPb(m),
    ...(m.embedding ? { embedding: { ...m.embedding } } : {}),
    layers: m.layers.map(floatLayerToPb),
    head: { inputSize: m.head.inputSize, outputSize: m.head.outputSize, kernel: m.head.kernel, bias: m.head.bias },
    metrics: { ...m.metrics },
  };
}

function quantLayerToPb(l: QuantRecurrentLayer): Pb {
  return {
    cell: l.cell,
    inputSize: l.inputSize,
    units: l.units,
    columnScales: l.columnScales,
    weightsQ: int8Bytes(l.weightsQ),
    rowScales: l.rowScales,
    biasQ: l.biasQ,
    gateMultiplier: l.gateMultiplier,
    gateShift: l.gateShift,
    cellIntBits: l.cellIntBits,
    peepholeMultiplier: l.peepholeMultiplier,
    peepholeShift: l.peepholeShift,
    recurrentBiasQ: l.recurrentBiasQ,
    clockPeriods: l.clockPeriods ?? [],
    ...(l.backward ? { backward: quantLayerToPb(l.backward), merge: l.merge ?? 'concat' } : {}),
    ...(l.readout ? { readout: l.readout } : {}),
    ...(l.reverse ? { reverse: true } : {}),
  };
}

function quantizedToPb(m: QuantizedModel): Pb {
  return {
    ...headerToPb(m),
    ...(m.embedding ? { embedding: { ...m.embedding, tableQ: int8Bytes(m.embedding.tableQ) } } : {}),
    inputScales: m.inputScales,
    layers: m.layers.map(quantLayerToPb),
    head: {
      inputSize: m.head.inputSize,
      outputSize: m.head.outputSize,
      weightsQ: int8Bytes(m.head.weightsQ),
      accScale: m.head.accScale,
      biasQ: m.head.biasQ,
    },
    tables: { tanhQ15: m.tables.tanhQ15 },
    calibration: m.calibration.map((r) => ({ ...r })),
    scheme: m.scheme,
    floatModelSha256: m.floatModelSha256,
    deployment: m.deployment === 'window' ? 'window' : '',
  };
}

// ---------------------------------------------------------------------------
// Decoding.

/** The bytes every artifact starts with: field 1 (magic), length 8, "lstm-mcu". */
const HEADER = Uint8Array.from([0x0a, ARTIFACT_MAGIC.length, ...Buffer.from(ARTIFACT_MAGIC)]);

/** True if the file starts like an artifact, or is a cut-off start of one. */
function looksLikeArtifact(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, HEADER.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== HEADER[i]) return false;
  return true;
}

/** Decode and validate an artifact; `where` (usually the path) prefixes every error. */
export function decodeArtifact(bytes: Uint8Array, where: string): DecodedArtifact {
  const fail = (problem: string): never => {
    throw new UserError(`${where}: ${problem}`);
  };
  if (bytes.length === 0) fail('empty file');
  const damaged = looksLikeArtifact(bytes) ? 'file is truncated or corrupted' : 'not an lstm-mcu artifact';

  let env: Pb;
  try {
    env = types().Artifact.toObject(types().Artifact.decode(bytes), { defaults: true });
  } catch {
    return fail(damaged);
  }
  // protobufjs cuts strings short at the end of the buffer instead of failing,
  // so a file cut inside the magic decodes; `damaged` tells that case apart.
  if (env.magic !== ARTIFACT_MAGIC) fail(damaged);
  const version: number = env.formatVersion;
  // 0 is the protobuf default: the field is missing, never written as 0.
  if (version === 0) fail('file is truncated or corrupted (no format version)');
  if (version > FORMAT_VERSION) {
    fail(`format version ${version} is newer than this tool supports (${FORMAT_VERSION}); upgrade lstm-mcu`);
  }
  const payload: Uint8Array = env.payload;
  const stored: Uint8Array = env.sha256;
  // The checksum is the last field: a file cut anywhere loses (part of) it.
  if (stored.length !== 32) fail('file is truncated or corrupted (no checksum)');
  if (!Buffer.from(stored).equals(createHash('sha256').update(payload).digest())) {
    fail('checksum mismatch: file is corrupted');
  }
  // protobufjs ignores the wire type of known fields, so a bit flip in a field
  // tag would go unnoticed; the writer's encoding is canonical, so compare.
  if (!Buffer.from(bytes).equals(types().Artifact.encode(env).finish())) fail('file is corrupted (damaged header)');
  const kind: string = env.kind;
  if (kind !== 'float' && kind !== 'quantized') {
    fail(`unknown model kind ${JSON.stringify(kind)} (expected "float" or "quantized")`);
  }
  if (kind === 'float') {
    const model = decodePayload(payload, types().FloatModel, pbToFloat, fail, 'float');
    checkOrThrow(
      () => validateFloatModel(model),
      (p) => `${where}: invalid float model: ${p}`,
    );
    return { kind, model };
  }
  const model = decodePayload(payload, types().QuantizedModel, pbToQuantized, fail, 'quantized');
  checkOrThrow(
    () => validateQuantizedModel(model),
    (p) => `${where}: invalid quantized model: ${p}`,
  );
  return { kind: 'quantized', model };
}

function decodePayload<T>(payload: Uint8Array, type: protobuf.Type, convert: (o: Pb) => T, fail: (p: string) => never, kind: string): T {
  let o: Pb;
  try {
    o = type.toObject(type.decode(payload), { defaults: true, arrays: true });
  } catch {
    // The checksum matched, so the writer produced this: a tool bug or a forged file.
    return fail(`invalid ${kind} model: payload cannot be decoded`);
  }
  try {
    return convert(o);
  } catch (err) {
    if (err instanceof Invalid) return fail(`invalid ${kind} model: ${err.message}`);
    throw err;
  }
}

function need(o: Pb | null | undefined, name: string): Pb {
  if (o == null) throw new Invalid(`${name} is missing`);
  return o;
}

// Copies, so decoded models never alias the file buffer.
const f32 = (a: number[]): Float32Array => Float32Array.from(a);
const i32 = (a: number[]): Int32Array => Int32Array.from(a);
const doubles = (a: number[]): number[] => Array.from(a);
function i8(b: Uint8Array): Int8Array {
  const out = new Int8Array(b.length);
  out.set(new Int8Array(b.buffer, b.byteOffset, b.length));
  return out;
}
function i16(a: number[], name: string): Int16Array {
  for (let i = 0; i < a.length; i++) {
    if (a[i] < -32768 || a[i] > 32767) throw new Invalid(`${name}[${i}] = ${a[i]} is outside int16`);
  }
  return Int16Array.from(a);
}

function normFromPb(o: Pb | null, name: string): Normalization {
  const n = need(o, name);
  return { mean: doubles(n.mean), std: doubles(n.std) };
}

function provenanceFromPb(o: Pb | null): Provenance {
  const p = need(o, 'provenance');
  return { data: p.data, dataSha256: p.dataSha256, seed: p.seed, toolVersion: p.toolVersion, createdAt: p.createdAt, options: p.options };
}

/** Fields shared by both kinds. `task` is checked by the validator. */
function commonFromPb(o: Pb) {
  return {
    task: o.task as Task,
    featureNames: [...(o.featureNames as string[])],
    targetNames: [...(o.targetNames as string[])],
    classLabels: doubles(o.classLabels),
    ...((o.classNames as string[] | undefined)?.length ? { classNames: [...(o.classNames as string[])] } : {}),
    window: o.window as number,
    horizon: o.horizon as number,
    targetMode: o.targetMode as TargetMode,
    // Files written before the field existed: the activation their task implies.
    headActivation: (o.headActivation || defaultHead(o.task as Task)) as HeadActivation,
    sequence: (o.sequence || 'many-to-one') as SequencePattern,
    baseFeatures: [...((o.baseFeatures as number[] | undefined) ?? [])],
    inputNorm: normFromPb(o.inputNorm, 'inputNorm'),
    outputNorm: normFromPb(o.outputNorm, 'outputNorm'),
  };
}

/**
 * The recurrent layers of a payload: format 2 writes `layers`; format 1 files
 * hold one layer in `recurrent`.
 */
function pbLayers(o: Pb): Pb[] {
  const layers = (o.layers as Pb[] | undefined) ?? [];
  if (layers.length > 0) return layers;
  return [need(o.recurrent, 'layers')];
}

function pbToFloatLayer(l: Pb): FloatRecurrentLayer {
  return {
    cell: l.cell as CellKind,
    inputSize: l.inputSize,
    units: l.units,
    kernel: f32(l.kernel),
    recurrentKernel: f32(l.recurrentKernel),
    bias: f32(l.bias),
    ...(hasPeepholes(l.cell) ? { peephole: f32(l.peephole) } : {}),
    ...(hasRecurrentBias(l.cell) ? { recurrentBias: f32(l.recurrentBias) } : {}),
    ...(hasClock(l.cell) ? { clockPeriods: [...((l.clockPeriods as number[] | undefined) ?? [])] } : {}),
    ...(hasDepthGate(l.cell) ? { depthGate: f32(l.depthGate) } : {}),
    ...(l.backward ? { backward: pbToFloatLayer(l.backward), merge: l.merge as MergeMode } : {}),
    // an artifact written before readouts existed reads as 'final-states' (the field absent)
    ...(l.readout ? { readout: l.readout as Readout } : {}),
    ...(l.reverse ? { reverse: true } : {}),
  };
}

/** The embedding fields both kinds share (the table is read by each kind). */
function embeddingFromPb(e: Pb) {
  return {
    vocabularySize: e.vocabularySize as number,
    dim: e.dim as number,
    unknownToken: e.unknownToken as number,
    tokens: [...(e.tokens as string[])],
  };
}

function pbToFloat(o: Pb): FloatModel {
  const h = need(o.head, 'head');
  const mt = need(o.metrics, 'metrics');
  return {
    ...commonFromPb(o),
    ...(o.embedding ? { embedding: { ...embeddingFromPb(o.embedding), table: f32(o.embedding.table) } } : {}),
    layers: pbLayers(o).map(pbToFloatLayer),
    head: { inputSize: h.inputSize, outputSize: h.outputSize, kernel: f32(h.kernel), bias: f32(h.bias) },
    metrics: { name: mt.name, train: mt.train, validation: mt.validation, test: mt.test },
    provenance: provenanceFromPb(o.provenance),
  };
}

function pbToQuantLayer(l: Pb): QuantRecurrentLayer {
  return {
    cell: l.cell as CellKind,
    inputSize: l.inputSize,
    units: l.units,
    columnScales: doubles(l.columnScales),
    weightsQ: i8(l.weightsQ),
    rowScales: doubles(l.rowScales),
    biasQ: i32(l.biasQ),
    gateMultiplier: i32(l.gateMultiplier),
    gateShift: l.gateShift,
    cellIntBits: l.cellIntBits,
    peepholeMultiplier: i32(l.peepholeMultiplier),
    peepholeShift: l.peepholeShift,
    recurrentBiasQ: i32(l.recurrentBiasQ),
    ...(hasClock(l.cell) ? { clockPeriods: [...((l.clockPeriods as number[] | undefined) ?? [])] } : {}),
    ...(l.backward ? { backward: pbToQuantLayer(l.backward), merge: l.merge as MergeMode } : {}),
    // an artifact written before readouts existed reads as 'final-states' (the field absent)
    ...(l.readout ? { readout: l.readout as Readout } : {}),
    ...(l.reverse ? { reverse: true } : {}),
  };
}

function pbToQuantized(o: Pb): QuantizedModel {
  const h = need(o.head, 'head');
  const t = need(o.tables, 'tables');
  if (t.interpolatedSigmoidQ15.length > 0 || t.interpolatedTanhQ15.length > 0) {
    throw new Invalid('it has the interpolated activation tables of an older lstm-mcu; quantize its float model again (lstm-mcu quantize)');
  }
  return {
    ...commonFromPb(o),
    ...(o.embedding ? { embedding: { ...embeddingFromPb(o.embedding), tableQ: i8(o.embedding.tableQ) } } : {}),
    inputScales: doubles(o.inputScales),
    layers: pbLayers(o).map(pbToQuantLayer),
    head: { inputSize: h.inputSize, outputSize: h.outputSize, weightsQ: i8(h.weightsQ), accScale: h.accScale, biasQ: i32(h.biasQ) },
    tables: { tanhQ15: i16(t.tanhQ15, 'tables.tanhQ15') },
    calibration: (o.calibration as Pb[]).map((r): TensorRange => ({ name: r.name, min: r.min, max: r.max })),
    scheme: o.scheme,
    floatModelSha256: o.floatModelSha256,
    provenance: provenanceFromPb(o.provenance),
    ...(o.deployment ? { deployment: o.deployment as Deployment } : {}),
  };
}

// ---------------------------------------------------------------------------
// Files.

function readBytes(path: string): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new UserError(`${path}: ${describeFsError(err)}`);
  }
}

/** Read a float model artifact, with the sha256 of its bytes (what later artifacts record). */
export function readFloatModel(path: string): { model: FloatModel; sha256: string } {
  const bytes = readBytes(path);
  const a = decodeArtifact(bytes, path);
  if (a.kind !== 'float') throw new UserError(`${path}: this is a quantized model; expected a float model (from \`lstm-mcu train\`)`);
  return { model: a.model, sha256: sha256Hex(bytes) };
}

/** Read a quantized model artifact, with the sha256 of its bytes (what generated code records). */
export function readQuantizedModel(path: string): { model: QuantizedModel; sha256: string } {
  const bytes = readBytes(path);
  const a = decodeArtifact(bytes, path);
  if (a.kind !== 'quantized')
    throw new UserError(`${path}: this is a float model; expected a quantized model (run \`lstm-mcu quantize\` first)`);
  return { model: a.model, sha256: sha256Hex(bytes) };
}

/** Write an artifact atomically (temporary file + rename); see write-atomic.ts. */
export function writeArtifact(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, bytes);
}
