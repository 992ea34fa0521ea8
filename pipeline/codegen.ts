/**
 * Quantized model -> one generated ES5 file (+ .d.ts) per target (the `codegen` step).
 */
import path from 'node:path';
import { emitModule, flashWeights, type Target } from '../codegen/emit-module.ts';
import { STORAGE_NAME_MAX } from '../codegen/flash-weights.ts';
import { UserError } from '../core/errors.ts';
import { emitDts } from '../codegen/emit-dts.ts';
import type { QuantizedModel } from '../core/model.ts';
import type { NativeOption } from '../codegen/emit-native.ts';
import { TOOL_VERSION } from '../core/version.ts';

export interface GeneratedFile {
  target: Target;
  code: string;
  dts: string;
  /** Where it goes: <outDir>/<base>.<target>.js and .d.ts */
  jsPath: string;
  dtsPath: string;
  /** Weights in flash (espruino target): the program that writes the Storage file, and the file's bytes. */
  flash?: { writer: string; writerPath: string; bytes: Uint8Array; binPath: string; file: string };
}

/** Where a model's weights live on an Espruino board. */
export type WeightPlace = 'ram' | 'flash';

/** A Storage file name Espruino accepts. */
export function checkStorageName(name: string): void {
  if (!/^[\w.-]+$/.test(name) || name.length > STORAGE_NAME_MAX) {
    throw new UserError(
      `flash file '${name}' must be at most ${STORAGE_NAME_MAX} characters of letters, digits, . _ - (an Espruino Storage name)`,
    );
  }
}

export function codegenStep(
  q: QuantizedModel,
  options: {
    targets: Target[];
    outDir: string;
    baseName: string;
    globalName: string;
    modelSha256: string;
    /** 'flash': the espruino target reads its weights from a Storage file (default `<baseName>.bin`); es5 keeps them in RAM. */
    weights?: WeightPlace;
    flashFile?: string;
    /** The native kernels the espruino module holds, or 'host' for the es5 module (codegen --native; default DEFAULT_NATIVE). */
    native?: NativeOption;
  },
): GeneratedFile[] {
  const file = options.flashFile ?? `${options.baseName}.bin`;
  if (options.weights === 'flash') checkStorageName(file);
  const writerName = `${options.baseName}.weights.js`;
  return options.targets.map((target) => {
    const flash = options.weights === 'flash' && target === 'espruino' ? { file, writer: writerName } : undefined;
    const emit = {
      target,
      globalName: options.globalName,
      modelSha256: options.modelSha256,
      generatorVersion: TOOL_VERSION,
      ...(flash ? { flash } : {}),
      ...(options.native ? { native: options.native } : {}),
    };
    const stored = flash ? flashWeights(q, emit) : undefined;
    return {
      target,
      code: emitModule(q, emit),
      dts: emitDts(q, emit),
      jsPath: path.join(options.outDir, `${options.baseName}.${target}.js`),
      dtsPath: path.join(options.outDir, `${options.baseName}.${target}.d.ts`),
      ...(stored
        ? {
            flash: {
              writer: stored.writer,
              writerPath: path.join(options.outDir, writerName),
              bytes: stored.bytes,
              binPath: path.join(options.outDir, file),
              file,
            },
          }
        : {}),
    };
  });
}
