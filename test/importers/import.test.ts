/**
 * Models trained elsewhere: ONNX files exported by PyTorch (test/fixtures/onnx,
 * with PyTorch's own outputs) and a tfjs-layers model saved by TensorFlow.js.
 * The float import reproduces the framework's outputs within 1e-5; imported
 * models go through quantize, codegen and simulate with exact parity and the
 * int8 budget; malformed or unsupported models fail with one line naming the
 * node, operator and attribute, and write nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOnnx } from '../../importers/onnx-model.ts';
import { importOnnx, type ImportedNetwork } from '../../importers/onnx-import.ts';
import { importTfjsLayers } from '../../importers/tfjs-import.ts';
import { floatPredictWindow } from '../../reference/float-reference.ts';
import { runCli } from '../helpers/run-cli.ts';
import { predict, refuseImport, SHORT_PARITY, worst, writeSeriesCsv } from './import-helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const onnxFixtures = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.onnx'))
  .map((f) => f.replace(/\.onnx$/, ''));

describe('ONNX models exported by PyTorch, and LSTM graphs PyTorch never exports', () => {
  it('the fixtures cover LSTM, GRU and RNN, forward, reverse and bidirectional, stacked', () => {
    expect(onnxFixtures.length).toBeGreaterThanOrEqual(10);
    const kinds = onnxFixtures.map((f) => importOnnx(readOnnx(path.join(FIXTURES, `${f}.onnx`)), f));
    for (const cell of ['lstm', 'gru-reset-after', 'rnn'])
      expect(
        kinds.some((n) => n.layers.length > 1 && n.layers[0].cell === cell),
        `stacked ${cell}`,
      ).toBe(true);
    expect(new Set(kinds.flatMap((n) => n.layers.map((l) => l.cell)))).toEqual(
      new Set(['lstm', 'peephole', 'cifg', 'gru-reset-after', 'rnn']),
    );
    expect(kinds.some((n) => n.layers.some((l) => l.backward))).toBe(true);
    expect(kinds.some((n) => n.layers.length > 1 && n.layers.every((l) => l.backward))).toBe(true);
    // direction = reverse below a forward layer, and on top (the head reads its final state)
    expect(kinds.some((n) => n.layers.length > 1 && n.layers[0].reverse && !n.layers[1].reverse)).toBe(true);
    expect(kinds.some((n) => n.layers.length > 1 && !n.layers[0].reverse && n.layers[n.layers.length - 1].reverse)).toBe(true);
    expect(kinds.some((n) => n.inputLayout === 'steps-first')).toBe(true);
  });

  it("PyTorch's default exports (no dynamic_axes) build their zero initial states with Expand, at opsets 11 and 13 to 17", () => {
    const defaults = onnxFixtures.filter((f) => f.includes('default-export'));
    const opsets = defaults.map((f) => readOnnx(path.join(FIXTURES, `${f}.onnx`)).opset);
    expect(new Set(opsets)).toEqual(new Set([11, 13, 15, 16, 17]));
    for (const f of defaults) {
      const g = readOnnx(path.join(FIXTURES, `${f}.onnx`));
      const recurrent = g.nodes.filter((n) => ['LSTM', 'GRU'].includes(n.opType));
      const expanded = new Set(g.nodes.filter((n) => n.opType === 'Expand').map((n) => n.outputs[0]));
      // every initial state (inputs 5 and 6) is an Expand output
      expect(
        recurrent.flatMap((n) => n.inputs.slice(5)).every((name) => expanded.has(name)),
        f,
      ).toBe(true);
      expect(recurrent.length, f).toBeGreaterThan(0);
    }
  });

  for (const name of onnxFixtures) {
    it(`${name}: the float import reproduces the outputs of ${/peephole|input-forget|reverse/.test(name) ? 'the ONNX equations (numpy)' : 'PyTorch'} within 1e-5`, () => {
      const fx = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
      expect(fx.producedBy).toMatch(/make-onnx-fixtures\.py \(PyTorch|make-onnx-graphs\.py \(onnx\.helper .*numpy reference/);
      const net = importOnnx(readOnnx(path.join(FIXTURES, `${name}.onnx`)), name);
      const diff = worst(predict(net, fx.inputs), fx.outputs);
      console.log(`import ${name}: largest |difference| from the stored outputs ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
    });
  }
});

let dir: string;
let csv: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-import-'));
  csv = writeSeriesCsv(dir);
});

describe('imported models through quantize, codegen and simulate', () => {
  const cases: [string, string[]][] = [
    ['lstm-3x8', ['--features', 'x0,x1,x2', '--target', 'x1']],
    ['lstm-bidirectional-2-layers', ['--features', 'x0,x1,x2', '--target', 'x1,x2']],
    ['gru-seq-first-sigmoid', ['--features', 'x0,x1,x2', '--label', 'two', '--horizon', '0']],
    ['rnn-2-layers-softmax', ['--features', 'x0,x1', '--label', 'three', '--horizon', '0']],
    ['gru-2-layers', ['--features', 'x0,x1,x2', '--target', 'x0']],
    ['rnn-bidirectional', ['--features', 'x0,x1,x2', '--target', 'x2']],
    ['lstm-peephole', ['--features', 'x0,x1,x2', '--target', 'x1,x2']],
    ['lstm-input-forget-layout-1', ['--features', 'x0,x1,x2', '--target', 'x0,x2']],
    ['lstm-reverse-then-forward', ['--features', 'x0,x1,x2', '--target', 'x1,x2']],
    ['rnn-then-gru-reverse', ['--features', 'x0,x1,x2', '--target', 'x0,x1']],
    // PyTorch's default export (no dynamic_axes): zero initial states as an Expand of a zero constant
    ['lstm-default-export-opset11', ['--features', 'x0,x1,x2', '--target', 'x1']],
    ['gru-default-export-opset13-seq-first', ['--features', 'x0,x1,x2', '--target', 'x0']],
    ['lstm-default-export-opset15-seq-first', ['--features', 'x0,x1,x2', '--target', 'x1,x2']],
    ['gru-default-export-opset17', ['--features', 'x0,x1', '--target', 'x1']],
    ['lstm-default-export-opset16-bidirectional', ['--features', 'x0,x1,x2', '--target', 'x2']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: import, quantize (int8 within budget), codegen, exact parity`, async () => {
      const out = path.join(dir, name);
      const imp = await runCli(
        [
          'import',
          path.join(FIXTURES, `${name}.onnx`),
          '--data',
          csv,
          '--window',
          '7',
          ...args,
          '--out',
          path.join(out, 'model.float.pb'),
          '--json',
        ],
        dir,
      );
      expect(imp.code, imp.stderr).toBe(0);
      expect(imp.lastJson()).toMatchObject({ command: 'import', format: 'onnx' });
      const q = await runCli(
        [
          'quantize',
          path.join(out, 'model.float.pb'),
          '--out',
          path.join(out, 'model.q.pb'),
          '--report',
          path.join(out, 'report.json'),
          '--json',
        ],
        dir,
      );
      expect(q.code, q.stderr).toBe(0);
      const m = q.lastJson().metrics;
      console.log(
        `import ${name}: test ${m.name} float ${m.float.toFixed(4)}, int8 ${m.int8.toFixed(4)} (${(100 * m.relativeChange).toFixed(2)}%)`,
      );
      if (m.name === 'rmse') expect(Math.abs(m.relativeChange)).toBeLessThan(0.03);
      else expect(m.float - m.int8).toBeLessThanOrEqual(0.03);
      const c = await runCli(['codegen', path.join(out, 'model.q.pb'), '--out-dir', out], dir);
      expect(c.code, c.stderr).toBe(0);
      // every engine found (Espruino and JerryScript too when set), on fewer windows than the default: window models are slow on Espruino
      const s = await runCli(
        [
          'simulate',
          path.join(out, 'model.q.pb'),
          '--code',
          `${path.join(out, 'model.espruino.js')},${path.join(out, 'model.es5.js')}`,
          ...SHORT_PARITY,
          '--json',
        ],
        dir,
      );
      expect(s.code, s.stderr).toBe(0);
      expect(s.lastJson().parity.mismatches).toBe(0);
    }, 300_000);
  }

  it('the normalization the model was trained with can be given on the command line', async () => {
    const out = path.join(dir, 'given-norm.float.pb');
    const r = await runCli(
      [
        'import',
        path.join(FIXTURES, 'lstm-3x8.onnx'),
        '--data',
        csv,
        '--features',
        'x0,x1,x2',
        '--target',
        'x1',
        '--window',
        '7',
        '--input-mean',
        '0,0,0',
        '--input-std',
        '1,1,1',
        '--output-mean',
        '0',
        '--output-std',
        '2',
        '--out',
        out,
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const { readFloatModel } = await import('../../core/artifact.ts');
    const { model } = readFloatModel(out);
    expect(model.inputNorm).toEqual({ mean: [0, 0, 0], std: [1, 1, 1] });
    expect(model.outputNorm).toEqual({ mean: [0], std: [2] });
  });
});

/** The fixture, decoded, changed by `edit`, encoded again into a temporary file. */
function edited(name: string, edit: (m: any) => void): string {
  const root = protobuf.loadSync(fileURLToPath(new URL('../../importers/onnx.proto', import.meta.url)));
  const T = root.lookupType('onnx.ModelProto');
  const m = T.decode(fs.readFileSync(path.join(FIXTURES, `${name}.onnx`))) as any;
  edit(m);
  const file = path.join(dir, `${name}-${Math.random().toString(36).slice(2)}.onnx`);
  fs.writeFileSync(file, T.encode(m).finish());
  return file;
}

