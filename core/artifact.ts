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
import protobuf from 'protobufjs';
import { UserError } from './errors.ts';
import { describeFsError, writeFileAtomic } from './write-atomic.ts';
import { TABLE_ENTRIES } from './fixed-point.ts';
import {
  hasRecurrentBias,
  hasPeepholes,
  CELL_KINDS,
  gateCount,
  MERGE_MODES,
  lastLayer,
  layerOutputSize,
  defaultHead,
  type CellKind,
  type HeadActivation,
  type SequencePattern,
  SEQUENCE_PATTERNS,
  isWindowModel,
  feedbackFeatures,
  type MergeMode,
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
  DEPLOYMENTS,
} from './model.ts';

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
    const root = protobuf.loadSync(fileURLToPath(new URL('./artifact.proto', import.meta.url)));
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
    ...(l.backward ? { backward: floatLayerToPb(l.backward), merge: l.merge ?? 'concat' } : {}),
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
    ...(l.backward ? { backward: quantLayerToPb(l.backward), merge: l.merge ?? 'concat' } : {}),
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

/** A structural problem in a model; rewrapped as a UserError with the file name. */
class Invalid extends Error {}

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
    ...(l.backward ? { backward: pbToFloatLayer(l.backward), merge: l.merge as MergeMode } : {}),
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
    ...(l.backward ? { backward: pbToQuantLayer(l.backward), merge: l.merge as MergeMode } : {}),
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
// Validation: the same rules on write (catch a bad model before it is saved)
// and on read (catch a file this reader cannot trust). Each check throws
// Invalid with the first problem found.

function checkOrThrow(check: () => void, message: (problem: string) => string): void {
  try {
    check();
  } catch (err) {
    if (err instanceof Invalid) throw new UserError(message(err.message));
    throw err;
  }
}

function int(name: string, v: number, min: number, max = 2 ** 32 - 1): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new Invalid(`${name} is ${v}; expected an integer in ${min}..${max}`);
  }
}

function finite(name: string, v: number): void {
  if (!Number.isFinite(v)) throw new Invalid(`${name} is ${v}; expected a finite number`);
}

/** Length check plus finiteness of every value. `formula` says where `expected` comes from. */
function vec(name: string, a: ArrayLike<number>, expected: number, formula: string): void {
  if (a.length !== expected) throw new Invalid(`${name} has ${a.length} values; expected ${expected} (${formula})`);
  for (let i = 0; i < a.length; i++) finite(`${name}[${i}]`, a[i]);
}

function count(name: string, a: ArrayLike<unknown>, expected: number, formula: string): void {
  if (a.length !== expected) throw new Invalid(`${name} has ${a.length} entries; expected ${expected} (${formula})`);
}

type Common = Pick<
  FloatModel,
  | 'task'
  | 'featureNames'
  | 'targetNames'
  | 'classLabels'
  | 'classNames'
  | 'window'
  | 'horizon'
  | 'targetMode'
  | 'headActivation'
  | 'sequence'
  | 'baseFeatures'
  | 'inputNorm'
  | 'outputNorm'
> & {
  layers: readonly { backward?: unknown; reverse?: boolean }[];
};

