/**
 * Quantized model -> one generated ES5 file (+ .d.ts) per target (the `codegen` step).
 */
import path from 'node:path';
import { emitModule, type Target } from '../../codegen/emit-module.ts';
import { emitDts } from '../../codegen/emit-dts.ts';
import type { QuantizedModel } from '../../runtime/model.ts';
import { TOOL_VERSION } from '../version.ts';

export interface GeneratedFile {
  target: Target;
  code: string;
  dts: string;
  /** Where it goes: <outDir>/<base>.<target>.js and .d.ts */
  jsPath: string;
  dtsPath: string;
}

export function codegenStep(
  q: QuantizedModel,
  options: { targets: Target[]; outDir: string; baseName: string; globalName: string; modelSha256: string },
): GeneratedFile[] {
  return options.targets.map((target) => {
    const emit = { target, globalName: options.globalName, modelSha256: options.modelSha256, generatorVersion: TOOL_VERSION };
    return {
      target,
      code: emitModule(q, emit),
      dts: emitDts(q, emit),
      jsPath: path.join(options.outDir, `${options.baseName}.${target}.js`),
      dtsPath: path.join(options.outDir, `${options.baseName}.${target}.d.ts`),
    };
  });
}
