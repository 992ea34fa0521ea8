import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomFloatModel, randomQuantizedModel } from '../../parity/random-model.ts';
import protobuf from 'protobufjs';
import {
  FORMAT_VERSION,
  decodeArtifact,
  encodeFloatModel,
  encodeQuantizedModel,
  readFloatModel,
  readQuantizedModel,
  sha256Hex,
  writeArtifact,
} from '../../core/artifact.ts';
import { UserError } from '../../core/errors.ts';
import { makeFloatModel, makeQuantizedModel } from '../fixtures/models.ts';
import { mulberry32 } from '../../core/prng.ts';
import { CELL_KINDS, readoutOf, type FloatModel } from '../../core/model.ts';

// The schema, loaded independently, to forge files the encoder refuses to write.
const root = protobuf.loadSync(fileURLToPath(new URL('../../core/artifact.proto', import.meta.url)));
const Artifact = root.lookupType('lstm_mcu.Artifact');
const FloatModelPb = root.lookupType('lstm_mcu.FloatModel');
const QuantizedModelPb = root.lookupType('lstm_mcu.QuantizedModel');

type Pb = Record<string, any>;

/** Re-encode an artifact's envelope with some fields changed (checksum kept unless given). */
function patchEnvelope(bytes: Uint8Array, patch: Pb): Uint8Array {
  const env = Artifact.toObject(Artifact.decode(bytes));
  return Artifact.encode({ ...env, ...patch }).finish();
}

/** An envelope with a correct checksum around a forged payload. */
function forge(kind: string, payload: Uint8Array): Uint8Array {
  const sha256 = createHash('sha256').update(payload).digest();
  return Artifact.encode({ magic: 'lstm-mcu', formatVersion: FORMAT_VERSION, kind, payload, sha256 }).finish();
}

/** Decode the payload of a real artifact, let `edit` change it, wrap it again with a valid checksum. */
function forgeEdited(bytes: Uint8Array, type: protobuf.Type, edit: (o: Pb) => void): Uint8Array {
  const env = Artifact.toObject(Artifact.decode(bytes));
  const o = type.toObject(type.decode(env.payload), { defaults: true, arrays: true });
  edit(o);
  return forge(env.kind, type.encode(type.fromObject(o)).finish());
}

/** Run `f`, expect a one-line UserError, return its message. */
function userError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a UserError, nothing was thrown');
}

const small = { inputSize: 2, units: 2, outputSize: 1, seed: 7 };
const floatModel = makeFloatModel({ inputSize: 3, units: 5, outputSize: 2, seed: 1 });
const quantModel = makeQuantizedModel({ inputSize: 3, units: 5, outputSize: 2, seed: 2 });

