/**
 * What `demo` and `example` do after training: quantize, generate both
 * targets, check parity on test windows and random sequences, estimate RAM;
 * then write every artifact atomically once everything is computed.
 */
import path from 'node:path';
import { inputSegments, quantizeStep, type QuantizeReport } from './quantize.ts';
import { codegenStep, type GeneratedFile } from './codegen.ts';
import { simulateStep, type SimulateResult } from './simulate.ts';
import { TARGETS } from '../../codegen/emit-module.ts';
import { estimateRam, type RamEstimate } from '../../codegen/ram-estimate.ts';
import { encodeFloatModel, encodeQuantizedModel, sha256Hex, writeArtifact } from '../../runtime/artifact.ts';
import { writeFileAtomic } from '../../runtime/write-atomic.ts';
import type { FloatModel, QuantizedModel } from '../../runtime/model.ts';
import type { Dataset } from '../../trainer/windows.ts';

export interface Delivery {
  files: { float: string; quantized: string; report: string; summary: string };
  floatBytes: Uint8Array;
  q: QuantizedModel;
  qBytes: Uint8Array;
  report: QuantizeReport;
  generated: GeneratedFile[];
  parity: SimulateResult;
  ram: RamEstimate;
}

export async function deliver(
  float: FloatModel,
  dataset: Dataset,
  o: {
    out: string;
    seed: number;
    /** Windows the quantizer calibrates on (default: the training split). */
    calibration?: Dataset;
    /** Test windows replayed for parity, and random sequences with extremes. */
    parityWindows: number;
    randomSegments: number;
    randomSteps: number;
    log: (line: string) => void;
  },
): Promise<Delivery> {
  const files = {
    float: path.join(o.out, 'model.float.pb'),
    quantized: path.join(o.out, 'model.q.pb'),
    report: path.join(o.out, 'quantize-report.json'),
    summary: path.join(o.out, 'summary.json'),
  };
  const floatBytes = encodeFloatModel(float);
  const calibration = o.calibration ?? dataset;
  o.log(`2/4 quantize (calibration on ${calibration.train.n} training windows)`);
  const { model: q, report } = quantizeStep(float, { ...dataset, train: calibration.train }, { weightScale: 'per-row', floatModelSha256: sha256Hex(floatBytes) });
  const qBytes = encodeQuantizedModel(q);
  o.log('3/4 codegen');
  const generated = codegenStep(q, { targets: [...TARGETS], outDir: o.out, baseName: 'model', globalName: 'lstmModel', modelSha256: sha256Hex(qBytes) });
  o.log('4/4 parity');
  const count = Math.min(o.parityWindows, dataset.test.n);
  const parity = await simulateStep(
    q,
    generated.map((g) => ({ target: g.target, code: g.code, globalName: 'lstmModel' })),
    {
      randomSegments: o.randomSegments,
      randomSteps: o.randomSteps,
      seed: o.seed,
      segments: inputSegments(q, dataset.test.x, count),
    },
  );
  return { files, floatBytes, q, qBytes, report, generated, parity, ram: estimateRam(q) };
}

/** Everything is computed: now write, each file atomically, the summary last. */
export function writeDelivery(d: Delivery, summary: object): void {
  writeArtifact(d.files.float, d.floatBytes);
  writeArtifact(d.files.quantized, d.qBytes);
  writeFileAtomic(d.files.report, JSON.stringify(d.report, null, 2) + '\n');
  for (const g of d.generated) {
    writeFileAtomic(g.jsPath, g.code);
    writeFileAtomic(g.dtsPath, g.dts);
  }
  writeFileAtomic(d.files.summary, JSON.stringify(summary, null, 2) + '\n');
}
