/**
 * The idioms around a recurrent layer, as PyTorch exports them with its
 * defaults (test/fixtures/onnx-idioms, with PyTorch's outputs): the ones
 * lstm-mcu reads reproduce PyTorch within 1e-5 and (most) run the int8 path
 * with exact parity, saying how they were read; the others are refused in one
 * line naming the node and the cause. The formats people try first are
 * refused with how to convert them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOnnx } from '../../importers/onnx-model.ts';
import { importOnnx, type ImportedNetwork } from '../../importers/onnx-import.ts';
import { readFloatModel } from '../../core/artifact.ts';
import { predict, refuseImport, throughPipeline, worst, writeSeriesCsv } from './import-helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx-idioms/', import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, `${name}.onnx`);
const read = (name: string) => importOnnx(readOnnx(fixture(name)), name);

/** PyTorch's outputs as the network gives them: the graph's own normalization first; LogSoftmax as the log of softmax. */
function outputsAsPyTorch(net: ImportedNetwork, inputs: number[][][]): number[][] {
  const n = net.inputNorm;
  const x = n ? inputs.map((seq) => seq.map((row) => row.map((v, f) => (v - n.mean[f]) / n.std[f]))) : inputs;
  const y = predict(net, x);
  return net.logSoftmax ? y.map((row) => row.map(Math.log)) : y;
}

let dir: string;
let csv: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-idioms-'));
  csv = writeSeriesCsv(dir);
});