describe('round trip', () => {
  it('float model, regression and classification', () => {
    for (const m of [floatModel, makeFloatModel({ inputSize: 4, units: 3, outputSize: 3, seed: 3, task: 'classification' })]) {
      const back = decodeArtifact(encodeFloatModel(m), 'm.pb');
      expect(back.kind).toBe('float');
      expect(back.model).toStrictEqual(m);
    }
  });

  it('quantized model, regression and classification', () => {
    for (const m of [quantModel, makeQuantizedModel({ inputSize: 4, units: 3, outputSize: 3, seed: 4, task: 'classification' })]) {
      const back = decodeArtifact(encodeQuantizedModel(m), 'm.q.pb');
      expect(back.kind).toBe('quantized');
      expect(back.model).toStrictEqual(m);
    }
  });

  it('"change" target mode with its base features', () => {
    const f = { ...floatModel, targetMode: 'change' as const, baseFeatures: [2, 0] };
    expect(decodeArtifact(encodeFloatModel(f), 'm.pb').model).toStrictEqual(f);
    const q = { ...quantModel, targetMode: 'change' as const, baseFeatures: [1, 1] };
    expect(decodeArtifact(encodeQuantizedModel(q), 'm.q.pb').model).toStrictEqual(q);
    expect(userError(() => encodeFloatModel({ ...f, baseFeatures: [3, 0] }))).toBe(
      'cannot encode float model: baseFeatures[0] is 3; expected a feature index below 3',
    );
  });

  it('refuses what the device would run differently from the simulator: a scale or deviation not above zero, a window or horizon past the limits', () => {
    const f = makeFloatModel(small);
    expect(userError(() => encodeFloatModel({ ...f, inputNorm: { mean: f.inputNorm.mean, std: [1, -2] } }))).toBe(
      'cannot encode float model: inputNorm.std[1] is -2; expected a positive number',
    );
    expect(userError(() => encodeFloatModel({ ...f, window: 2 ** 32 - 1 }))).toMatch(
      /window is 4294967295; expected an integer in 1\.\.4096/,
    );
    expect(userError(() => encodeFloatModel({ ...f, horizon: 100_001 }))).toMatch(/horizon is 100001; expected an integer in 0\.\.100000/);
    const q = makeQuantizedModel(small);
    expect(userError(() => encodeQuantizedModel({ ...q, inputScales: [0.5, 0] }))).toMatch(
      /inputScales\[1\] is 0; expected a positive number/,
    );
    expect(userError(() => encodeQuantizedModel({ ...q, head: { ...q.head, accScale: -1 } }))).toMatch(
      /head\.accScale is -1; expected a positive number/,
    );
  });

  it('keeps float32 and double values bit for bit, and NaN metrics', () => {
    const m = makeFloatModel(small);
    m.layers[0].kernel.set([-0, 3.4028234663852886e38, Math.fround(1.4e-45), -Math.fround(1 / 3)]);
    m.inputNorm.mean = [0.1 + 0.2, -0];
    m.inputNorm.std = [Number.MAX_VALUE, Number.MIN_VALUE];
    m.provenance.seed = 2 ** 53 - 1;
    m.metrics.test = NaN; // a split without windows
    expect(decodeArtifact(encodeFloatModel(m), 'm.pb').model).toStrictEqual(m);

    const q = makeQuantizedModel(small);
    q.layers[0].weightsQ.set([-128, 127, 0, -1]);
    q.layers[0].biasQ.set([-(2 ** 31), 2 ** 31 - 1]);
    q.tables.tanhQ15.set([-32768, 32767]);
    expect(decodeArtifact(encodeQuantizedModel(q), 'm.q.pb').model).toStrictEqual(q);
  });

  it('returns arrays that do not alias the file buffer', () => {
    const bytes = encodeQuantizedModel(quantModel);
    const q = decodeArtifact(bytes, 'm.q.pb').model as typeof quantModel;
    for (const a of [q.layers[0].weightsQ, q.layers[0].biasQ, q.head.weightsQ, q.tables.tanhQ15]) {
      expect(a.buffer).not.toBe(bytes.buffer);
      expect(a.byteLength).toBe(a.buffer.byteLength);
    }
  });

  it('is deterministic', () => {
    expect(sha256Hex(encodeFloatModel(floatModel))).toBe(sha256Hex(encodeFloatModel(floatModel)));
  });
});

