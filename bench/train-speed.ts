/**
 * npm run bench (its training part): seconds per epoch of lstm-mcu's trainer
 * against PyTorch on the same model, data, batch size and optimizer, measured
 * in one run, as a ratio. PyTorch runs when /usr/bin/python3 has torch
 * (Debian's python3-torch), on one thread.
 *
 * Configurations (the MNIST example's model and others):
 * - LSTM(32) + Dense(1) on 2,048 windows of 32 steps x 3 features, regression;
 * - LSTM(128) + Dense(10) on 2,048 windows of 28 x 28 (MNIST rows as steps), 10 classes;
 * - GRU(32) as the first, with the reset gate after the recurrent product (PyTorch's GRU).
 * Batch 64, Adam (learning rate 0.005), each epoch also scores 256 validation windows.
 * The first epoch warms up (kernels, memory); the mean of the later ones is reported.
 * lstm-mcu runs twice: with its fused recurrent kernel (what `train` uses for
 * these models) and with TensorFlow.js' own layers (--recurrent-kernel tfjs).
 *
 *   npm run bench:train [-- --epochs 3 --out out/bench-train.json]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { initBackend } from '../trainer/backend.ts';
import { trainLstm, type RecurrentKernel } from '../trainer/train.ts';
import type { Dataset, Split } from '../data/windows.ts';
import { writeFileAtomic } from '../core/write-atomic.ts';
import { denseWindows } from '../data/window-set.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const EPOCHS = Number(arg('epochs', '3'));
const outPath = arg('out', 'out/bench-train.json');
const PYTHON = '/usr/bin/python3';
const N = 2048;
const VALIDATION = 256;
const BATCH = 64;
const LR = 0.005;

interface Config {
  name: string;
  cell: 'lstm' | 'gru-reset-after';
  steps: number;
  features: number;
  units: number;
  task: 'regression' | 'classification';
  outputs: number;
}

const CONFIGS: Config[] = [
  { name: 'LSTM(32), 2048 x 32 x 3, regression', cell: 'lstm', steps: 32, features: 3, units: 32, task: 'regression', outputs: 1 },
  {
    name: 'LSTM(128), 2048 x 28 x 28, 10 classes (MNIST)',
    cell: 'lstm',
    steps: 28,
    features: 28,
    units: 128,
    task: 'classification',
    outputs: 10,
  },
  {
    name: 'GRU(32) reset-after, 2048 x 32 x 3, regression',
    cell: 'gru-reset-after',
    steps: 32,
    features: 3,
    units: 32,
    task: 'regression',
    outputs: 1,
  },
];

/** Seeded normal-ish values (sum of uniforms), the same on every run. */
function noise(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  return Float32Array.from({ length: n }, () => u() + u() + u() - 1.5);
}

function dataset(c: Config): { ds: Dataset; x: Float32Array; y: Float32Array } {
  const x = noise(N * c.steps * c.features, 7);
  const y = c.task === 'regression' ? noise(N, 8) : Float32Array.from({ length: N }, (_, i) => i % c.outputs);
  const split = (lo: number, hi: number): Split => ({
    x: denseWindows(x.subarray(lo * c.steps * c.features, hi * c.steps * c.features), c.steps * c.features),
    y: y.subarray(lo * (c.task === 'regression' ? c.outputs : 1), hi * (c.task === 'regression' ? c.outputs : 1)),
    n: hi - lo,
    rawTargets: new Float64Array(hi - lo),
    endRows: new Uint32Array(hi - lo),
  });
  const ds: Dataset = {
    task: c.task,
    train: split(0, N),
    validation: split(0, VALIDATION),
    test: split(0, VALIDATION),
    inputNorm: { mean: new Array(c.features).fill(0), std: new Array(c.features).fill(1) },
    outputNorm: c.task === 'regression' ? { mean: [0], std: [1] } : { mean: [], std: [] },
    classLabels: c.task === 'classification' ? Array.from({ length: c.outputs }, (_, i) => i) : [],
    featureNames: Array.from({ length: c.features }, (_, i) => `f${i}`),
    targetNames: c.task === 'regression' ? ['y'] : ['label'],
    window: c.steps,
    horizon: c.task === 'regression' ? 1 : 0,
    segments: [],
    targetMode: 'level',
    baseFeatures: [],
    sequence: 'many-to-one',
  };
  return { ds, x, y };
}