/** Checks shared by both kinds; sizes come from the model's layers. */
function validateCommon(m: Common, inputSize: number, units: number, head: { inputSize: number; outputSize: number }, p: Provenance): void {
  if (m.task !== 'regression' && m.task !== 'classification') {
    throw new Invalid(`task is ${JSON.stringify(m.task)}; expected "regression" or "classification"`);
  }
  int('head.outputSize', head.outputSize, 1);
  if (head.inputSize !== units) throw new Invalid(`head.inputSize is ${head.inputSize}; expected ${units} (units of the last layer)`);
  int('window', m.window, 1);
  int('horizon', m.horizon, 0);
  if (!SEQUENCE_PATTERNS.includes(m.sequence))
    throw new Invalid(`sequence is ${JSON.stringify(m.sequence)}; expected one of ${SEQUENCE_PATTERNS.join(', ')}`);
  if (m.sequence === 'one-to-many') {
    if (m.task !== 'regression') throw new Invalid('sequence one-to-many forecasts a regression target; it is not for classification');
    const missing = m.targetNames.filter((_, k) => feedbackFeatures(m)[k]! < 0);
    if (missing.length)
      throw new Invalid(`sequence one-to-many feeds each forecast back as its feature; target ${missing.join(', ')} is not a feature`);
  }
  if (m.sequence !== 'many-to-one' && isWindowModel(m)) {
    throw new Invalid(
      `sequence ${m.sequence} needs a streaming model; bidirectional and reverse layers read the whole window (many-to-one only)`,
    );
  }
  const allowed: readonly HeadActivation[] = m.task === 'regression' ? ['linear'] : ['softmax', 'sigmoid'];
  if (!allowed.includes(m.headActivation)) {
    throw new Invalid(`headActivation is ${JSON.stringify(m.headActivation)}; expected ${allowed.join(' or ')} for ${m.task}`);
  }
  if (m.targetMode !== 'level' && m.targetMode !== 'change') {
    throw new Invalid(`targetMode is ${JSON.stringify(m.targetMode)}; expected "level" or "change"`);
  }
  if (m.targetMode === 'change') {
    if (m.task !== 'regression') throw new Invalid('targetMode "change" is only for regression');
    count('baseFeatures', m.baseFeatures, head.outputSize, 'head.outputSize');
    m.baseFeatures.forEach((f, k) => {
      if (!Number.isInteger(f) || f < 0 || f >= inputSize)
        throw new Invalid(`baseFeatures[${k}] is ${f}; expected a feature index below ${inputSize}`);
    });
  } else count('baseFeatures', m.baseFeatures, 0, 'empty unless targetMode is "change"');
  count('featureNames', m.featureNames, inputSize, 'layers[0].inputSize, or 1 with an embedding');
  vec('inputNorm.mean', m.inputNorm.mean, inputSize, 'one per feature');
  vec('inputNorm.std', m.inputNorm.std, inputSize, 'one per feature');
  const O = head.outputSize;
  if (m.task === 'regression') {
    count('targetNames', m.targetNames, O, 'head.outputSize');
    count('classLabels', m.classLabels, 0, 'empty for regression');
    if (m.classNames) count('classNames', m.classNames, 0, 'empty for regression');
    vec('outputNorm.mean', m.outputNorm.mean, O, 'head.outputSize');
    vec('outputNorm.std', m.outputNorm.std, O, 'head.outputSize');
  } else {
    count('targetNames', m.targetNames, 1, 'the label column');
    // Softmax: one output per class. Sigmoid: two classes, one output (the logit of class 1).
    vec(
      'classLabels',
      m.classLabels,
      m.headActivation === 'sigmoid' ? 2 : O,
      m.headActivation === 'sigmoid' ? 'two classes for a sigmoid head' : 'head.outputSize',
    );
    if (m.headActivation === 'sigmoid') count('head outputs', { length: O }, 1, 'one logit for a sigmoid head');
    if (m.classNames) {
      count('classNames', m.classNames, m.classLabels.length, 'one per class label');
      if (new Set(m.classNames).size !== m.classNames.length) throw new Invalid('classNames repeat a name');
    }
    count('outputNorm.mean', m.outputNorm.mean, 0, 'empty for classification');
    count('outputNorm.std', m.outputNorm.std, 0, 'empty for classification');
  }
  finite('provenance.seed', p.seed);
}

/**
 * Embedding input (NUMERICS.md §3a): one feature (the token id) with identity
 * normalization, a table of vocabularySize rows of layers[0].inputSize values.
 */