describe('damaged files', () => {
  const floatBytes = encodeFloatModel(makeFloatModel(small));
  const quantBytes = encodeQuantizedModel(makeQuantizedModel(small));

  it('every truncation fails', () => {
    for (const bytes of [floatBytes, quantBytes]) {
      for (let n = 0; n < bytes.length; n++) {
        const msg = userError(() => decodeArtifact(bytes.subarray(0, n), 'cut.pb'));
        expect(msg).toMatch(n === 0 ? /^cut\.pb: empty file$/ : /^cut\.pb: file is truncated or corrupted/);
      }
    }
  });

  it('every single-bit flip fails, never yields a different model', () => {
    for (const bytes of [floatBytes, quantBytes]) {
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = Uint8Array.from(bytes);
        flipped[bit >> 3] ^= 1 << (bit & 7);
        const msg = userError(() => decodeArtifact(flipped, 'flip.pb'));
        expect(msg).toMatch(/^flip\.pb: /);
      }
    }
  });

  it('a changed payload is a checksum mismatch', () => {
    const env = Artifact.toObject(Artifact.decode(floatBytes));
    const payload = Uint8Array.from(env.payload);
    payload[payload.length - 1] ^= 0x10;
    expect(userError(() => decodeArtifact(patchEnvelope(floatBytes, { payload }), 'm.pb'))).toBe(
      'm.pb: checksum mismatch: file is corrupted',
    );
  });

  it('random bytes fail with a UserError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        userError(() => decodeArtifact(bytes, 'r.bin'));
      }),
      { numRuns: 500, seed: 42 },
    );
    const rnd = mulberry32(5);
    const big = Uint8Array.from({ length: 4096 }, () => Math.floor(rnd() * 256));
    expect(userError(() => decodeArtifact(big, 'r.bin'))).toMatch(/^r\.bin: /);
  });

  it('other files are not lstm-mcu artifacts', () => {
    const csv = new TextEncoder().encode('time,temp\n1,20.5\n2,21\n');
    expect(userError(() => decodeArtifact(csv, 'data.csv'))).toBe('data.csv: not an lstm-mcu artifact');
    // A well-formed protobuf that is not ours.
    const other = Artifact.encode({ magic: 'onnx', formatVersion: 1 }).finish();
    expect(userError(() => decodeArtifact(other, 'x.pb'))).toBe('x.pb: not an lstm-mcu artifact');
    expect(userError(() => decodeArtifact(patchEnvelope(floatBytes, { magic: 'lstm-mcv' }), 'x.pb'))).toBe(
      'x.pb: not an lstm-mcu artifact',
    );
  });
});

describe('envelope', () => {
  const bytes = encodeFloatModel(floatModel);

  it('refuses a newer format version', () => {
    expect(userError(() => decodeArtifact(patchEnvelope(bytes, { formatVersion: 7 }), 'm.pb'))).toBe(
      'm.pb: format version 7 is newer than this tool supports (2); upgrade lstm-mcu',
    );
  });

  it('refuses an unknown kind', () => {
    expect(userError(() => decodeArtifact(patchEnvelope(bytes, { kind: 'onnx' }), 'm.pb'))).toBe(
      'm.pb: unknown model kind "onnx" (expected "float" or "quantized")',
    );
  });

  it('refuses a payload of the other kind', () => {
    const env = Artifact.toObject(Artifact.decode(bytes));
    expect(userError(() => decodeArtifact(forge('quantized', env.payload), 'm.pb'))).toMatch(/^m\.pb: invalid quantized model: /);
  });
});

