import { globalNameProblem } from '../codegen/global-name.ts';
import { checkOutputPaths } from '../core/output-paths.ts';
import path from 'node:path';
import { Command, Option } from 'commander';
import { choiceOption, intOption, printJson, runAction } from './common.ts';
import { codegenStep, type GeneratedFile, type WeightPlace } from '../pipeline/codegen.ts';
import { BOARD_NAMES, budgetRefusal, describeBudget, deviceBudget, parseBoard, type Board, type BudgetReport } from '../codegen/boards.ts';
import { emitModule } from '../codegen/emit-module.ts';
import type { QuantizedModel } from '../core/model.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { readQuantizedModel } from '../core/artifact.ts';
import { TARGETS, type Target } from '../codegen/emit-module.ts';
import { estimateRam, type RamEstimate } from '../codegen/ram-estimate.ts';
import { writeFilesAtomic } from '../core/write-atomic.ts';
import { UserError } from '../core/errors.ts';
import { DEFAULT_NATIVE, NATIVE_OPTIONS, nativeForBoard, nativeHeld, type NativeOption } from '../codegen/emit-native.ts';

/**
 * The model on `board`, with its weights in RAM and (Espruino) in flash: the
 * module that runs there (espruino target on Espruino boards when generated,
 * else es5), generated for both placements. Throws the refusal when the
 * chosen placement does not fit.
 */
function boardBudget(
  q: QuantizedModel,
  board: Board,
  files: GeneratedFile[],
  weights: WeightPlace,
  appReserve: number | undefined,
  names: { global: string; sha256: string; flashFile: string; writer: string; native: NativeOption },
): BudgetReport {
  const espruinoBoard = board.kind === 'espruino';
  const target = espruinoBoard && files.some((f) => f.target === 'espruino') ? 'espruino' : 'es5';
  const emit = {
    target,
    globalName: names.global,
    modelSha256: names.sha256,
    generatorVersion: TOOL_VERSION,
    native: names.native,
  } as const;
  const emitFor = (w: WeightPlace) => (w === 'flash' ? { ...emit, flash: { file: names.flashFile, writer: names.writer } } : emit);
  const placements: { weights: WeightPlace; code: string }[] = [{ weights: 'ram', code: emitModule(q, emit) }];
  if (target === 'espruino') placements.push({ weights: 'flash', code: emitModule(q, emitFor('flash')) });
  const report = deviceBudget(q, board, placements, emit, appReserve);
  const chosen = target === 'espruino' ? weights : 'ram';
  const needOf = (m: QuantizedModel) =>
    deviceBudget(m, board, [{ weights: chosen, code: emitModule(m, emitFor(chosen)) }], emit, appReserve).placements[0]!.peak;
  const refusal = budgetRefusal(report, chosen, q, needOf);
  if (refusal) throw new UserError(refusal);
  return report;
}

/** What `codegen` reads from its command line. */
interface CodegenOptions {
  target: Target | 'all';
  outDir: string;
  name: string;
  global: string;
  weights: WeightPlace;
  flashFile?: string;
  board?: string;
  appReserve?: number;
  json?: boolean;
  native: NativeOption;
}

export function codegenCommand(): Command {
  const cmd = new Command('codegen')
    .description('generate the ES5 model file(s) for Espruino and JerryScript from a quantized model')
    .argument('<quantized-model>', 'quantized model artifact written by `lstm-mcu quantize`')
    .addOption(
      new Option('--target <target>', 'espruino, es5, or all').argParser(choiceOption<Target | 'all'>([...TARGETS, 'all'])).default('all'),
    )
    .addOption(new Option('--out-dir <dir>', 'where to write <name>.<target>.js and .d.ts').default('.'))
    .addOption(new Option('--name <base>', 'file base name').default('model'))
    .addOption(new Option('--global <identifier>', 'global the file defines when run as a plain script').default('lstmModel'));
  return addPlacementOptions(cmd)
    .addOption(
      new Option(
        '--native <kernels>',
        'espruino target: the native kernels the module holds (auto: m4 and m3, chosen by the board at load; m4; m3; off: the JavaScript step only); host: the es5 module calls the kernel a JerryScript host provides (firmware/jerryscript/HOST_API.md)',
      )
        .argParser(choiceOption<NativeOption>([...NATIVE_OPTIONS]))
        .default(DEFAULT_NATIVE),
    )
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .action((modelPath: string, o: CodegenOptions) => runAction('codegen', () => runCodegen(modelPath, o)));
}

/** Where the model lives on the device: --weights, --flash-file, --board, --app-reserve. */
function addPlacementOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--weights <place>',
        'espruino target: weights in RAM, or in flash (a Storage file the module views in place; also writes <name>.weights.js, which writes that file on the board)',
      )
        .argParser(choiceOption<WeightPlace>(['ram', 'flash']))
        .default('ram'),
    )
    .addOption(new Option('--flash-file <name>', 'Storage file of the flash weights (default <name>.bin)'))
    .addOption(
      new Option(
        '--board <name>',
        `check the model fits this device and report its memory (${BOARD_NAMES.join(', ')}); refuse if it does not`,
      ),
    )
    .addOption(
      new Option(
        '--app-reserve <n>',
        'with --board: memory kept for the app (Espruino blocks, JerryScript bytes; default a quarter of the board)',
      ).argParser(intOption(0, 1 << 30)),
    );
}