describe('idioms read where the computation is exact', () => {
  const read8: [string, (net: ImportedNetwork) => void][] = [
    ['logits-classifier', (net) => expect(net.headActivation).toBe('linear')],
    ['squeeze-sigmoid', (net) => expect(net.headActivation).toBe('sigmoid')],
    ['view', (net) => expect(net.head.outputSize).toBe(1)],
    ['univariate-unsqueeze', (net) => expect(net.inputSize).toBe(1)],
    ['normalized-input', (net) => expect(net.inputNorm).toMatchObject({ nodes: ['/Sub', '/Div'] })],
    // the Linear(3 -> 4) folded into the LSTM's input weights: it reads the 3 features
    ['first-linear', (net) => expect([net.inputSize, net.layers[0].inputSize, net.inputNorm]).toEqual([3, 3, undefined])],
    ['log-softmax', (net) => expect([net.headActivation, net.logSoftmax]).toEqual(['softmax', true])],
    // y[:, -1, :] of a bidirectional LSTM: the forward final state and the backward state after one step
    ['bidirectional-last-step', (net) => expect([net.layers[0].merge, net.layers[0].readout]).toEqual(['concat', 'last-step'])],
    [
      'opset9',
      (net) => {
        expect(readOnnx(fixture('opset9')).opset).toBe(9);
        expect(net.layers).toHaveLength(1);
      },
    ],
  ];
  for (const [name, shape] of read8) {
    it(`${name}: reproduces PyTorch's outputs within 1e-5`, () => {
      const fx = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
      expect(fx.producedBy).toMatch(/make-onnx-idioms\.py \(PyTorch/);
      const net = read(name);
      shape(net);
      const diff = worst(outputsAsPyTorch(net, fx.inputs), fx.outputs);
      console.log(`import ${name}: largest |difference| from PyTorch ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
    });
  }

  it("bidirectional-last-step: read as the final states (lstm-mcu's other readout), it would not reproduce PyTorch", () => {
    const fx = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'bidirectional-last-step.json'), 'utf8'));
    const net = read('bidirectional-last-step');
    const finalStates = { ...net, layers: net.layers.map(({ readout: _, ...l }) => l) };
    const diff = worst(outputsAsPyTorch(finalStates, fx.inputs), fx.outputs);
    console.log(`import bidirectional-last-step read as final states: largest |difference| from PyTorch ${diff.toExponential(2)}`);
    expect(diff).toBeGreaterThan(1e-2);
  });

  const pipelines: [string, string[], RegExp | undefined][] = [
    [
      'logits-classifier',
      ['--features', 'x0,x1,x2', '--label', 'three', '--horizon', '0'],
      /head +the graph ends in logits \(no Softmax\): read as a softmax classifier, the same class \(the largest logit\); the device returns logits/,
    ],
    ['squeeze-sigmoid', ['--features', 'x0,x1,x2', '--label', 'two', '--horizon', '0'], undefined],
    ['bidirectional-last-step', ['--features', 'x0,x1,x2', '--target', 'x1'], /bidirectional-concat LSTM\(4\) read last-step/],
    ['univariate-unsqueeze', ['--features', 'x0', '--target', 'x0'], undefined],
    [
      'normalized-input',
      ['--features', 'x0,x1,x2', '--target', 'x1'],
      /input +the graph normalizes its input \(\/Sub, \/Div\): mean 0\.1, -0\.2, 0\.3, std 0\.5, 2, 1\.5, used instead of --data's/,
    ],
    ['first-linear', ['--features', 'x0,x1,x2', '--target', 'x1,x2'], undefined],
    [
      'log-softmax',
      ['--features', 'x0,x1,x2', '--label', 'three', '--horizon', '0'],
      /head +the graph ends in LogSoftmax: read as softmax, the same class \(the largest\); the device returns logits, not log-probabilities/,
    ],
  ];
  for (const [name, args, says] of pipelines) {
    it(`${name}: import${says ? ' (saying how it was read)' : ''}, quantize within budget, codegen, exact parity`, async () => {
      const out = path.join(dir, name);
      // the new readout's generated code also on the real engines (when set)
      const realEngines = name === 'bidirectional-last-step';
      const { stdout, metrics, parityEngines } = await throughPipeline(fixture(name), csv, ['--window', '7', ...args], out, dir, {
        realEngines,
      });
      if (says) expect(stdout).toMatch(says);
      console.log(
        `import ${name}: test ${metrics.name} float ${metrics.float.toFixed(4)}, int8 ${metrics.int8.toFixed(4)}; exact on ${parityEngines.join(', ')}`,
      );
      if (realEngines && process.env.ESPRUINO_BIN) expect(parityEngines).toContain('espruino');
      if (realEngines && process.env.JERRY_BIN) expect(parityEngines).toContain('jerry');
      if (name === 'normalized-input') {
        // the graph's normalization (its float32 buffers, exactly) is the model's: quantize rebuilds the windows with it
        expect(readFloatModel(path.join(out, 'model.float.pb')).model.inputNorm).toEqual({
          mean: [0.1, -0.2, 0.3].map(Math.fround),
          std: [0.5, 2, 1.5],
        });
      }
    }, 300_000);
  }
});

describe('idioms refused in one line naming the node and the cause', () => {
  const args = ['--features', 'x0,x1,x2', '--target', 'x1'];
  const cases: [string, RegExp, string[]?][] = [
    [
      'first-linear-relu',
      /node '\/Relu' \(Relu\): a nonlinearity on the model input before the first recurrent layer \(after \/first\/MatMul, \/first\/Add\): lstm-mcu folds only affine maps there/,
    ],
    [
      'learned-h0',
      /node '\/rnn\/GRU' \(GRU\): input initial_h must be zero \(or absent\), here it is the parameter 'h0' \(a learned initial state\): the device starts every window from a zero state/,
    ],
    [
      'no-constant-folding',
      /node '\/rnn\/Slice' \(Slice\): slices the weight tensor 'rnn\.weight_ih_l0': .*do_constant_folding=False.*; export with do_constant_folding=True \(the default\)/,
    ],
    [
      'normalized-input',
      /the model normalizes its input itself \(\/Sub, \/Div\); leave out --input-mean \/ --input-std/,
      [...args, '--input-mean', '0,0,0', '--input-std', '1,1,1'],
    ],
  ];
  for (const [name, message, extra] of cases) {
    it(`${name}${extra ? ' (with --input-mean)' : ''}`, async () => {
      await refuseImport(fixture(name), csv, extra ?? args, message, dir);
    });
  }
});

describe('formats people try first: one line on how to bring them here', () => {
  const cases: [string, RegExp][] = [
    ['model.pt', /model\.pt: a PyTorch checkpoint.*torch\.onnx\.export\(model, x, "model\.onnx"\)/],
    ['model.pth', /model\.pth: a PyTorch checkpoint/],
    ['model.h5', /model\.h5: a Keras model file: convert it with tensorflowjs_converter --input_format keras/],
    ['model.keras', /model\.keras: a Keras model file/],
    ['model.tflite', /model\.tflite: a TensorFlow Lite model: import the Keras model it was converted from/],
    ['saved', /saved: a TensorFlow SavedModel: convert its Keras model with tensorflowjs_converter --input_format keras_saved_model/],
    ['graph/model.json', /model\.json: a TensorFlow\.js graph model .*lstm-mcu reads layers models/],
  ];
  for (const [name, message] of cases) {
    it(name, async () => {
      const file = path.join(dir, 'formats', name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (name === 'saved') {
        fs.mkdirSync(file, { recursive: true });
        fs.writeFileSync(path.join(file, 'saved_model.pb'), 'not read');
      } else if (name.endsWith('.json'))
        fs.writeFileSync(file, JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
      else fs.writeFileSync(file, 'not read');
      await refuseImport(file, csv, ['--features', 'x0,x1,x2', '--target', 'x1'], message, dir);
    });
  }
});