describe('structural validation', () => {
  const fBytes = encodeFloatModel(floatModel);
  const qBytes = encodeQuantizedModel(quantModel);

  const cases: [string, Uint8Array, protobuf.Type, (o: Pb) => void, string][] = [
    [
      'unknown cell',
      fBytes,
      FloatModelPb,
      (o) => (o.layers[0].cell = 'lstm2'),
      `invalid float model: layers[0].cell is "lstm2"; expected one of ${CELL_KINDS.join(', ')}`,
    ],
    [
      'kernel length',
      fBytes,
      FloatModelPb,
      (o) => o.layers[0].kernel.pop(),
      'invalid float model: layers[0].kernel has 59 values; expected 60 (inputSize*gates*units)',
    ],
    [
      'head size',
      fBytes,
      FloatModelPb,
      (o) => (o.head.inputSize = 4),
      'invalid float model: head.inputSize is 4; expected 5 (units of the last layer)',
    ],
    [
      'feature names',
      fBytes,
      FloatModelPb,
      (o) => o.featureNames.push('extra'),
      'invalid float model: featureNames has 4 entries; expected 3 (layers[0].inputSize, or 1 with an embedding)',
    ],
    [
      'non-finite',
      fBytes,
      FloatModelPb,
      (o) => (o.inputNorm.std[1] = Infinity),
      'invalid float model: inputNorm.std[1] is Infinity; expected a finite number',
    ],
    ['missing layer', fBytes, FloatModelPb, (o) => (o.layers = []), 'invalid float model: layers is missing'],
    [
      'task',
      fBytes,
      FloatModelPb,
      (o) => (o.task = 'ranking'),
      'invalid float model: task is "ranking"; expected "regression" or "classification"',
    ],
    [
      'weightsQ length',
      qBytes,
      QuantizedModelPb,
      (o) => (o.layers[0].weightsQ = o.layers[0].weightsQ.subarray(1)),
      'invalid quantized model: layers[0].weightsQ has 159 values; expected 160 (gates*units*(inputSize+units))',
    ],
    [
      'gate shift',
      qBytes,
      QuantizedModelPb,
      (o) => (o.layers[0].gateShift = 40),
      'invalid quantized model: layers[0].gateShift is 40; expected an integer in 1..31',
    ],
    [
      'empty table',
      qBytes,
      QuantizedModelPb,
      (o) => (o.tables.tanhQ15 = []),
      'invalid quantized model: tables.tanhQ15 has 0 entries (expected 2048)',
    ],
    [
      'int16 range',
      qBytes,
      QuantizedModelPb,
      (o) => (o.tables.tanhQ15[3] = 40000),
      'invalid quantized model: tables.tanhQ15[3] = 40000 is outside int16',
    ],
    [
      'older interpolated tables',
      qBytes,
      QuantizedModelPb,
      (o) => (o.tables.interpolatedSigmoidQ15 = [16384, 32757]),
      'invalid quantized model: it has the interpolated activation tables of an older lstm-mcu; quantize its float model again (lstm-mcu quantize)',
    ],
    [
      'head bias',
      qBytes,
      QuantizedModelPb,
      (o) => o.head.biasQ.push(1),
      'invalid quantized model: head.biasQ has 3 values; expected 2 (outputSize)',
    ],
  ];
  it.each(cases)('%s', (_name, bytes, type, edit, expected) => {
    expect(userError(() => decodeArtifact(forgeEdited(bytes, type, edit), 'm.pb'))).toBe(`m.pb: ${expected}`);
  });

  it('the encoder refuses a model it could not read back', () => {
    const m = makeFloatModel(small);
    m.layers[0].bias[2] = NaN;
    expect(userError(() => encodeFloatModel(m))).toBe('cannot encode float model: layers[0].bias[2] is NaN; expected a finite number');
  });
});

describe('files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artifact-test-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes, creating parent directories, and reads back each kind', () => {
    const f = path.join(dir, 'a', 'b', 'model.float.pb');
    const q = path.join(dir, 'model.q.pb');
    writeArtifact(f, encodeFloatModel(floatModel));
    writeArtifact(q, encodeQuantizedModel(quantModel));
    expect(readFloatModel(f).model).toStrictEqual(floatModel);
    expect(readQuantizedModel(q).model).toStrictEqual(quantModel);
    expect(readFloatModel(f).sha256).toBe(sha256Hex(fs.readFileSync(f)));
    // Overwrite in place; no temporary files remain.
    writeArtifact(q, encodeQuantizedModel(quantModel));
    expect(fs.readdirSync(dir).sort()).toEqual(['a', 'model.q.pb']);
    expect(fs.readdirSync(path.join(dir, 'a', 'b'))).toEqual(['model.float.pb']);
  });

  it('reading the wrong kind says what to do', () => {
    const f = path.join(dir, 'model.pb');
    writeArtifact(f, encodeFloatModel(floatModel));
    expect(userError(() => readQuantizedModel(f))).toBe(
      `${f}: this is a float model; expected a quantized model (run \`lstm-mcu quantize\` first)`,
    );
    writeArtifact(f, encodeQuantizedModel(quantModel));
    expect(userError(() => readFloatModel(f))).toBe(`${f}: this is a quantized model; expected a float model (from \`lstm-mcu train\`)`);
  });

  it('a missing or empty file is a UserError', () => {
    const f = path.join(dir, 'none.pb');
    expect(userError(() => readFloatModel(f))).toBe(`${f}: no such file or directory`);
    fs.writeFileSync(f, '');
    expect(userError(() => readFloatModel(f))).toBe(`${f}: empty file`);
  });

  it('a failed write leaves no partial or temporary file', () => {
    const blocker = path.join(dir, 'blocker');
    fs.writeFileSync(blocker, 'not a directory');
    const bytes = encodeFloatModel(floatModel);
    expect(userError(() => writeArtifact(path.join(blocker, 'model.pb'), bytes))).toBe(
      `cannot write ${path.join(blocker, 'model.pb')}: a parent path is not a directory`,
    );
    expect(userError(() => writeArtifact(path.join(blocker, 'sub', 'model.pb'), bytes))).toMatch(/^cannot write .*: /);
    expect(userError(() => writeArtifact('/proc/lstm-mcu-test/model.pb', bytes))).toMatch(
      /^cannot write \/proc\/lstm-mcu-test\/model\.pb: /,
    );
    // The target is a directory: the rename fails after the temporary file was written.
    const target = path.join(dir, 'target');
    fs.mkdirSync(path.join(target, 'child'), { recursive: true });
    expect(userError(() => writeArtifact(target, bytes))).toMatch(/^cannot write .*target: /);
    expect(fs.readdirSync(dir).sort()).toEqual(['blocker', 'target']);
    expect(fs.readFileSync(blocker, 'utf8')).toBe('not a directory');
  });
});

