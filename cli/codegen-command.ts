import path from 'node:path';
import { Command, Option } from 'commander';
import { choiceOption, printJson, runAction } from './common.ts';
import { codegenStep, type WeightPlace } from './steps/codegen.ts';
import { readQuantizedModel } from '../runtime/artifact.ts';
import { TARGETS, type Target } from '../codegen/emit-module.ts';
import { estimateRam } from '../codegen/ram-estimate.ts';
import { writeFileAtomic } from '../runtime/write-atomic.ts';
import { UserError } from '../runtime/errors.ts';

export function codegenCommand(): Command {
  return new Command('codegen')
    .description('generate the ES5 model file(s) for Espruino and JerryScript from a quantized model')
    .argument('<quantized-model>', 'quantized model artifact written by `lstm-mcu quantize`')
    .addOption(new Option('--target <target>', 'espruino, es5, or all').argParser(choiceOption<Target | 'all'>([...TARGETS, 'all'])).default('all'))
    .addOption(new Option('--out-dir <dir>', 'where to write <name>.<target>.js and .d.ts').default('.'))
    .addOption(new Option('--name <base>', 'file base name').default('model'))
    .addOption(new Option('--global <identifier>', 'global the file defines when run as a plain script').default('lstmModel'))
    .addOption(
      new Option('--weights <place>', 'espruino target: weights in RAM, or in flash (a Storage file the module views in place; also writes <name>.weights.js, which writes that file on the board)')
        .argParser(choiceOption<WeightPlace>(['ram', 'flash']))
        .default('ram'),
    )
    .addOption(new Option('--flash-file <name>', 'Storage file of the flash weights (default <name>.bin)'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .action((modelPath: string, o) =>
      runAction('codegen', () => {
        if (!/^[A-Za-z_$][\w$]*$/.test(o.global)) throw new UserError(`--global '${o.global}' is not a JavaScript identifier`);
        if (!/^[\w.-]+$/.test(o.name)) throw new UserError(`--name '${o.name}' must be a plain file name (letters, digits, . _ -)`);
        const { model, sha256 } = readQuantizedModel(modelPath);
        const targets = o.target === 'all' ? [...TARGETS] : [o.target as Target];
        if (o.weights === 'flash' && !targets.includes('espruino')) throw new UserError('--weights flash is for the espruino target (Espruino Storage); the es5 target keeps its weights in RAM');
        if (o.flashFile !== undefined && o.weights !== 'flash') throw new UserError('--flash-file goes with --weights flash');
        const files = codegenStep(model, { targets, outDir: o.outDir, baseName: o.name, globalName: o.global, modelSha256: sha256, weights: o.weights, flashFile: o.flashFile });
        for (const f of files) {
          writeFileAtomic(f.jsPath, f.code);
          writeFileAtomic(f.dtsPath, f.dts);
          if (f.flash) {
            writeFileAtomic(f.flash.binPath, f.flash.bytes);
            writeFileAtomic(f.flash.writerPath, f.flash.writer);
          }
        }
        const ram = estimateRam(model, { weights: o.weights });
        for (const f of files) {
          console.log(`wrote ${f.jsPath} (${Buffer.byteLength(f.code)} bytes) and ${path.basename(f.dtsPath)}`);
          if (f.flash) console.log(`wrote ${f.flash.writerPath} (writes Storage file "${f.flash.file}", ${f.flash.bytes.length} bytes, on the board) and ${f.flash.binPath}`);
        }
        console.log(`model RAM on Espruino: ~${ram.blocks} blocks of ${ram.blockSize} bytes (weights ${ram.weightBytes} B, tables ${ram.tableBytes} B, state ${ram.stateBytes} B)`);
        if (o.json) {
          printJson({ command: 'codegen', files: Object.fromEntries(files.map((f) => [f.target, { js: f.jsPath, dts: f.dtsPath, bytes: Buffer.byteLength(f.code) }])), ram });
        }
      }),
    );
}