function runCodegen(modelPath: string, o: CodegenOptions): void {
  const globalProblem = globalNameProblem(o.global);
  if (globalProblem) throw new UserError(`--global '${o.global}' ${globalProblem}`);
  if (!/^[\w.-]+$/.test(o.name)) throw new UserError(`--name '${o.name}' must be a plain file name (letters, digits, . _ -)`);
  if (o.native === 'host' && o.target === 'espruino')
    throw new UserError("--native host is for the es5 target (a JerryScript host's lstmNativeStep), not --target espruino");
  const { model, sha256 } = readQuantizedModel(modelPath);
  const targets = o.target === 'all' ? [...TARGETS] : [o.target];
  const board = chosenBoard(o, targets);
  // For one Espruino board, auto holds only the kernel its CPU runs.
  const native =
    board?.kind === 'espruino' ? nativeForBoard(o.native, board.envBoard, o.weights === 'flash' && board.storageExternal) : o.native;
  const started = performance.now();
  const files = codegenStep(model, {
    targets,
    outDir: o.outDir,
    baseName: o.name,
    globalName: o.global,
    modelSha256: sha256,
    weights: o.weights,
    flashFile: o.flashFile,
    native,
  });
  // The device budget, before any file is written: the model is refused if it does not fit.
  const budget = board
    ? boardBudget(model, board, files, o.weights, o.appReserve, {
        global: o.global,
        sha256,
        flashFile: o.flashFile ?? `${o.name}.bin`,
        writer: `${o.name}.weights.js`,
        native,
      })
    : undefined;
  checkGeneratedPaths(files, modelPath);
  // Progress, once every refusal is behind (a refusal stays one line).
  if (!o.json)
    process.stderr.write(
      `codegen: ${targets.join(', ')} generated in ${((performance.now() - started) / 1000).toFixed(1)} s${board ? `, fits ${o.board}` : ''}; writing to ${o.outDir}\n`,
    );
  writeGenerated(files);
  // The espruino module's RAM (with its native context when it holds one).
  const held = targets.includes('espruino') ? nativeHeld(model, { target: 'espruino', native }, o.weights === 'flash') : undefined;
  const ram = estimateRam(model, { weights: o.weights, native: held });
  for (const line of codegenLines(files, budget, ram)) console.log(line);
  if (o.json) printJson(codegenJson(files, budget, ram));
}

/** The board asked for, if any, once the placement options agree with the targets and with each other. */
function chosenBoard(o: CodegenOptions, targets: Target[]): Board | undefined {
  if (o.weights === 'flash' && !targets.includes('espruino'))
    throw new UserError('--weights flash is for the espruino target (Espruino Storage); the es5 target keeps its weights in RAM');
  if (o.flashFile !== undefined && o.weights !== 'flash') throw new UserError('--flash-file goes with --weights flash');
  const board = o.board === undefined ? undefined : parseBoard(o.board);
  if (o.appReserve !== undefined && !board) throw new UserError('--app-reserve goes with --board');
  return board;
}

/** No two generated files, and none of them and the model, are the same file. */
function checkGeneratedPaths(files: GeneratedFile[], modelPath: string): void {
  const outputs = files.flatMap((f) => [
    { what: `the ${f.target} module`, path: f.jsPath },
    { what: `its declarations`, path: f.dtsPath },
    ...(f.flash
      ? [
          { what: '--flash-file', path: f.flash.binPath },
          { what: 'the weights writer', path: f.flash.writerPath },
        ]
      : []),
  ]);
  checkOutputPaths(outputs, [{ what: 'model', path: modelPath }]);
}

/** Each generated file and its .d.ts, and with flash weights the Storage file's bytes and its writer: all of them or none. */
function writeGenerated(files: GeneratedFile[]): void {
  writeFilesAtomic(
    files.flatMap((f) => [
      { path: f.jsPath, data: f.code },
      { path: f.dtsPath, data: f.dts },
      ...(f.flash
        ? [
            { path: f.flash.binPath, data: f.flash.bytes },
            { path: f.flash.writerPath, data: f.flash.writer },
          ]
        : []),
    ]),
  );
}

function codegenLines(files: GeneratedFile[], budget: BudgetReport | undefined, ram: RamEstimate): string[] {
  return [
    ...(budget ? describeBudget(budget) : []),
    ...files.flatMap((f) => [
      `wrote ${f.jsPath} (${Buffer.byteLength(f.code)} bytes) and ${path.basename(f.dtsPath)}`,
      ...(f.flash
        ? [
            `wrote ${f.flash.writerPath} (writes Storage file "${f.flash.file}", ${f.flash.bytes.length} bytes, on the board) and ${f.flash.binPath}`,
          ]
        : []),
    ]),
    `model RAM on Espruino: ~${ram.blocks} blocks of ${ram.blockSize} bytes (weights ${ram.weightBytes} B, tables ${ram.tableBytes} B, state ${ram.stateBytes} B)`,
  ];
}

function codegenJson(files: GeneratedFile[], budget: BudgetReport | undefined, ram: RamEstimate) {
  return {
    command: 'codegen',
    files: Object.fromEntries(files.map((f) => [f.target, { js: f.jsPath, dts: f.dtsPath, bytes: Buffer.byteLength(f.code) }])),
    ram,
    ...(budget
      ? {
          budget: {
            board: budget.board.name,
            unit: budget.unit,
            budget: budget.budget,
            appReserve: budget.appReserve,
            placements: budget.placements,
          },
        }
      : {}),
  };
}
