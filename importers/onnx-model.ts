/**
 * An ONNX file as plain data: nodes, initializers and constant tensors,
 * decoded with protobufjs and the official schema (importers/onnx.proto).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import { UserError } from '../core/errors.ts';

/** protobufjs, required on the first schema load: not with this module, so a command's start does not pay for it. */
const loadProtobuf = (): typeof protobuf => createRequire(import.meta.url)('protobufjs');

/** A dense tensor: dims and values (floats, or whole numbers for int64 / int32). */
export interface Tensor {
  dims: number[];
  data: Float64Array;
}

export type AttributeValue = number | string | number[] | string[] | Tensor;

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, Tensor>;
  /** Graph inputs that are not initializers. */
  inputs: string[];
  outputs: string[];
  opset: number;
  producer: string;
}

let modelType: protobuf.Type | undefined;

function schema(): protobuf.Type {
  modelType ??= loadProtobuf()
    .loadSync(fileURLToPath(new URL('./onnx.proto', import.meta.url)))
    .lookupType('onnx.ModelProto');
  return modelType;
}

// TensorProto.DataType values used by recurrent models.
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;

/* eslint-disable @typescript-eslint/no-explicit-any -- protobufjs messages are untyped */
const num = (v: any): number => (typeof v === 'number' ? v : Number(v?.toString?.() ?? v));

function tensor(t: any, where: string): Tensor {
  const dims: number[] = (t.dims ?? []).map(num);
  const size = dims.reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  const raw: Uint8Array | undefined = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  let data: Float64Array;
  if (t.dataLocation === 1)
    throw new UserError(
      `${where}: tensor '${t.name}' is stored in an external file; save the model with its weights inside (onnx.save(..., save_as_external_data=False))`,
    );
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const width = type === FLOAT || type === INT32 ? 4 : type === INT64 || type === DOUBLE ? 8 : 0;
    if (width === 0)
      throw new UserError(`${where}: tensor '${t.name}' has data type ${type}; lstm-mcu reads float, double, int32 and int64 tensors`);
    if (raw.byteLength !== size * width)
      throw new UserError(
        `${where}: tensor '${t.name}' holds ${raw.byteLength} bytes, its shape [${dims.join(', ')}] needs ${size * width}`,
      );
    data = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      data[i] =
        type === FLOAT
          ? view.getFloat32(4 * i, true)
          : type === INT32
            ? view.getInt32(4 * i, true)
            : type === DOUBLE
              ? view.getFloat64(8 * i, true)
              : Number(view.getBigInt64(8 * i, true));
    }
  } else {
    const values: any[] =
      type === FLOAT ? t.floatData : type === INT64 ? t.int64Data : type === INT32 ? t.int32Data : type === DOUBLE ? t.doubleData : [];
    if (type !== FLOAT && type !== INT64 && type !== INT32 && type !== DOUBLE)
      throw new UserError(`${where}: tensor '${t.name}' has data type ${type}; lstm-mcu reads float, double, int32 and int64 tensors`);
    data = Float64Array.from((values ?? []).map(num));
    if (data.length !== size)
      throw new UserError(`${where}: tensor '${t.name}' holds ${data.length} values, its shape [${dims.join(', ')}] needs ${size}`);
  }
  return { dims, data };
}

function attribute(a: any, where: string): AttributeValue {
  // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7, STRINGS 8
  switch (a.type) {
    case 1:
      return a.f;
    case 2:
      return num(a.i);
    case 3:
      return Buffer.from(a.s).toString('utf8');
    case 4:
      return tensor(a.t, where);
    case 6:
      return [...a.floats];
    case 7:
      return a.ints.map(num);
    case 8:
      return a.strings.map((s: Uint8Array) => Buffer.from(s).toString('utf8'));
    default:
      throw new UserError(`${where}: attribute '${a.name}' has a type (${a.type}) lstm-mcu does not read`);
  }
}

export function readOnnx(path: string): OnnxGraph {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let m: any;
  try {
    m = schema().decode(bytes);
  } catch (e) {
    throw new UserError(`${path}: not an ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  if (!m.graph || !m.graph.node || m.graph.node.length === 0) throw new UserError(`${path}: not an ONNX model (no graph nodes)`);
  const g = m.graph;
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name, tensor(t, path));
  const nodes: OnnxNode[] = g.node.map((n: any, i: number) => {
    const name = n.name || `#${i}`;
    const where = `${path}: node '${name}' (${n.opType})`;
    return {
      name,
      opType: n.opType,
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attributes: new Map<string, AttributeValue>((n.attribute ?? []).map((a: any) => [a.name, attribute(a, where)])),
    };
  });
  const opset = (m.opsetImport ?? []).filter((o: any) => !o.domain).map((o: any) => num(o.version))[0] ?? 0;
  return {
    nodes,
    initializers,
    inputs: (g.input ?? []).map((v: any) => v.name).filter((n: string) => !initializers.has(n)),
    outputs: (g.output ?? []).map((v: any) => v.name),
    opset,
    producer: `${m.producerName ?? ''} ${m.producerVersion ?? ''}`.trim(),
  };
}
