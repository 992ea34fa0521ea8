/**
 * Small runs for the report's tests, with no training: a random float model
 * on a synthetic dataset, quantized by the pipeline's own quantizeStep, so
 * every figure in them is the one a command would have.
 */
import { buildDataset, type Dataset } from '../../data/windows.ts';
import type { CsvTable } from '../../data/csv.ts';
import { mulberry32 } from '../../core/prng.ts';
import { randomFloatModel } from '../../parity/random-model.ts';
import { quantizeStep } from '../../pipeline/quantize.ts';
import { parseBoard } from '../../codegen/boards.ts';
import { loadMnistDataset } from '../../data/mnist.ts';
import type { FloatModel } from '../../core/model.ts';
import type { ReportRun } from '../../report/run.ts';

const gauss = (rand: () => number) => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());

function table(columns: Record<string, number[]>): CsvTable {
  const rows = Object.values(columns)[0]!.length;
  return {
    columns: Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, Float64Array.from(v)])),
    rows,
    sha256: 'test',
    path: 'test.csv',
  };
}

/** A random float model that reads the dataset's features and forecasts its targets. */
function modelFor(ds: Dataset, seed: number): FloatModel {
  const m = randomFloatModel({
    seed,
    inputSize: ds.featureNames.length,
    units: 5,
    outputSize: ds.task === 'regression' ? ds.targetNames.length : ds.classLabels.length,
    window: ds.window,
    weightRange: 0.8,
  });
  return {
    ...m,
    task: ds.task,
    featureNames: ds.featureNames,
    targetNames: ds.targetNames,
    classLabels: ds.classLabels,
    inputNorm: ds.inputNorm,
    outputNorm: ds.outputNorm,
    targetMode: ds.targetMode,
    baseFeatures: ds.baseFeatures,
    headActivation: ds.task === 'regression' ? 'linear' : 'softmax',
    horizon: ds.horizon,
  };
}

function runOf(command: string, ds: Dataset, seed: number, extra: Partial<ReportRun> = {}): ReportRun {
  const { model: q, report, details } = quantizeStep(modelFor(ds, seed), ds, { weightScale: 'per-row', floatModelSha256: 't' });
  return { command, lines: [`a ${command} run`], q, dataset: ds, report, details, board: parseBoard('puckjs'), ...extra };
}

/** Two series of a periodic reading with noise, two targets: `rows` readings each. */
export function regressionRun(rows: number, extra: Partial<ReportRun> = {}): ReportRun {
  const rand = mulberry32(5);
  const g = [...new Array(rows).fill(1), ...new Array(rows).fill(2)];
  const v = g.map((_, r) => 20 + 5 * Math.sin((2 * Math.PI * r) / 12) + 0.3 * gauss(rand));
  const w = v.map((x) => 0.5 * x + 0.2 * gauss(rand));
  const ds = buildDataset(table({ g, v, w }), {
    features: ['v', 'w'],
    task: 'regression',
    targets: ['v', 'w'],
    group: 'g',
    window: 6,
    horizon: 1,
    season: 12,
  });
  return runOf('train', ds, 3, extra);
}

/** One series of labels in runs and a feature that follows them loosely: a streamed classifier. */
export function classificationRun(): ReportRun {
  const rand = mulberry32(9);
  const label: number[] = [];
  let c = 0;
  for (let t = 0; t < 600; t++) {
    if (rand() < 0.1) c = rand() < 0.6 ? 0 : rand() < 0.5 ? 1 : 2;
    label.push(c);
  }
  const x = label.map((l) => l + 0.8 * gauss(rand));
  const ds = buildDataset(table({ x, label }), { features: ['x'], task: 'classification', label: 'label', window: 4, horizon: 0 });
  return runOf('quantize', ds, 4, { noHistory: 'no history in this test' });
}

/** MNIST digits as independent windows: a classifier with no series (window classes). */
export function windowClassifierRun(): ReportRun {
  const { dataset } = loadMnistDataset({ perClass: 12, seed: 1 });
  return runOf('example mnist', dataset, 6, { history: { loss: [2.1, 1.4, 1.1], valLoss: [2.0, 1.5, 1.3], kept: 3 } });
}