describe('every cell kind', () => {
  it.each(CELL_KINDS)('round-trips %s models of both kinds', (cell) => {
    const float = randomFloatModel({ seed: 3, inputSize: 2, units: 5, cell });
    const decodedFloat = decodeArtifact(encodeFloatModel(float), 'f.pb');
    expect(decodedFloat).toStrictEqual({ kind: 'float', model: float });
    const quant = randomQuantizedModel({ seed: 3, inputSize: 2, units: 5, cell });
    const decodedQuant = decodeArtifact(encodeQuantizedModel(quant), 'q.pb');
    expect(decodedQuant.kind).toBe('quantized');
    expect(decodedQuant.model.layers).toStrictEqual(quant.layers);
  });
});

describe('cell-specific fields', () => {
  it('refuses peephole weights of the wrong length, and peephole weights on a plain LSTM', () => {
    const peephole = randomFloatModel({ seed: 4, inputSize: 2, units: 3, cell: 'peephole' });
    peephole.layers[0].peephole = peephole.layers[0].peephole!.subarray(1);
    expect(userError(() => encodeFloatModel(peephole))).toBe(
      'cannot encode float model: layers[0].peephole has 8 values; expected 9 (3*units)',
    );
    const lstm = randomFloatModel({ seed: 4, inputSize: 2, units: 3, cell: 'lstm' });
    lstm.layers[0].peephole = new Float32Array(9);
    expect(userError(() => encodeFloatModel(lstm))).toBe(
      'cannot encode float model: layers[0].peephole has 9 values; expected 0 (peephole LSTM only)',
    );
  });

  it('stores the clockwork periods and refuses bad ones, a link from a faster module, a window model, and periods on another cell', () => {
    const cw = () => randomFloatModel({ seed: 4, inputSize: 2, units: 6, cell: 'clockwork' });
    const periods = cw().layers[0].clockPeriods!;
    expect(periods).toHaveLength(3);
    const decoded = decodeArtifact(encodeFloatModel(cw()), 'f.pb');
    expect(decoded.kind === 'float' && decoded.model.layers[0].clockPeriods).toEqual(periods);
    const decreasing = cw();
    decreasing.layers[0].clockPeriods = [4, 2, 1];
    expect(userError(() => encodeFloatModel(decreasing))).toBe('cannot encode float model: layers[0]: clock periods 4,2,1 must increase');
    const uneven = cw();
    uneven.layers[0].clockPeriods = [1, 2, 4, 8];
    expect(userError(() => encodeFloatModel(uneven))).toBe(
      'cannot encode float model: layers[0]: 6 units do not split into 4 modules of equal size (one per clock period)',
    );
    const missing = cw();
    delete missing.layers[0].clockPeriods;
    expect(userError(() => encodeFloatModel(missing))).toBe(
      'cannot encode float model: layers[0]: no clock periods; a clockwork layer needs at least one module',
    );
    // h_0 (the fastest module) onto unit 2 (the second module): below the diagonal blocks
    const link = cw();
    link.layers[0].recurrentKernel[0 * 6 + 2] = 0.5;
    expect(userError(() => encodeFloatModel(link))).toBe(
      'cannot encode float model: layers[0]: recurrent weight h0 -> unit 2 is not zero; a clockwork module reads only modules at least as slow',
    );
    const q = randomQuantizedModel({ seed: 4, inputSize: 2, units: 6, cell: 'clockwork' });
    expect(userError(() => encodeQuantizedModel({ ...q, deployment: 'window' }))).toBe(
      'cannot encode quantized model: layers[0] is a clockwork layer in a window model; its step counter runs with a stream only',
    );
    const rnn = randomFloatModel({ seed: 4, inputSize: 2, units: 6, cell: 'rnn' });
    rnn.layers[0].clockPeriods = [1, 2];
    expect(userError(() => encodeFloatModel(rnn))).toBe(
      'cannot encode float model: layers[0].clockPeriods is set on a rnn layer; only a clockwork layer has them',
    );
  });

  it('refuses a GRU reset-after model without its recurrent bias', () => {
    const gru = randomFloatModel({ seed: 4, inputSize: 2, units: 3, cell: 'gru-reset-after' });
    delete gru.layers[0].recurrentBias;
    expect(userError(() => encodeFloatModel(gru))).toBe(
      'cannot encode float model: layers[0].recurrentBias has 0 values; expected 9 (gates*units)',
    );
  });

  it('writes, reads and validates a depth-gated layer: its depth-gate weights, where it sits, its cell format (NUMERICS.md §5j)', () => {
    const float = randomFloatModel({ seed: 4, inputSize: 2, units: 3, cell: 'depth-gated' });
    expect(float.layers[1].depthGate!.length).toBe(6);
    const back = decodeArtifact(encodeFloatModel(float), 'f.pb').model as FloatModel;
    expect(Array.from(back.layers[1].depthGate!)).toEqual(Array.from(float.layers[1].depthGate!));
    const short = structuredClone(float);
    short.layers[1].depthGate = short.layers[1].depthGate!.subarray(1);
    expect(userError(() => encodeFloatModel(short))).toBe(
      'cannot encode float model: layers[1].depthGate has 5 values; expected 6 (2*units)',
    );
    const onLstm = structuredClone(float);
    onLstm.layers[0].depthGate = new Float32Array(6);
    expect(userError(() => encodeFloatModel(onLstm))).toBe(
      'cannot encode float model: layers[0].depthGate has 6 values; expected 0 (depth-gated LSTM only)',
    );
    const alone = { ...structuredClone(float), layers: [{ ...structuredClone(float.layers[1]), inputSize: 2 }] };
    alone.layers[0].kernel = new Float32Array(2 * 15);
    alone.head = { ...alone.head, inputSize: 3 };
    expect(userError(() => encodeFloatModel(alone))).toBe(
      'cannot encode float model: layer 0 (depth-gated) needs an LSTM layer below it: the depth-gated LSTM takes at least two layers',
    );
    const q = randomQuantizedModel({ seed: 4, inputSize: 2, units: 3, cell: 'depth-gated' });
    expect(q.layers[1].peepholeMultiplier.length).toBe(6);
    const otherFormat = { ...q, layers: [q.layers[0], { ...q.layers[1], cellIntBits: q.layers[0].cellIntBits + 1 }] };
    expect(userError(() => encodeQuantizedModel(otherFormat))).toBe(
      `cannot encode quantized model: layers[1].cellIntBits is ${q.layers[0].cellIntBits + 1}; a depth-gated layer shares layers[0]'s (${q.layers[0].cellIntBits})`,
    );
    expect(userError(() => encodeQuantizedModel({ ...q, deployment: 'window' }))).toBe(
      "cannot encode quantized model: layer 1 (depth-gated) runs only as a stream (deployment 'window' does not keep the lower layer's cell states)",
    );
  });

  it('refuses a quantized peephole model whose peephole shift is out of range', () => {
    const q = randomQuantizedModel({ seed: 4, inputSize: 2, units: 3, cell: 'peephole' });
    q.layers[0].peepholeShift = 0;
    expect(userError(() => encodeQuantizedModel(q))).toBe(
      'cannot encode quantized model: layers[0].peepholeShift is 0; expected an integer in 1..31',
    );
  });
});

