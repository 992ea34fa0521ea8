import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { printJson, runAction } from './common.ts';
import { codegenStep } from '../pipeline/codegen.ts';
import { parseHandmadeModel } from '../importers/handmade.ts';
import { quantizeModel } from '../quantize/quantize.ts';
import { TARGETS } from '../codegen/emit-module.ts';
import { encodeFloatModel, encodeQuantizedModel, sha256Hex, writeArtifact } from '../core/artifact.ts';
import { availableEngines } from '../parity/engines.ts';
import { parseReadingTrace, readingDriverSource, simulateReadings } from '../parity/reading-driver.ts';
import { describeFsError, writeFileAtomic } from '../core/write-atomic.ts';
import { UserError } from '../core/errors.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { architectureName } from '../core/model.ts';

/** A double from the 16 hex digits of its IEEE bytes ("nan" for NaN). */
const fromHex = (h: string) => (h === 'nan' ? NaN : new Float64Array(Uint8Array.from(Buffer.from(h, 'hex')).buffer)[0]);

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
    .action((file: string, o) =>
      runAction('handmade', async () => {
        if (!/^[A-Za-z_$][\w$]*$/.test(o.global) || o.global === 'drivenModel')
          throw new UserError(`--global '${o.global}' is not a usable JavaScript identifier`);
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch (err) {
          throw new UserError(`${file}: ${describeFsError(err)}`);
        }
        const parsed = parseHandmadeModel(text, file);
        const float = {
          ...parsed.model,
          provenance: { ...parsed.model.provenance, toolVersion: TOOL_VERSION, createdAt: new Date().toISOString() },
        };
        const floatBytes = encodeFloatModel(float);
        const q = quantizeModel(float, {
          weightScale: 'per-row',
          calibrationX: parsed.calibrationX,
          calibrationCount: parsed.calibrationCount,
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

        let example: { expected: number[][]; device: number[][]; parity: string[] } | undefined;
        if (parsed.example) {
          const expected = simulateReadings(q, [parsed.example.inputs]);
          const parity: string[] = [];
          for (const g of generated) {
            for (const engine of availableEngines().engines) {
              const actual = parseReadingTrace(
                await engine.run(g.code + readingDriverSource(o.global, [parsed.example.inputs])),
                engine.name,
              );
              const same = JSON.stringify(actual) === JSON.stringify(expected);
              parity.push(`${g.target} on ${engine.name}: ${same ? 'exact' : 'DIFFERS'}`);
            }
          }
          example = { expected: parsed.example.outputs, device: expected.map((s) => s.y.map(fromHex)), parity };
        }

        const files = { float: path.join(o.outDir, `${o.name}.float.pb`), quantized: path.join(o.outDir, `${o.name}.q.pb`) };
        writeArtifact(files.float, floatBytes);
        writeArtifact(files.quantized, qBytes);
        for (const g of generated) {
          writeFileAtomic(g.jsPath, g.code);
          writeFileAtomic(g.dtsPath, g.dts);
        }
        console.log(
          `${architectureName(q.layers)} on ${q.featureNames.join(', ')} -> ${q.targetNames.join(', ')}: wrote ${[files.float, files.quantized, ...generated.map((g) => g.jsPath)].join(', ')}`,
        );
        if (example) {
          console.log('example  expected -> device (int8)');
          example.expected.forEach((e, t) =>
            console.log(`  step ${t + 1}: ${e.join(', ')} -> ${example!.device[t].map((v) => v.toFixed(3)).join(', ')}`),
          );
          for (const line of example.parity) console.log(`  ${line}`);
        }
        const mismatches = example?.parity.filter((l) => l.endsWith('DIFFERS')).length ?? 0;
        if (o.json)
          printJson({
            command: 'handmade',
            artifacts: { ...files, ...Object.fromEntries(generated.map((g) => [g.target, g.jsPath])) },
            example: example ?? null,
            mismatches,
          });
        if (mismatches) process.exitCode = 1;
      }),
    );
}
