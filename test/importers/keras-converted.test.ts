/**
 * Keras models converted for TensorFlow.js (test/fixtures/keras, written by
 * make-keras-fixtures.py in the converter's naming, with the outputs of their
 * PyTorch twins): Keras >= 2.2's layer/cell/weight names, Keras 3's indexed
 * names, and a reset_after GRU, which TensorFlow.js cannot build. Each import
 * reproduces the stored outputs within 1e-5; TensorFlow.js' own loader reads
 * the same files to the same outputs; two of them run the int8 path with
 * exact parity.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { importTfjsLayers } from '../../importers/tfjs-import.ts';
import { predict, refuseImport, throughPipeline, worst, writeSeriesCsv } from './import-helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/keras/', import.meta.url));
const fixtures = fs.readdirSync(FIXTURES).filter((f) => fs.existsSync(path.join(FIXTURES, f, 'model.json')));
const expected = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'expected.json'), 'utf8'));
const modelJson = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'model.json'), 'utf8'));

/** The model as TensorFlow.js' loader reads it (tf.loadLayersModel), its weight names as in the file. */
async function tfjsLoaded(json: any, bin: Buffer): Promise<tf.LayersModel> {
  await tf.setBackend('cpu');
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  );
}

let dir: string;
let csv: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-keras-'));
  csv = writeSeriesCsv(dir);
});

describe('Keras models converted for TensorFlow.js', () => {
  it('the fixtures hold Keras >= 2.2 cell names, a Bidirectional, a reset_after GRU and Keras 3 names', () => {
    const names = fixtures.flatMap((f) => modelJson(f).weightsManifest[0].weights.map((w: { name: string }) => w.name));
    expect(names).toContain('lstm/lstm_cell/kernel');
    expect(names).toContain('bidirectional/forward_lstm_1/lstm_cell_2/kernel');
    expect(names).toContain('gru/gru_cell/bias');
    expect(names).toContain('layers/gru/cell/vars/0');
    const cells = fixtures.flatMap((f) => importTfjsLayers(path.join(FIXTURES, f, 'model.json')).layers.map((l) => l.cell));
    expect(cells).toContain('gru-reset-after');
  });

  for (const name of fixtures) {
    it(`${name}: the import reproduces the PyTorch twin's outputs within 1e-5`, () => {
      const fx = expected(name);
      expect(fx.producedBy).toMatch(/make-keras-fixtures\.py \(PyTorch/);
      const net = importTfjsLayers(path.join(FIXTURES, name, 'model.json'));
      const diff = worst(predict(net, fx.inputs), fx.outputs);
      console.log(`import ${name}: largest |difference| from the stored outputs ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
    });
  }

  for (const name of ['keras2-lstm', 'keras2-bidirectional-lstm']) {
    it(`${name}: TensorFlow.js' own loader reads the file's names to the same outputs`, async () => {
      const model = await tfjsLoaded(modelJson(name), fs.readFileSync(path.join(FIXTURES, name, 'group1-shard1of1.bin')));
      const fx = expected(name);
      const got = (model.predict(tf.tensor3d(fx.inputs)) as tf.Tensor).arraySync() as number[][];
      expect(worst(got, fx.outputs)).toBeLessThan(1e-5);
    });
  }

  it("the names tfjs-layers maps for Keras 3 (layer/index, a Bidirectional's backward half counting on) read the same weights", async () => {
    const json = modelJson('keras2-bidirectional-lstm');
    const counts = new Map<string, number>();
    for (const w of json.weightsManifest[0].weights) {
      // bidirectional/forward_lstm_1/lstm_cell_2/kernel -> bidirectional/forward_lstm_1/0; the layer's index counts on
      const parts = w.name.split('/');
      const layer = parts[0];
      const scope = parts.length > 3 ? parts.slice(0, 2).join('/') : layer;
      const index = counts.get(layer) ?? 0;
      counts.set(layer, index + 1);
      w.name = `${scope}/${index}`;
    }
    const folder = path.join(dir, 'keras3-indexed');
    fs.mkdirSync(folder, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'keras2-bidirectional-lstm', 'group1-shard1of1.bin'), path.join(folder, 'group1-shard1of1.bin'));
    fs.writeFileSync(path.join(folder, 'model.json'), JSON.stringify(json));
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toContain('bidirectional/backward_lstm_1/3');
    const fx = expected('keras2-bidirectional-lstm');
    expect(worst(predict(importTfjsLayers(path.join(folder, 'model.json')), fx.inputs), fx.outputs)).toBeLessThan(1e-5);
    // TensorFlow.js reads these names so too
    const model = await tfjsLoaded(json, fs.readFileSync(path.join(folder, 'group1-shard1of1.bin')));
    expect(worst((model.predict(tf.tensor3d(fx.inputs)) as tf.Tensor).arraySync() as number[][], fx.outputs)).toBeLessThan(1e-5);
  });

  it('a weight under none of these names: one line naming it and what the manifest holds', async () => {
    const json = modelJson('keras2-lstm');
    json.weightsManifest[0].weights[0].name = 'lstm/lstm_cell/kernel_renamed';
    const folder = path.join(dir, 'keras-missing');
    fs.mkdirSync(folder, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'keras2-lstm', 'group1-shard1of1.bin'), path.join(folder, 'group1-shard1of1.bin'));
    fs.writeFileSync(path.join(folder, 'model.json'), JSON.stringify(json));
    await refuseImport(
      path.join(folder, 'model.json'),
      csv,
      ['--features', 'x0,x1,x2', '--target', 'x1'],
      /layer 0 'lstm' \(LSTM\): weight 'lstm\/kernel' is not in the weights manifest \(it holds lstm\/lstm_cell\/kernel_renamed, lstm\/lstm_cell\/recurrent_kernel/,
      dir,
    );
  });

  const pipelines: [string, string[]][] = [
    ['keras2-gru-reset-after', ['--features', 'x0,x1,x2', '--label', 'three', '--horizon', '0', '--window', '7']],
    ['keras2-bidirectional-lstm', ['--features', 'x0,x1,x2', '--target', 'x1,x2', '--window', '7']],
  ];
  for (const [name, args] of pipelines) {
    it(`${name}: import, quantize (int8 within budget), codegen, exact parity`, async () => {
      const { importJson, metrics } = await throughPipeline(path.join(FIXTURES, name, 'model.json'), csv, args, path.join(dir, name), dir);
      expect(importJson).toMatchObject({ command: 'import', format: 'tfjs-layers' });
      console.log(`import ${name}: test ${metrics.name} float ${metrics.float.toFixed(4)}, int8 ${metrics.int8.toFixed(4)}`);
    }, 300_000);
  }
});