describe('format versions', () => {
  it('reads a format 1 file (one layer in `recurrent`) as a one-layer model, both kinds', () => {
    for (const [model, encode, type] of [
      [randomFloatModel({ seed: 6, inputSize: 2, units: 3, cell: 'peephole' }), encodeFloatModel, FloatModelPb],
      [randomQuantizedModel({ seed: 6, inputSize: 2, units: 3, cell: 'gru-reset-after' }), encodeQuantizedModel, QuantizedModelPb],
    ] as const) {
      const env = Artifact.toObject(Artifact.decode((encode as (m: typeof model) => Uint8Array)(model)));
      const o = type.toObject(type.decode(env.payload), { defaults: true, arrays: true });
      expect(o.layers.length).toBe(1);
      o.recurrent = o.layers[0];
      o.layers = [];
      const payload = type.encode(type.fromObject(o)).finish();
      const sha256 = createHash('sha256').update(payload).digest();
      const v1 = Artifact.encode({ magic: 'lstm-mcu', formatVersion: 1, kind: env.kind, payload, sha256 }).finish();
      expect(decodeArtifact(v1, 'v1.pb').model).toStrictEqual(model);
    }
  });

  it('writes format 2 with every layer of a stack, and reads it back exactly', () => {
    const q = randomQuantizedModel({ seed: 7, inputSize: 2, units: 5, cell: 'lstm', stacked: [{ cell: 'rnn', units: 3 }] });
    const bytes = encodeQuantizedModel(q);
    expect(Artifact.toObject(Artifact.decode(bytes)).formatVersion).toBe(2);
    expect(decodeArtifact(bytes, 'q.pb').model).toStrictEqual(q);
  });

  it('refuses a stack whose layer sizes do not chain', () => {
    const f = randomFloatModel({ seed: 7, inputSize: 2, units: 5, stacked: [{ cell: 'gru', units: 3 }] });
    f.layers[1] = { ...f.layers[1], inputSize: 4 };
    expect(userError(() => encodeFloatModel(f))).toBe(
      'cannot encode float model: layers[1].inputSize is 4; expected 5 (the output of layers[0])',
    );
  });
});