describe('malformed or unsupported models: one line, exit 1, no file', () => {
  const refuse = (file: string, message: RegExp, extra: string[] = ['--features', 'x0,x1,x2', '--target', 'x1']) =>
    refuseImport(file, csv, extra, message, dir);
  const lstmNode = (m: any) => m.graph.node.find((n: any) => n.opType === 'LSTM');

  it('a file that is not ONNX', async () => {
    const f = path.join(dir, 'garbage.onnx');
    fs.writeFileSync(f, 'this is not a protobuf');
    await refuse(f, /garbage\.onnx: not an ONNX model/);
  });
  it('an operator it does not know', async () => {
    await refuse(
      edited('lstm-3x8', (m) => (m.graph.node.find((n: any) => n.opType === 'Gemm').opType = 'LpNormalization')),
      /node '\/head\/Gemm' \(LpNormalization\): this operator is not supported/,
    );
  });
  it('an LSTM attribute it does not run (clip)', async () => {
    await refuse(
      edited('lstm-3x8', (m) => lstmNode(m).attribute.push({ name: 'clip', type: 1, f: 3 })),
      /node '\/rnn\/LSTM' \(LSTM\): attribute 'clip' is not supported/,
    );
  });
  it('a head that reads the last step of a reverse sequence (its layer has read one step there)', async () => {
    await refuse(
      edited('lstm-3x8', (m) => lstmNode(m).attribute.push({ name: 'direction', type: 3, s: Buffer.from('reverse') })),
      /node '\/Gather' \(Gather\): takes the last step of a reverse layer's output sequence, which has read one step only; use its final state/,
    );
  });
  it('a direction ONNX does not have', async () => {
    await refuse(
      edited('lstm-3x8', (m) => lstmNode(m).attribute.push({ name: 'direction', type: 3, s: Buffer.from('backwards') })),
      /node '\/rnn\/LSTM' \(LSTM\): direction 'backwards' is not an ONNX direction/,
    );
  });
  it('activations other than the defaults', async () => {
    await refuse(
      edited('lstm-3x8', (m) =>
        lstmNode(m).attribute.push({
          name: 'activations',
          type: 8,
          strings: [Buffer.from('Relu'), Buffer.from('Tanh'), Buffer.from('Tanh')],
        }),
      ),
      /attribute 'activations' = \[Relu, Tanh, Tanh\]: only the defaults/,
    );
  });
  it('a non-zero initial state', async () => {
    await refuse(
      edited('lstm-3x8', (m) => {
        const value = m.graph.node.find((n: any) => n.opType === 'ConstantOfShape').attribute[0].t;
        value.rawData = Buffer.from(new Float32Array([0.5]).buffer);
        value.floatData = [];
      }),
      /input initial_h must be zero/,
    );
  });
  it('an initial state expanded from a constant that is not zero', async () => {
    await refuse(
      edited('lstm-default-export-opset11', (m) => {
        const expand = m.graph.node.find((n: any) => n.opType === 'Expand');
        const source = m.graph.node.find((n: any) => n.output[0] === expand.input[0]).attribute[0].t;
        source.rawData = Buffer.from(new Float32Array(source.dims.reduce((a: number, b: any) => a * Number(b), 1)).fill(0.25).buffer);
      }),
      /node '\/rnn\/LSTM' \(LSTM\): input initial_h must be zero/,
    );
  });
  it('an initial state expanded from a constant of several values (as a learned one is)', async () => {
    await refuse(
      edited('lstm-default-export-opset11', (m) => {
        const expand = m.graph.node.find((n: any) => n.opType === 'Expand');
        const source = m.graph.node.find((n: any) => n.output[0] === expand.input[0]).attribute[0].t;
        const values = new Float32Array(source.dims.reduce((a: number, b: any) => a * Number(b), 1));
        values[0] = 1;
        source.rawData = Buffer.from(values.buffer);
      }),
      /node '\/rnn\/LSTM' \(LSTM\): input initial_h must be zero \(or absent\), here it is the parameter '\/rnn\/Constant_output_0'/,
    );
  });
  it('an Expand of something other than a constant', async () => {
    await refuse(
      edited('lstm-default-export-opset11', (m) => {
        m.graph.node.find((n: any) => n.opType === 'Expand').input[0] = m.graph.input[0].name;
      }),
      /node '\/rnn\/Expand' \(Expand\): is only supported to broadcast a constant \(an initial state\)/,
    );
  });
  it('a head that reads the last step of a bidirectional layer below the top', async () => {
    // the reshaped two-direction output of layer 0 goes to the head's Concat instead of a final state
    await refuse(
      edited('lstm-bidirectional-2-layers', (m) => {
        const gather = m.graph.node.find((n: any) => n.opType === 'Gather' && n.output[0] === '/Gather_1_output_0');
        gather.input[0] = '/rnn/Reshape_output_0';
      }),
      /node '\/Concat' \(Concat\): concatenates a bidirectional layer's last step \(y\[:, -1, :\]\) with another vector; the head reads it alone/,
    );
  });
  it('a model whose inputs do not match --features', async () => {
    await refuse(path.join(FIXTURES, 'lstm-3x8.onnx'), /reads 3 features per step, --features names 2/, [
      '--features',
      'x0,x1',
      '--target',
      'x1',
    ]);
  });
  it('a classifier imported as a regression', async () => {
    await refuse(path.join(FIXTURES, 'gru-seq-first-sigmoid.onnx'), /the head ends in sigmoid, which is a classifier: pass --label/);
  });
});