async function tfjsEpochs(c: Config, recurrentKernel: RecurrentKernel): Promise<{ backend: string; seconds: number[] }> {
  const { tf, backend } = await initBackend('auto');
  const { ds } = dataset(c);
  const seconds: number[] = [];
  let last = performance.now();
  await trainLstm(ds, {
    cell: c.cell,
    units: c.units,
    epochs: EPOCHS,
    batchSize: BATCH,
    learningRate: LR,
    patience: 0,
    seed: 1,
    tf,
    recurrentKernel,
    onEpoch: () => {
      const now = performance.now();
      seconds.push((now - last) / 1000);
      last = now;
    },
  });
  return { backend, seconds };
}

function torchEpochs(c: Config): Promise<{ torch: string; seconds: number[] } | { skipped: string }> {
  if (!fs.existsSync(PYTHON)) return Promise.resolve({ skipped: `${PYTHON} not found` });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-bench-train-'));
  const { x, y } = dataset(c);
  fs.writeFileSync(path.join(dir, 'x.bin'), Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  fs.writeFileSync(path.join(dir, 'y.bin'), Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  const job = {
    seed: 1,
    cell: c.cell === 'lstm' ? 'lstm' : 'gru',
    n: N,
    steps: c.steps,
    features: c.features,
    outputs: c.outputs,
    units: c.units,
    task: c.task,
    validation: VALIDATION,
    batchSize: BATCH,
    learningRate: LR,
    epochs: EPOCHS,
    x: path.join(dir, 'x.bin'),
    y: path.join(dir, 'y.bin'),
  };
  return new Promise((resolve) => {
    const child = execFile(
      PYTHON,
      [path.join(import.meta.dirname, 'torch-epoch.py')],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        fs.rmSync(dir, { recursive: true, force: true });
        if (error) {
          const why = /No module named 'torch'/.test(stderr)
            ? `${PYTHON} has no torch (apt-get install python3-torch)`
            : (stderr.trim().split('\n').pop() ?? error.message);
          return resolve({ skipped: why });
        }
        const r = JSON.parse(stdout.trim().split('\n').pop()!);
        resolve({ torch: r.torch, seconds: r.epochSeconds });
      },
    );
    child.stdin!.end(JSON.stringify(job));
  });
}

/** Mean seconds of the epochs after the first (the only one when there is one). */
const warm = (s: number[]) => {
  const later = s.length > 1 ? s.slice(1) : s;
  return later.reduce((a, b) => a + b, 0) / later.length;
};

const rows = [];
for (const c of CONFIGS) {
  process.stderr.write(`bench: training ${c.name}, ${EPOCHS} epochs each\n`);
  const ours = await tfjsEpochs(c, 'fused');
  const layers = await tfjsEpochs(c, 'tfjs');
  const theirs = await torchEpochs(c);
  const row = {
    config: c.name,
    backend: ours.backend,
    lstmMcuSecondsPerEpoch: warm(ours.seconds),
    lstmMcuEpochs: ours.seconds,
    tfjsLayersSecondsPerEpoch: warm(layers.seconds),
    tfjsLayersEpochs: layers.seconds,
    ...('skipped' in theirs
      ? { pytorch: `skipped: ${theirs.skipped}` }
      : { pytorch: theirs.torch, pytorchSecondsPerEpoch: warm(theirs.seconds), pytorchEpochs: theirs.seconds }),
  };
  rows.push(row);
}

const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2));
console.log('');
console.log(
  '| configuration | lstm-mcu, fused kernel s/epoch | lstm-mcu, tfjs layers s/epoch | PyTorch 1 thread s/epoch | fused / PyTorch | fused / tfjs layers |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const torch = 'pytorchSecondsPerEpoch' in r ? (r.pytorchSecondsPerEpoch as number) : undefined;
  const ratio = (a: number, b: number | undefined) => (b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
  console.log(
    `| ${r.config} | ${f(r.lstmMcuSecondsPerEpoch)} | ${f(r.tfjsLayersSecondsPerEpoch)} (${r.backend}) | ${torch === undefined ? r.pytorch : f(torch)} | ${ratio(r.lstmMcuSecondsPerEpoch, torch)} | ${ratio(r.lstmMcuSecondsPerEpoch, r.tfjsLayersSecondsPerEpoch)} |`,
  );
}
const machine = `${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}, node ${process.version}`;
console.log(`\n${machine}; batch ${BATCH}, Adam ${LR}, ${EPOCHS} epochs (the first is warm-up); JSON: ${outPath}`);
writeFileAtomic(outPath, JSON.stringify({ machine, date: new Date().toISOString(), batch: BATCH, epochs: EPOCHS, rows }, null, 2) + '\n');