describe('head activation', () => {
  it('a file without one (written before the field) reads as its task implies: linear or softmax', () => {
    for (const [task, expected] of [
      ['regression', 'linear'],
      ['classification', 'softmax'],
    ] as const) {
      const model = makeFloatModel({ seed: 3, inputSize: 2, units: 3, outputSize: 2, task });
      const bytes = forgeEdited(encodeFloatModel(model), FloatModelPb, (o) => (o.headActivation = ''));
      expect((decodeArtifact(bytes, 'old.pb').model as typeof model).headActivation).toBe(expected);
    }
  });

  it('refuses a head that does not fit the task or the outputs', () => {
    const regression = makeFloatModel({ seed: 3, inputSize: 2, units: 3, outputSize: 1 });
    expect(userError(() => encodeFloatModel({ ...regression, headActivation: 'sigmoid' }))).toBe(
      'cannot encode float model: headActivation is "sigmoid"; expected linear for regression',
    );
    const classes = makeFloatModel({ seed: 3, inputSize: 2, units: 3, outputSize: 3, task: 'classification' });
    expect(userError(() => encodeFloatModel({ ...classes, headActivation: 'sigmoid' }))).toBe(
      'cannot encode float model: classLabels has 3 values; expected 2 (two classes for a sigmoid head)',
    );
  });
});

