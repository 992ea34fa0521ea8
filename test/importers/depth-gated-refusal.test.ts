/**
 * Neither Keras nor ONNX has a depth-gated LSTM: a TensorFlow.js layers model
 * holding lstm-mcu's own depth-gated layer is refused in one line naming the layer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTfjsLayers } from '../../importers/tfjs-import.ts';
import { depthGatedImportRefusal } from '../../importers/depth-gated-refusal.ts';
import { UserError } from '../../core/errors.ts';

describe('importing a depth-gated LSTM', () => {
  it('names only depth-gated layers and operators', () => {
    expect(depthGatedImportRefusal('LSTM')).toBeUndefined();
    expect(depthGatedImportRefusal('GRU')).toBeUndefined();
    expect(depthGatedImportRefusal('LstmMcuDepthGatedLSTMCellRNN')).toMatch(/no Keras or ONNX form/);
    expect(depthGatedImportRefusal('DepthGatedLSTM')).toMatch(/train it with --cell depth-gated/);
  });

  it('a layers model with lstm-mcu depth-gated layer is refused in one line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depth-gated-import-'));
    const file = path.join(dir, 'model.json');
    const layer = { class_name: 'LstmMcuDepthGatedLSTMCellRNN', config: { name: 'dg', units: 4, batch_input_shape: [null, 8, 2] } };
    fs.writeFileSync(
      file,
      JSON.stringify({
        modelTopology: { class_name: 'Sequential', config: { layers: [layer] } },
        weightsManifest: [{ paths: [], weights: [] }],
      }),
    );
    try {
      expect(() => importTfjsLayers(file)).toThrow(UserError);
      expect(() => importTfjsLayers(file)).toThrow(
        `${file}: layer 0 'dg' (LstmMcuDepthGatedLSTMCellRNN): a depth-gated LSTM has no Keras or ONNX form to import`,
      );
      let message = '';
      try {
        importTfjsLayers(file);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message.split('\n')).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