function validateEmbedding(
  m: Common & { embedding?: { vocabularySize: number; dim: number; unknownToken: number; tokens: string[] } },
  inputSize: number,
  table: ArrayLike<number>,
  tableName: string,
): void {
  const e = m.embedding!;
  int('embedding.vocabularySize', e.vocabularySize, 2);
  if (e.dim !== inputSize) throw new Invalid(`embedding.dim is ${e.dim}; expected ${inputSize} (layers[0].inputSize)`);
  int('embedding.unknownToken', e.unknownToken, 1, e.vocabularySize - 1);
  if (e.tokens.length !== 0) count('embedding.tokens', e.tokens, e.vocabularySize, 'embedding.vocabularySize, or none');
  vec(`embedding.${tableName}`, table, e.vocabularySize * e.dim, 'vocabularySize*dim');
  count('featureNames', m.featureNames, 1, 'one token id per step with an embedding');
  if (m.inputNorm.mean[0] !== 0 || m.inputNorm.std[0] !== 1) throw new Invalid('inputNorm of a token id must be mean 0, std 1');
  if (m.sequence === 'one-to-many')
    throw new Invalid('sequence one-to-many feeds forecasts back as readings; a token input cannot take them');
}

/** The gate count of a known cell kind; anything else is invalid. */
function cellGates(name: string, cell: string): number {
  if (!(CELL_KINDS as readonly string[]).includes(cell)) {
    throw new Invalid(`${name}.cell is ${JSON.stringify(cell)}; expected one of ${CELL_KINDS.join(', ')}`);
  }
  return gateCount(cell as CellKind);
}

type ChainLayer = {
  cell: string;
  inputSize: number;
  units: number;
  backward?: { cell: string; inputSize: number; units: number; backward?: unknown; reverse?: boolean };
  merge?: string;
  reverse?: boolean;
};

/**
 * Layer sizes chain: layer 0 reads the features, layer l what layer l - 1
 * passes up. A backward direction matches its forward one and names its merge.
 */
function validateChain(layers: readonly ChainLayer[]): void {
  if (layers.length === 0) throw new Invalid('layers is empty; expected at least one recurrent layer');
  layers.forEach((l, i) => {
    int(`layers[${i}].inputSize`, l.inputSize, 1);
    int(`layers[${i}].units`, l.units, 1);
    if (i > 0) {
      const below = layerOutputSize(layers[i - 1] as Parameters<typeof layerOutputSize>[0]);
      if (l.inputSize !== below)
        throw new Invalid(`layers[${i}].inputSize is ${l.inputSize}; expected ${below} (the output of layers[${i - 1}])`);
    }
    if (l.backward && l.reverse) throw new Invalid(`layers[${i}] is both bidirectional and reverse; a reverse layer has one direction`);
    if (l.backward) {
      const b = l.backward;
      if (b.cell !== l.cell || b.inputSize !== l.inputSize || b.units !== l.units || b.backward !== undefined || b.reverse) {
        throw new Invalid(
          `layers[${i}].backward is a ${b.cell} ${b.inputSize}x${b.units}; expected a ${l.cell} ${l.inputSize}x${l.units} like its forward direction`,
        );
      }
      if (!(MERGE_MODES as readonly string[]).includes(l.merge ?? '')) {
        throw new Invalid(`layers[${i}].merge is ${JSON.stringify(l.merge)}; expected one of ${MERGE_MODES.join(', ')}`);
      }
    } else if (l.merge !== undefined && l.merge !== '') throw new Invalid(`layers[${i}].merge is set on a forward-only layer`);
  });
}

/** Every direction of every layer with its name: layers[i] and layers[i].backward. */
function directions<L extends { backward?: L }>(layers: readonly L[]): [L, string][] {
  return layers.flatMap((l, i): [L, string][] => [
    [l, `layers[${i}]`],
    ...(l.backward ? [[l.backward, `layers[${i}].backward`] as [L, string]] : []),
  ]);
}