/** Save a tfjs-layers model as TensorFlow.js writes one to disk: model.json and weights.bin in `folder`. */
async function saveLayersModel(model: tf.LayersModel, folder: string): Promise<string> {
  fs.mkdirSync(folder, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      fs.writeFileSync(path.join(folder, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      fs.writeFileSync(
        path.join(folder, 'model.json'),
        JSON.stringify({
          modelTopology: a.modelTopology,
          format: a.format,
          generatedBy: a.generatedBy,
          convertedBy: a.convertedBy,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return folder;
}

describe('a tfjs-layers model saved by TensorFlow.js', () => {
  it('imports and reproduces model.predict within 1e-5, then runs the int8 path with exact parity', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential();
    model.add(tf.layers.lstm({ units: 6, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [7, 3] }));
    model.add(
      tf.layers.bidirectional({ layer: tf.layers.gru({ units: 4, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'concat' }),
    );
    model.add(tf.layers.dense({ units: 1 }));
    const saved = await saveLayersModel(model, path.join(dir, 'tfjs'));
    const inputs = Array.from({ length: 4 }, (_, b) =>
      Array.from({ length: 7 }, (_, t) => Array.from({ length: 3 }, (_, f) => Math.sin(b * 3 + t * 0.7 + f))),
    );
    const expected = (model.predict(tf.tensor3d(inputs)) as tf.Tensor).arraySync() as number[][];
    const net = importTfjsLayers(path.join(saved, 'model.json'));
    expect(net.layers.map((l) => `${l.cell}${l.backward ? `/${l.merge}` : ''}`)).toEqual(['lstm', 'gru/concat']);
    expect(worst(predict(net, inputs), expected)).toBeLessThan(1e-5);

    const out = path.join(dir, 'tfjs-out');
    const imp = await runCli(
      [
        'import',
        path.join(saved, 'model.json'),
        '--data',
        csv,
        '--window',
        '7',
        '--features',
        'x0,x1,x2',
        '--target',
        'x2',
        '--out',
        path.join(out, 'model.float.pb'),
        '--json',
      ],
      dir,
    );
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.lastJson()).toMatchObject({ format: 'tfjs-layers' });
    const q = await runCli(
      ['quantize', path.join(out, 'model.float.pb'), '--out', path.join(out, 'model.q.pb'), '--report', path.join(out, 'r.json'), '--json'],
      dir,
    );
    expect(q.code, q.stderr).toBe(0);
    expect(Math.abs(q.lastJson().metrics.relativeChange)).toBeLessThan(0.03);
    const s = await runCli(['simulate', path.join(out, 'model.q.pb'), ...SHORT_PARITY, '--json'], dir);
    expect(s.code, s.stderr).toBe(0);
    expect(s.lastJson().parity.mismatches).toBe(0);
  }, 300_000);
});

describe('tfjs-layers models with go_backwards (each layer above reads a reversed sequence)', () => {
  const rnnOptions = { recurrentActivation: 'sigmoid' as const };
  const direction = (l: ImportedNetwork['layers'][number]) => `${l.reverse ? 'reverse ' : ''}${l.cell}${l.backward ? `/${l.merge}` : ''}`;
  const cases: [string, () => tf.layers.Layer[], string[]][] = [
    [
      // reverse; a Bidirectional over the reversed sequence (halves exchanged); go_backwards again reads forward
      'LSTM(go_backwards) -> Bidirectional(GRU, concat) -> SimpleRNN(go_backwards)',
      () => [
        tf.layers.lstm({ units: 5, returnSequences: true, goBackwards: true, ...rnnOptions, inputShape: [7, 3] }),
        tf.layers.bidirectional({
          layer: tf.layers.gru({ units: 4, returnSequences: true, ...rnnOptions }) as tf.RNN,
          mergeMode: 'concat',
        }),
        tf.layers.simpleRNN({ units: 3, goBackwards: true }),
      ],
      ['reverse lstm', 'gru/concat', 'rnn'],
    ],
    [
      // a reverse layer on top: the head reads its h after the first step
      'GRU -> LSTM(go_backwards)',
      () => [
        tf.layers.gru({ units: 4, returnSequences: true, ...rnnOptions, inputShape: [7, 3] }),
        tf.layers.lstm({ units: 5, goBackwards: true, ...rnnOptions }),
      ],
      ['gru', 'reverse lstm'],
    ],
    [
      // the head reads a Bidirectional over a reversed sequence (its rows exchanged)
      'SimpleRNN(go_backwards) -> Bidirectional(LSTM, concat)',
      () => [
        tf.layers.simpleRNN({ units: 4, returnSequences: true, goBackwards: true, inputShape: [7, 3] }),
        tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, ...rnnOptions }) as tf.RNN, mergeMode: 'concat' }),
      ],
      ['reverse rnn', 'lstm/concat'],
    ],
    [
      'LSTM(go_backwards) -> Bidirectional(SimpleRNN, sum) -> GRU',
      () => [
        tf.layers.lstm({ units: 4, returnSequences: true, goBackwards: true, ...rnnOptions, inputShape: [7, 3] }),
        tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 3, returnSequences: true }) as tf.RNN, mergeMode: 'sum' }),
        tf.layers.gru({ units: 3, ...rnnOptions }),
      ],
      ['reverse lstm', 'rnn/sum', 'reverse gru'],
    ],
  ];
  const saved = new Map<string, string>();
  for (const [name, layers, directions] of cases) {
    it(`${name}: reads as ${directions.join(' -> ')} and reproduces model.predict within 1e-5`, async () => {
      await tf.setBackend('cpu');
      const model = tf.sequential();
      for (const layer of layers()) model.add(layer);
      model.add(tf.layers.dense({ units: 2 }));
      // weights away from Glorot's small values, so that a wrong order or direction shows
      model.setWeights(model.getWeights().map((w, k) => tf.tidy(() => tf.randomUniform(w.shape, -0.7, 0.7, 'float32', 40 + k))));
      const folder = await saveLayersModel(model, path.join(dir, `tfjs-backwards-${saved.size}`));
      saved.set(name, folder);
      const inputs = Array.from({ length: 4 }, (_, b) =>
        Array.from({ length: 7 }, (_, t) => Array.from({ length: 3 }, (_, f) => Math.sin(b * 5 + t * 0.9 + f * 2))),
      );
      const expected = (model.predict(tf.tensor3d(inputs)) as tf.Tensor).arraySync() as number[][];
      const net = importTfjsLayers(path.join(folder, 'model.json'));
      expect(net.layers.map(direction)).toEqual(directions);
      const diff = worst(predict(net, inputs), expected);
      console.log(`import ${name}: largest |difference| from model.predict ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
    });
  }
  it(`${cases[0][0]}: the int8 path with exact parity`, async () => {
    const folder = saved.get(cases[0][0]);
    expect(folder, 'the float case above saves the model').toBeDefined();
    const out = path.join(dir, 'tfjs-backwards-out');
    const imp = await runCli(
      [
        'import',
        path.join(folder!, 'model.json'),
        '--data',
        csv,
        '--window',
        '7',
        '--features',
        'x0,x1,x2',
        '--target',
        'x0,x2',
        '--out',
        path.join(out, 'model.float.pb'),
      ],
      dir,
    );
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/reverse LSTM\(5\) -> bidirectional-concat GRU\(4\) -> RNN\(3\)/);
    const q = await runCli(
      ['quantize', path.join(out, 'model.float.pb'), '--out', path.join(out, 'model.q.pb'), '--report', path.join(out, 'r.json'), '--json'],
      dir,
    );
    expect(q.code, q.stderr).toBe(0);
    const m = q.lastJson().metrics;
    console.log(
      `import ${cases[0][0]}: test rmse float ${m.float.toFixed(4)}, int8 ${m.int8.toFixed(4)} (${(100 * m.relativeChange).toFixed(2)}%)`,
    );
    expect(Math.abs(m.relativeChange)).toBeLessThan(0.03);
    const c = await runCli(['codegen', path.join(out, 'model.q.pb'), '--out-dir', out], dir);
    expect(c.code, c.stderr).toBe(0);
    const s = await runCli(
      [
        'simulate',
        path.join(out, 'model.q.pb'),
        '--code',
        `${path.join(out, 'model.espruino.js')},${path.join(out, 'model.es5.js')}`,
        ...SHORT_PARITY,
        '--json',
      ],
      dir,
    );
    expect(s.code, s.stderr).toBe(0);
    expect(s.lastJson().parity.mismatches).toBe(0);
  }, 300_000);
  it('a Bidirectional around a go_backwards layer is refused', async () => {
    const folder = saved.get(cases[0][0])!;
    const json = fs.readFileSync(path.join(folder, 'model.json'), 'utf8');
    const file = path.join(folder, 'inner-backwards.json');
    // the GRU inside the Bidirectional (the first layer's go_backwards stays)
    const at = json.indexOf('"class_name":"GRU"');
    fs.writeFileSync(file, json.slice(0, at) + json.slice(at).replace('"go_backwards":false', '"go_backwards":true'));
    const out = path.join(dir, 'inner-backwards.pb');
    const r = await runCli(
      ['import', file, '--data', csv, '--window', '7', '--features', 'x0,x1,x2', '--target', 'x0,x2', '--out', out],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/layer 1 '.*' \(Bidirectional\): wraps a layer with go_backwards = true/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('a tfjs-layers model with an Embedding (token ids in, mask_zero)', () => {
  it('reproduces model.predict within 1e-5 (padding steps left out), then the int8 path with exact parity', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential();
    model.add(tf.layers.embedding({ inputDim: 12, outputDim: 4, maskZero: true, inputLength: 7 }));
    model.add(tf.layers.lstm({ units: 5, recurrentActivation: 'sigmoid' }));
    model.add(tf.layers.dense({ units: 1 }));
    const saved = await saveLayersModel(model, path.join(dir, 'tfjs-embedding'));
    // token windows, some padded in front (id 0) as the device sees a short sequence
    const ids = [
      [0, 0, 3, 5, 7, 1, 2],
      [4, 4, 4, 9, 10, 11, 3],
      [0, 0, 0, 0, 0, 6, 8],
      [2, 7, 1, 8, 2, 8, 1],
    ];
    const expected = (model.predict(tf.tensor2d(ids)) as tf.Tensor).arraySync() as number[][];
    const net = importTfjsLayers(path.join(saved, 'model.json'));
    expect(net.embedding).toMatchObject({ vocabularySize: 12, dim: 4 });
    const got = ids.map((row) => {
      const steps = row.filter((id) => id !== 0).flatMap((id) => Array.from(net.embedding!.table.subarray(id * 4, id * 4 + 4)));
      return Array.from(floatPredictWindow(net.layers, net.head, steps, 0, steps.length / 4));
    });
    expect(worst(got, expected)).toBeLessThan(1e-5);

    const tokens = path.join(dir, 'tokens.csv');
    let seed = 3;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const rows = ['event,level'];
    for (let t = 0; t < 400; t++) rows.push(`${Math.floor(rnd() * 12)},${(Math.sin(t / 9) + rnd() * 0.2).toFixed(4)}`);
    fs.writeFileSync(tokens, rows.join('\n') + '\n');
    const out = path.join(dir, 'tfjs-embedding-out');
    const imp = await runCli(
      [
        'import',
        path.join(saved, 'model.json'),
        '--data',
        tokens,
        '--window',
        '7',
        '--features',
        'event',
        '--target',
        'level',
        '--out',
        path.join(out, 'model.float.pb'),
      ],
      dir,
    );
    expect(imp.code, imp.stderr).toBe(0);
    const q = await runCli(
      ['quantize', path.join(out, 'model.float.pb'), '--out', path.join(out, 'model.q.pb'), '--report', path.join(out, 'r.json'), '--json'],
      dir,
    );
    expect(q.code, q.stderr).toBe(0);
    expect(Math.abs(q.lastJson().metrics.relativeChange)).toBeLessThan(0.03);
    const s = await runCli(['simulate', path.join(out, 'model.q.pb'), ...SHORT_PARITY, '--json'], dir);
    expect(s.code, s.stderr).toBe(0);
    expect(s.lastJson().parity.mismatches).toBe(0);
    const noMask = path.join(saved, 'no-mask.json');
    fs.writeFileSync(noMask, fs.readFileSync(path.join(saved, 'model.json'), 'utf8').replace('"mask_zero":true', '"mask_zero":false'));
    const r = await runCli(
      ['import', noMask, '--data', tokens, '--window', '7', '--features', 'event', '--target', 'level', '--out', path.join(out, 'x.pb')],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mask_zero = false: lstm-mcu reads token 0 as padding/);
  }, 300_000);
});
