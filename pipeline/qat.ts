/**
 * The QAT step shared by `quantize --qat` and `demo --qat`: fine-tune a float
 * model with the integer contract simulated (trainer/qat.ts), then report the
 * float model, its post-training int8 model and the QAT int8 model side by
 * side on the test windows.
 */
import { calibrationWindows, quantizeModel, type WeightScaleGranularity } from '../quantize/quantize.ts';
import { floatWindowOutputs } from '../reference/float-outputs.ts';
import type { FloatModel, QuantizedModel } from '../core/model.ts';
import { currentBackend } from '../trainer/backend.ts';
import { fineTuneQat, meanAbsDifference, type QatEpoch, type QatResult } from '../trainer/qat.ts';
import type { Dataset, Split } from '../data/windows.ts';
import { compareOnWindows } from './quantize.ts';
import { metricName, splitMetric } from './train.ts';
import { fmt } from '../core/format.ts';
import { modelStartClocks } from '../trainer/clock-column.ts';

export const QAT_DEFAULTS = { epochs: 3, learningRate: 3e-5, batchSize: 64 } as const;

export interface QatStepOptions {
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  weightScale: WeightScaleGranularity;
  inputPercentile?: number;
  log?: (line: string) => void;
}

export interface QatSummary {
  epochs: number;
  learningRate: number;
  batchSize: number;
  /** Epoch kept (0: the model as given). */
  bestEpoch: number;
  history: QatEpoch[];
  /** The test metric of each model; the changes are relative to the float model as given. */
  test: {
    name: string;
    windows: number;
    float: number;
    int8PostTraining: number;
    floatAfterQat: number;
    int8Qat: number;
    postTrainingChange: number;
    qatChange: number;
    /** Mean |int8 output − float output| (normalized units or logits) of each int8 model, against the float model as given. */
    postTrainingDistance: number;
    qatDistance: number;
  };
}

export async function qatStep(
  float: FloatModel,
  floatSha256: string,
  dataset: Dataset,
  o: QatStepOptions,
): Promise<{ model: FloatModel; quantized: QuantizedModel; summary: QatSummary }> {
  // the backend the command trained with (or 'auto' when it trained nothing)
  const { tf, backend } = await currentBackend();
  const quantize = (m: FloatModel) =>
    quantizeModel(m, {
      weightScale: o.weightScale,
      inputPercentile: o.inputPercentile,
      calibrationX: calibrationWindows(dataset.train.x),
      floatModelSha256: floatSha256,
    });
  const metric = (split: Split, out: ArrayLike<number>) => splitMetric(dataset, split, out);
  o.log?.(
    `qat: fine-tuning ${o.epochs} epochs on ${dataset.train.n} training windows (backend ${backend}, learning rate ${o.learningRate})`,
  );
  const result = await fineTuneQat(float, dataset, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    weightScale: o.weightScale,
    quantize,
    int8Outputs: (m, q, split) => int8Outputs(m, q, dataset, split),
    metric,
    tf,
    onEpoch: (e) =>
      o.log?.(
        `qat: epoch ${e.epoch}/${e.epochs}${e.epoch ? ` loss ${fmt(e.loss)}` : ' (as given)'}, validation: mean |int8 - float| ${fmt(e.validationDistance)}, int8 ${metricName(dataset.task)} ${fmt(e.validationMetric)}`,
      ),
  });
  const tuned: FloatModel = {
    ...result.model,
    metrics: floatMetrics(result.model, dataset),
    provenance: tunedProvenance(float, floatSha256, result.bestEpoch, o),
  };
  return {
    model: tuned,
    quantized: result.quantized,
    summary: {
      epochs: o.epochs,
      learningRate: o.learningRate,
      batchSize: o.batchSize,
      bestEpoch: result.bestEpoch,
      history: result.history,
      test: testComparison(float, tuned, result, dataset),
    },
  };
}

/** The real int8 model's outputs on a split (the simulator); clockwork windows from the clock the device has at their first row. */
function int8Outputs(m: FloatModel, q: QuantizedModel, dataset: Dataset, split: Split) {
  return compareOnWindows(m, q, split, modelStartClocks(m, dataset, split)).intOut;
}

/** The float model's task metric on every split. */
function floatMetrics(m: FloatModel, dataset: Dataset): FloatModel['metrics'] {
  const floatMetric = (split: Split) =>
    splitMetric(dataset, split, floatWindowOutputs(m, split.x, dataset.window, modelStartClocks(m, dataset, split)));
  return {
    name: metricName(dataset.task),
    train: floatMetric(dataset.train),
    validation: floatMetric(dataset.validation),
    test: floatMetric(dataset.test),
  };
}

/** The given model's provenance, with the fine-tuning recorded in its options. */
function tunedProvenance(float: FloatModel, floatSha256: string, bestEpoch: number, o: QatStepOptions): FloatModel['provenance'] {
  return {
    ...float.provenance,
    createdAt: new Date().toISOString(),
    options: JSON.stringify({
      ...(JSON.parse(float.provenance.options) as object),
      qat: {
        from: floatSha256,
        epochs: o.epochs,
        bestEpoch,
        learningRate: o.learningRate,
        batchSize: o.batchSize,
        seed: o.seed,
        weightScale: o.weightScale,
      },
    }),
  };
}

/** The float model as given, its post-training int8 model and the QAT int8 model on the test windows. */
function testComparison(float: FloatModel, tuned: FloatModel, result: QatResult, dataset: Dataset): QatSummary['test'] {
  const test = dataset.test;
  const metric = (out: ArrayLike<number>) => splitMetric(dataset, test, out);
  const floatOut = floatWindowOutputs(float, test.x, dataset.window, modelStartClocks(float, dataset, test));
  const ptqOut = int8Outputs(float, result.postTraining, dataset, test);
  const qatOut = int8Outputs(tuned, result.quantized, dataset, test);
  const f = metric(floatOut);
  const ptq = metric(ptqOut);
  const qat = metric(qatOut);
  return {
    name: metricName(dataset.task),
    windows: test.n,
    float: f,
    int8PostTraining: ptq,
    floatAfterQat: tuned.metrics.test,
    int8Qat: qat,
    postTrainingChange: (ptq - f) / f,
    qatChange: (qat - f) / f,
    postTrainingDistance: meanAbsDifference(ptqOut, floatOut),
    qatDistance: meanAbsDifference(qatOut, floatOut),
  };
}
