import { tokenNumber } from '../parity/number-tokens.ts';
import { globalNameProblem } from '../codegen/global-name.ts';
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { printJson, runAction } from './common.ts';
import { codegenStep, type GeneratedFile } from '../pipeline/codegen.ts';
import { parseHandmadeModel, type HandmadeModel } from '../importers/handmade.ts';
import { quantizeModel } from '../quantize/quantize.ts';
import { TARGETS } from '../codegen/emit-module.ts';
import { encodeFloatModel, encodeQuantizedModel, sha256Hex } from '../core/artifact.ts';
import { availableEngines } from '../parity/engines.ts';
import { parseReadingTrace, readingDriverSource, simulateReadings } from '../parity/reading-driver.ts';
import { describeFsError, writeFilesAtomic } from '../core/write-atomic.ts';
import { UserError } from '../core/errors.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { architectureName, type QuantizedModel } from '../core/model.ts';

/** A double from the 16 hex digits of its IEEE bytes ("nan" for NaN). */

/** What `handmade` reads from its command line. */
interface HandmadeOptions {
  outDir: string;
  name: string;
  global: string;
  json?: boolean;
}

export function handmadeCommand(): Command {
  return new Command('handmade')
    .description(
      'a model from hand-written weights (docs/HANDMADE.md): float + quantized artifacts, generated code, and its example run on every engine',
    )
    .argument('<model.json>', 'hand-written model, format lstm-mcu/handmade-v1')
    .addOption(new Option('--out-dir <dir>', 'where to write the artifacts').default('.'))
    .addOption(new Option('--name <base>', 'file base name').default('model'))
    .addOption(new Option('--global <identifier>', 'global the generated file defines as a plain script').default('lstmModel'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .action((file: string, o: HandmadeOptions) => runAction('handmade', () => runHandmade(file, o)));
}

/** The example the file documents, as given and as the device computes it, and its parity line per target and engine. */
interface ExampleRun {
  expected: number[][];
  device: number[][];
  parity: string[];
}

async function runHandmade(file: string, o: HandmadeOptions): Promise<void> {
  const globalProblem = o.global === 'drivenModel' ? 'is the name of the example driver; choose another name' : globalNameProblem(o.global);
  if (globalProblem) throw new UserError(`--global '${o.global}' ${globalProblem}`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: ${describeFsError(err)}`);
  }
  const parsed = parseHandmadeModel(text, file);
  const { floatBytes, q, qBytes, generated } = handmadeArtifacts(parsed, o);
  const example = parsed.example ? await runExample(q, parsed.example, generated, o.global) : undefined;

  const files = { float: path.join(o.outDir, `${o.name}.float.pb`), quantized: path.join(o.outDir, `${o.name}.q.pb`) };
  writeFilesAtomic([
    { path: files.float, data: floatBytes },
    { path: files.quantized, data: qBytes },
    ...generated.flatMap((g) => [
      { path: g.jsPath, data: g.code },
      { path: g.dtsPath, data: g.dts },
    ]),
  ]);
  console.log(
    `${architectureName(q.layers)} on ${q.featureNames.join(', ')} -> ${q.targetNames.join(', ')}: wrote ${[files.float, files.quantized, ...generated.map((g) => g.jsPath)].join(', ')}`,
  );
  if (example) for (const line of exampleLines(example)) console.log(line);
  const mismatches = example?.parity.filter((l) => l.endsWith('DIFFERS')).length ?? 0;
  if (o.json)
    printJson({
      command: 'handmade',
      artifacts: { ...files, ...Object.fromEntries(generated.map((g) => [g.target, g.jsPath])) },
      example: example ?? null,
      mismatches,
    });
  if (mismatches) process.exitCode = 1;
}

/** The float model (stamped with this version), its int8 model calibrated as the file says, and the generated code of every target. */
function handmadeArtifacts(
  parsed: HandmadeModel,
  o: HandmadeOptions,
): { floatBytes: Uint8Array; q: QuantizedModel; qBytes: Uint8Array; generated: GeneratedFile[] } {
  const float = {
    ...parsed.model,
    provenance: { ...parsed.model.provenance, toolVersion: TOOL_VERSION, createdAt: new Date().toISOString() },
  };
  const floatBytes = encodeFloatModel(float);
  const q = quantizeModel(float, {
    weightScale: 'per-row',
    calibrationX: parsed.calibrationX,
    floatModelSha256: sha256Hex(floatBytes),
  });
  const qBytes = encodeQuantizedModel(q);
  const generated = codegenStep(q, {
    targets: [...TARGETS],
    outDir: o.outDir,
    baseName: o.name,
    globalName: o.global,
    modelSha256: sha256Hex(qBytes),
  });
  return { floatBytes, q, qBytes, generated };
}

/** The example through the simulator, and each generated file on every available engine against it. */
async function runExample(
  q: QuantizedModel,
  example: NonNullable<HandmadeModel['example']>,
  generated: GeneratedFile[],
  globalName: string,
): Promise<ExampleRun> {
  const expected = simulateReadings(q, [example.inputs]);
  const parity: string[] = [];
  for (const g of generated) {
    for (const engine of availableEngines().engines) {
      const actual = parseReadingTrace(await engine.run(g.code + readingDriverSource(globalName, [example.inputs])), engine.name);
      const same = JSON.stringify(actual) === JSON.stringify(expected);
      parity.push(`${g.target} on ${engine.name}: ${same ? 'exact' : 'DIFFERS'}`);
    }
  }
  return { expected: example.outputs, device: expected.map((s) => s.y.map(tokenNumber)), parity };
}

function exampleLines(example: ExampleRun): string[] {
  return [
    'example  expected -> device (int8)',
    ...example.expected.map((e, t) => `  step ${t + 1}: ${e.join(', ')} -> ${example.device[t].map((v) => v.toFixed(3)).join(', ')}`),
    ...example.parity.map((line) => `  ${line}`),
  ];
}