export function validateFloatModel(m: FloatModel): void {
  validateChain(m.layers);
  const U = layerOutputSize(lastLayer(m));
  validateCommon(m, m.embedding ? 1 : m.layers[0]!.inputSize, U, m.head, m.provenance);
  if (m.embedding) validateEmbedding(m, m.layers[0]!.inputSize, m.embedding.table, 'table');
  directions(m.layers).forEach(([layer, name]) => {
    const { inputSize: I, units: LU, cell } = layer;
    const G = cellGates(name, cell) * LU;
    vec(`${name}.kernel`, layer.kernel, I * G, 'inputSize*gates*units');
    vec(`${name}.recurrentKernel`, layer.recurrentKernel, LU * G, 'units*gates*units');
    vec(`${name}.bias`, layer.bias, G, 'gates*units');
    vec(`${name}.peephole`, layer.peephole ?? [], hasPeepholes(cell) ? 3 * LU : 0, hasPeepholes(cell) ? '3*units' : 'peephole LSTM only');
    vec(
      `${name}.recurrentBias`,
      layer.recurrentBias ?? [],
      hasRecurrentBias(cell) ? G : 0,
      hasRecurrentBias(cell) ? 'gates*units' : 'GRU reset-after only',
    );
  });
  vec('head.kernel', m.head.kernel, U * m.head.outputSize, 'inputSize*outputSize');
  vec('head.bias', m.head.bias, m.head.outputSize, 'outputSize');
  // Metrics may be NaN (a split with no windows): they are informational only.
}

export function validateQuantizedModel(m: QuantizedModel): void {
  validateChain(m.layers);
  if (m.deployment !== undefined && !DEPLOYMENTS.includes(m.deployment))
    throw new Invalid(`deployment is ${JSON.stringify(m.deployment)}; expected one of ${DEPLOYMENTS.join(', ')}`);
  if (m.deployment === 'window' && m.sequence !== 'many-to-one')
    throw new Invalid(`deployment window runs a many-to-one model over its window; sequence ${m.sequence} streams`);
  const U = layerOutputSize(lastLayer(m));
  validateCommon(m, m.embedding ? 1 : m.layers[0]!.inputSize, U, m.head, m.provenance);
  if (m.embedding) validateEmbedding(m, m.layers[0]!.inputSize, m.embedding.tableQ, 'tableQ');
  vec('inputScales', m.inputScales, m.layers[0]!.inputSize, 'layers[0].inputSize');
  directions(m.layers).forEach(([l, name]) => {
    const { inputSize: I, units: LU } = l;
    const G = cellGates(name, l.cell) * LU;
    vec(`${name}.columnScales`, l.columnScales, I + LU, 'inputSize+units');
    vec(`${name}.weightsQ`, l.weightsQ, G * (I + LU), 'gates*units*(inputSize+units)');
    vec(`${name}.rowScales`, l.rowScales, G, 'gates*units');
    vec(`${name}.biasQ`, l.biasQ, G, 'gates*units');
    vec(`${name}.gateMultiplier`, l.gateMultiplier, G, 'gates*units');
    int(`${name}.gateShift`, l.gateShift, 1, 31); // NUMERICS.md: every shift count is in 1..31
    int(`${name}.cellIntBits`, l.cellIntBits, 0, 15); // Q(K).(15-K) in int16
    const peephole = hasPeepholes(l.cell);
    vec(`${name}.peepholeMultiplier`, l.peepholeMultiplier, peephole ? 3 * LU : 0, peephole ? '3*units' : 'peephole LSTM only');
    if (peephole) int(`${name}.peepholeShift`, l.peepholeShift, 1, 31);
    else int(`${name}.peepholeShift`, l.peepholeShift, 0, 0);
    const resetAfter = hasRecurrentBias(l.cell);
    vec(`${name}.recurrentBiasQ`, l.recurrentBiasQ, resetAfter ? LU : 0, resetAfter ? 'units' : 'GRU reset-after only');
  });
  vec('head.weightsQ', m.head.weightsQ, m.head.outputSize * U, 'outputSize*inputSize');
  vec('head.biasQ', m.head.biasQ, m.head.outputSize, 'outputSize');
  finite('head.accScale', m.head.accScale);
  if (m.tables.tanhQ15.length !== TABLE_ENTRIES) {
    throw new Invalid(`tables.tanhQ15 has ${m.tables.tanhQ15.length} entries (expected ${TABLE_ENTRIES})`);
  }
  m.calibration.forEach((r, i) => {
    finite(`calibration[${i}].min`, r.min);
    finite(`calibration[${i}].max`, r.max);
  });
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