describe('reverse layers', () => {
  const spec = {
    seed: 21,
    inputSize: 2,
    units: 4,
    window: 5,
    cell: 'gru' as const,
    reverse: true,
    stacked: [{ cell: 'lstm' as const, units: 3 }],
  };
  it('round-trip both kinds with the flag on the layer, and without it on the others', () => {
    const f = randomFloatModel(spec);
    const back = decodeArtifact(encodeFloatModel(f), 'f.pb').model;
    expect(back).toStrictEqual(f);
    const q = randomQuantizedModel(spec);
    const qBack = decodeArtifact(encodeQuantizedModel(q), 'q.pb').model as typeof q;
    expect(qBack).toStrictEqual(q);
    expect(qBack.layers.map((l) => l.reverse === true)).toEqual([true, false]);
  });

  it('refuses a layer that is both reverse and bidirectional, and a reverse model that is not many-to-one', () => {
    const f = randomFloatModel({ ...spec, stacked: [] });
    const both = { ...f, layers: [{ ...f.layers[0], backward: { ...f.layers[0], reverse: undefined }, merge: 'concat' as const }] };
    expect(userError(() => encodeFloatModel(both))).toBe(
      'cannot encode float model: layers[0] is both bidirectional and reverse; a reverse layer has one direction',
    );
    expect(userError(() => encodeFloatModel({ ...f, sequence: 'many-to-many' }))).toMatch(
      /sequence many-to-many needs a streaming model; bidirectional and reverse layers read the whole window/,
    );
  });
});

describe("a bidirectional top layer's readout", () => {
  const spec = {
    seed: 22,
    inputSize: 2,
    units: 3,
    window: 5,
    cell: 'lstm' as const,
    bidirectional: 'concat' as const,
    stacked: [{ cell: 'gru' as const, units: 4, bidirectional: 'sum' as const }],
  };
  it("round-trips 'last-step' on the top layer, both kinds", () => {
    const f = randomFloatModel({ ...spec, readout: 'last-step' });
    expect(decodeArtifact(encodeFloatModel(f), 'f.pb').model).toStrictEqual(f);
    const q = randomQuantizedModel({ ...spec, readout: 'last-step' });
    const qBack = decodeArtifact(encodeQuantizedModel(q), 'q.pb').model as typeof q;
    expect(qBack).toStrictEqual(q);
    expect(qBack.layers.map((l) => l.readout)).toEqual([undefined, 'last-step']);
  });

  it("an artifact without one (as written before readouts) reads as 'final-states'", () => {
    const q = randomQuantizedModel(spec);
    const back = decodeArtifact(encodeQuantizedModel(q), 'q.pb').model as typeof q;
    expect(back.layers.map((l) => 'readout' in l)).toEqual([false, false]);
    expect(back.layers.map(readoutOf)).toEqual(['final-states', 'final-states']);
  });

  it('refuses a readout on a layer below the top, on a forward top layer, and an unknown one', () => {
    const f = randomFloatModel(spec);
    const [below, top] = f.layers;
    expect(userError(() => encodeFloatModel({ ...f, layers: [{ ...below, readout: 'last-step' }, top] }))).toBe(
      'cannot encode float model: layers[0].readout is set; only a bidirectional top layer has one',
    );
    const forward = randomFloatModel({ ...spec, stacked: [{ cell: 'gru', units: 4 }] });
    const { layers } = forward;
    expect(userError(() => encodeFloatModel({ ...forward, layers: [layers[0], { ...layers[1], readout: 'last-step' }] }))).toBe(
      'cannot encode float model: layers[1].readout is set; only a bidirectional top layer has one',
    );
    const unknown = { ...top, readout: 'middle' as unknown as 'last-step' };
    expect(userError(() => encodeFloatModel({ ...f, layers: [below, unknown] }))).toBe(
      'cannot encode float model: layers[1].readout is "middle"; expected one of final-states, last-step',
    );
  });
});
