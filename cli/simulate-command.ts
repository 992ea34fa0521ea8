import { Command, Option } from 'commander';
import { intOption, listOption, printJson, runAction } from './common.ts';
import { readGeneratedFile } from './generated-file.ts';
import { readQuantizedModel } from '../core/artifact.ts';
import { codegenStep } from '../pipeline/codegen.ts';
import { simulateStep } from '../pipeline/simulate.ts';
import { inputSegments } from '../pipeline/quantize.ts';
import type { Segments } from '../parity/trace.ts';
import { datasetOfModel } from '../pipeline/train.ts';
import { UserError } from '../core/errors.ts';
import type { QuantizedModel } from '../core/model.ts';
import { TARGETS } from '../codegen/emit-module.ts';
import { ENGINE_NAMES, type EngineName } from '../parity/engines.ts';
import type { GeneratedSource } from '../parity/parity.ts';
import { chooseSeason, streamSegments, streamedMetrics, type StreamedMetrics } from '../pipeline/streamed-eval.ts';
import { streamedLines } from './report-lines.ts';

/** What `simulate` reads from its command line. */
interface SimulateCommandOptions {
  code?: string[];
  data?: string;
  windows: number;
  streams: number;
  randomSegments: number;
  steps: number;
  seed: number;
  engines?: string[];
  watch?: boolean;
  json?: boolean;
}

export function simulateCommand(): Command {
  const cmd = new Command('simulate')
    .description('run the integer simulator and the generated code side by side, step by step, on every available engine')
    .argument('<quantized-model>', 'quantized model artifact')
    .addOption(
      new Option('--code <files>', 'generated model files to check (default: generate both targets in memory)').argParser(listOption),
    );
  return addRandomOptions(addReplayOptions(cmd))
    .addOption(
      new Option('--engines <names>', `engines to use (${ENGINE_NAMES.join(', ')}; default: every one available)`).argParser(listOption),
    )
    .option(
      '--watch',
      "also check parity on the Bangle.js 2 firmware's emulator (BANGLE2_DIR); where it cannot hold the model, one line and its weights in flash",
    )
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .action((modelPath: string, o: SimulateCommandOptions) => runAction('simulate', () => runSimulate(modelPath, o)));
}

/** The model's own data replayed: --data, --windows, --streams. */
function addReplayOptions(cmd: Command): Command {
  return cmd
    .option('--data <csv>', 'also replay the test windows of this CSV (default: the recorded training data, when present)')
    .addOption(new Option('--windows <n>', 'test windows to replay').argParser(intOption(0, 1_000_000)).default(200))
    .addOption(
      new Option(
        '--streams <steps>',
        'also replay each test series from its first reading, this many steps of it, the state never reset (0: none)',
      )
        .argParser(intOption(0, 1_000_000))
        .default(500),
    );
}

/** Random int8 sequences with extremes: --random-segments, --steps, --seed. */
function addRandomOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--random-segments <n>', 'random int8 sequences (with extremes), state reset before each')
        .argParser(intOption(0, 100_000))
        .default(20),
    )
    .addOption(new Option('--steps <n>', 'steps per random sequence').argParser(intOption(1, 1_000_000)).default(50))
    .addOption(new Option('--seed <n>', 'seed of the random sequences').argParser(intOption(0, 2 ** 31 - 1)).default(1));
}

async function runSimulate(modelPath: string, o: SimulateCommandOptions): Promise<void> {
  const engines = o.engines;
  const unknown = engines?.filter((e) => !(ENGINE_NAMES as readonly string[]).includes(e));
  if (unknown?.length) throw new UserError(`--engines: unknown engine ${unknown.join(', ')} (known: ${ENGINE_NAMES.join(', ')})`);
  const { model, sha256 } = readQuantizedModel(modelPath);
  const sources = o.code ? sourcesOfFiles(o.code, modelPath, sha256) : generatedSources(model, sha256);
  const { segments, streamed } = o.windows > 0 || o.streams > 0 ? await modelDataReplay(model, modelPath, o) : {};
  const r = await simulateStep(model, sources, {
    randomSegments: o.randomSegments,
    randomSteps: o.steps,
    seed: o.seed,
    engines: engines as EngineName[] | undefined,
    watch: o.watch,
    segments,
    log: (line) => process.stderr.write(line + '\n'),
  });
  if (streamed) for (const line of streamedLines(streamed)) console.log(line);
  for (const line of r.results) console.log(line.message);
  for (const s of r.skipped) console.log(`skipped ${s}`);
  console.log(
    r.mismatches === 0
      ? `parity: exact on ${r.engines.join(', ')} (${r.steps} steps each)`
      : `parity: ${r.mismatches} engine/target pairs differ`,
  );
  if (o.json)
    printJson({
      command: 'simulate',
      parity: { engines: r.engines, steps: r.steps, mismatches: r.mismatches, skipped: r.skipped },
      ...(streamed ? { streamed } : {}),
    });
  if (r.mismatches > 0) process.exitCode = 1;
}

/** The generated files given with --code; each must come from this model. */
function sourcesOfFiles(files: string[], modelPath: string, sha256: string): GeneratedSource[] {
  return files.map((file) => {
    const g = readGeneratedFile(file);
    if (g.modelSha256 !== sha256)
      throw new UserError(
        `${file}: generated from another model (sha256 ${g.modelSha256.slice(0, 12)}…, ${modelPath} is ${sha256.slice(0, 12)}…)`,
      );
    return { target: `${g.target} (${file})`, code: g.code, globalName: g.globalName };
  });
}

/** Both targets generated in memory. */
function generatedSources(model: QuantizedModel, sha256: string): GeneratedSource[] {
  return codegenStep(model, {
    targets: [...TARGETS],
    outDir: '.',
    baseName: 'model',
    globalName: 'lstmModel',
    modelSha256: sha256,
  }).map((f) => ({
    target: f.target,
    code: f.code,
    globalName: 'lstmModel',
  }));
}

/**
 * The model's own test windows and series (from its CSV or built-in example data) as segments to replay,
 * and its streamed metrics; without them, say so and go on.
 */
async function modelDataReplay(
  model: QuantizedModel,
  modelPath: string,
  o: SimulateCommandOptions,
): Promise<{ segments?: Segments; streamed?: StreamedMetrics }> {
  const replay: { segments?: Segments; streamed?: StreamedMetrics } = {};
  try {
    const dataset = await datasetOfModel(model, modelPath, o.data, true);
    replay.segments = [
      ...inputSegments(model, dataset.test.x, Math.min(o.windows, dataset.test.n)),
      ...streamSegments(model, dataset, 'test', o.streams),
    ];
    replay.streamed = streamedMetrics(model, dataset, { split: 'test', season: chooseSeason(dataset, dataset.season) });
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    console.log(`windows: none replayed (${err.message})`);
  }
  return replay;
}
