/**
 * What `demo` and `example` do after training: quantize, generate both
 * targets, check parity on test windows and random sequences, estimate RAM;
 * then write every artifact atomically once everything is computed.
 */
import { nativeHeld } from '../codegen/emit-native.ts';
import path from 'node:path';
import { inputSegments, quantizeStep, type QuantizeDetails, type QuantizeReport, type QuantizeStepOptions } from './quantize.ts';
import { qatStep, type QatStepOptions, type QatSummary } from './qat.ts';
import { codegenStep, type GeneratedFile } from './codegen.ts';
import { simulateStep, type SimulateResult } from './simulate.ts';
import { streamSegments } from './streamed-eval.ts';
import { TARGETS } from '../codegen/emit-module.ts';
import { estimateRam, type RamEstimate } from '../codegen/ram-estimate.ts';
import { encodeFloatModel, encodeQuantizedModel, sha256Hex } from '../core/artifact.ts';
import { writeFilesAtomic } from '../core/write-atomic.ts';
import type { FloatModel, QuantizedModel } from '../core/model.ts';
import type { Dataset } from '../data/windows.ts';

/** Steps of each test series replayed for parity, the state never reset. */
export const PARITY_STREAM_STEPS = 500;

export interface Delivery {
  files: { float: string; qatFloat: string; quantized: string; report: string; summary: string };
  floatBytes: Uint8Array;
  /** With QAT: the fine-tuned float model the int8 model comes from, and the comparison. */
  qat?: { floatBytes: Uint8Array; summary: QatSummary };
  q: QuantizedModel;
  qBytes: Uint8Array;
  report: QuantizeReport & { qat?: QatSummary };
  /** What the report's figures are made of (for report.html). */
  details: QuantizeDetails;
  generated: GeneratedFile[];
  parity: SimulateResult;
  ram: RamEstimate;
}

/** What deliver() is told: where, the parity checks, progress, and the quantization's choices. */
export interface DeliverOptions {
  out: string;
  seed: number;
  /** Windows the quantizer calibrates on (default: the training split). */
  calibration?: Dataset;
  /** Test windows replayed for parity, and random sequences with extremes. */
  parityWindows: number;
  randomSegments: number;
  randomSteps: number;
  log: (line: string) => void;
  /** Also check parity on the watch's firmware (bangle2) when available. */
  watch?: boolean;
  /** Fine-tune with the int8 contract simulated before quantizing (pipeline/qat.ts). */
  qat?: Omit<QatStepOptions, 'weightScale' | 'log'>;
  /** How the device runs the model (default auto) and the seasonal baseline's period. */
  deploy?: QuantizeStepOptions['deploy'];
  season?: number;
}

export async function deliver(float: FloatModel, dataset: Dataset, o: DeliverOptions): Promise<Delivery> {
  const files = {
    float: path.join(o.out, 'model.float.pb'),
    quantized: path.join(o.out, 'model.q.pb'),
    report: path.join(o.out, 'quantize-report.json'),
    summary: path.join(o.out, 'summary.json'),
    qatFloat: path.join(o.out, 'model.qat.float.pb'),
  };
  const floatBytes = encodeFloatModel(float);
  const { qat, quantized } = await tuneAndQuantize(float, floatBytes, dataset, o);
  const { model: q, details } = quantized;
  const report = qat ? { ...quantized.report, qat: qat.summary } : quantized.report;
  const qBytes = encodeQuantizedModel(q);
  o.log('3/4 codegen');
  const generated = codegenStep(q, {
    targets: [...TARGETS],
    outDir: o.out,
    baseName: 'model',
    globalName: 'lstmModel',
    modelSha256: sha256Hex(qBytes),
  });
  o.log('4/4 parity');
  const count = Math.min(o.parityWindows, dataset.test.n);
  const parity = await simulateStep(
    q,
    generated.map((g) => ({ target: g.target, code: g.code, globalName: 'lstmModel' })),
    {
      randomSegments: o.randomSegments,
      randomSteps: o.randomSteps,
      seed: o.seed,
      watch: o.watch,
      log: o.log,
      // Test windows from a reset state, and each test series streamed from its first reading as the device runs it.
      kinds: [
        { name: 'test windows', segments: inputSegments(q, dataset.test.x, count) },
        { name: 'streamed test series', segments: streamSegments(q, dataset, 'test', PARITY_STREAM_STEPS) },
      ],
    },
  );
  return {
    files,
    floatBytes,
    ...(qat ? { qat } : {}),
    q,
    qBytes,
    report,
    details,
    generated,
    parity,
    ram: estimateRam(q, { native: nativeHeld(q, { target: 'espruino' }, false) }),
  };
}

/** With --qat the fine-tuned float model, then the int8 model quantized from it (or from `float`), calibrated on the training split. */
async function tuneAndQuantize(
  float: FloatModel,
  floatBytes: Uint8Array,
  dataset: Dataset,
  o: Pick<DeliverOptions, 'calibration' | 'qat' | 'deploy' | 'season' | 'log'>,
): Promise<{ qat?: Delivery['qat']; quantized: ReturnType<typeof quantizeStep> }> {
  const calibration = { ...dataset, train: (o.calibration ?? dataset).train };
  let source = float;
  let sourceBytes = floatBytes;
  let qat: Delivery['qat'];
  if (o.qat) {
    o.log(`2/4 quantization-aware fine-tuning (${o.qat.epochs} epochs)`);
    const tuned = await qatStep(float, sha256Hex(floatBytes), calibration, { ...o.qat, weightScale: 'per-row', log: o.log });
    source = tuned.model;
    sourceBytes = encodeFloatModel(source);
    qat = { floatBytes: sourceBytes, summary: tuned.summary };
  }
  o.log(`2/4 quantize (calibration on ${calibration.train.n} training windows)`);
  const quantized = quantizeStep(source, calibration, {
    weightScale: 'per-row',
    floatModelSha256: sha256Hex(sourceBytes),
    ...(o.deploy ? { deploy: o.deploy } : {}),
    ...(o.season !== undefined ? { season: o.season } : {}),
  });
  return { ...(qat ? { qat } : {}), quantized };
}

/** Everything is computed: now write every file, all of them or none (core/write-atomic.ts), `extra` (report.html) and the summary last. */
export function writeDelivery(d: Delivery, summary: object, extra: { path: string; data: string }[] = []): void {
  writeFilesAtomic([
    { path: d.files.float, data: d.floatBytes },
    ...(d.qat ? [{ path: d.files.qatFloat, data: d.qat.floatBytes }] : []),
    { path: d.files.quantized, data: d.qBytes },
    { path: d.files.report, data: JSON.stringify(d.report, null, 2) + '\n' },
    ...d.generated.flatMap((g) => [
      { path: g.jsPath, data: g.code },
      { path: g.dtsPath, data: g.dts },
    ]),
    ...extra,
    { path: d.files.summary, data: JSON.stringify(summary, null, 2) + '\n' },
  ]);
}
