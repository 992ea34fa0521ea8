/**
 * Measure the quantization choices of docs/NUMERICS.md §6 on a trained float
 * model: weight scale granularity, input range percentile, and the multiplier
 * form (an integer multiplier per row with one literal shift, against a
 * power-of-two multiplier: a shift-only rescale).
 *
 *   npm run compare-quantization -- out/model.float.pb
 */
import { readFloatModel } from '../core/artifact.ts';
import { calibrationWindows, quantizeModel, type WeightScaleGranularity } from '../quantize/quantize.ts';
import { checkBounds } from '../quantize/bounds.ts';
import { datasetOfModel } from '../pipeline/train.ts';
import { evaluateQuantized } from '../pipeline/quantize.ts';
import type { QuantizedModel } from '../core/model.ts';

const path = process.argv[2];
if (!path) {
  console.error('usage: compare-quantization <model.float.pb>');
  process.exit(2);
}
const { model: float, sha256 } = readFloatModel(path);
const dataset = await datasetOfModel(float, path);

/** Each row's multiplier rounded to a power of two (in the log domain), kept within its proven bound. */
function powerOfTwoMultipliers(q: QuantizedModel): QuantizedModel {
  const withMultipliers = (c: QuantizedModel, f: (m: Int32Array) => Int32Array): QuantizedModel => ({
    ...c,
    layers: c.layers.map((l) => ({ ...l, gateMultiplier: f(l.gateMultiplier) })),
  });
  let candidate = withMultipliers(q, (m) => m.map((v) => 2 ** Math.round(Math.log2(Math.max(1, v)))));
  // Rounding up may break a bound: halve the multipliers until every check holds.
  while (!checkBounds(candidate).every((c) => c.ok)) candidate = withMultipliers(candidate, (m) => m.map((v) => Math.max(1, v >> 1)));
  return candidate;
}

const rows: string[] = [
  '| weight scales | input range | multiplier | float RMSE | int8 RMSE | change | output error (rms, normalized) |',
  '|---|---|---|---|---|---|---|',
];
const run = (weightScale: WeightScaleGranularity, inputPercentile: number, form: 'int' | 'power of two') => {
  let q = quantizeModel(float, {
    weightScale,
    inputPercentile,
    calibrationX: calibrationWindows(dataset.train.x),
    floatModelSha256: sha256,
  });
  if (form === 'power of two') q = powerOfTwoMultipliers(q);
  const r = evaluateQuantized(float, q, dataset, weightScale, inputPercentile);
  const out = r.tensorErrors.find((e) => e.name.startsWith('output'))!;
  const m = r.metrics;
  rows.push(
    `| ${weightScale} | P${inputPercentile} | ${form} | ${m.float.toPrecision(4)} | ${m.int8.toPrecision(4)} | ${(100 * m.relativeChange).toFixed(2)}% | ${out.rms.toPrecision(3)} |`,
  );
  console.error(rows[rows.length - 1]);
};
for (const p of [100, 99.99, 99.9, 99]) {
  for (const ws of ['per-row', 'per-gate', 'per-tensor'] as const) run(ws, p, 'int');
}
run('per-row', 99.9, 'power of two');
console.log(rows.join('\n'));
