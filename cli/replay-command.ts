/**
 * lstm-mcu replay: the bundled app (the upload flash sends) run on an engine
 * over a recording; what the board would have printed, its alerts and its
 * advertising, written beside the model (pipeline/replay.ts).
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { choiceOption, delimiterOption, listOption, printJson, runAction } from './common.ts';
import { addAppOptions, appInputs, bundleOptions, modelPath } from './app-options.ts';
import { UserError } from '../core/errors.ts';
import { checkOutputPaths } from '../core/output-paths.ts';
import { progressLine } from '../core/progress-line.ts';
import { writeFilesAtomic } from '../core/write-atomic.ts';
import type { MissingPolicy } from '../data/csv.ts';
import { availableEngines, ENGINE_NAMES, type EngineName } from '../parity/engines.ts';
import { replayChartData } from '../pipeline/replay-chart.ts';
import { REPLAY_PAGE_FILE, replayPage } from '../report/replay-section.ts';
import { replayApp, type ReplayResult } from '../pipeline/replay.ts';
import { readRecording } from '../pipeline/replay-recording.ts';

/** The engine replay runs on when none is named: Node's vm with the Espruino globals the model uses. */
export const DEFAULT_REPLAY_ENGINE: EngineName = 'vm+E';

export function replayCommand(): Command {
  const cmd = new Command('replay').description(
    'run the bundled app (the upload flash sends) on the desktop over a recording: what the board would print, its alerts and its advertising',
  );
  addAppOptions(cmd, ['espruino']);
  cmd
    .requiredOption('--data <csv>', 'the recording: a column per model input (named as its features) and a time column (ms)')
    .addOption(
      new Option(
        '--engine <engine>',
        'the engine the app runs on: vm+E (Node, with Espruino globals), espruino (ESPRUINO_BIN), jerry, duk, bangle2',
      )
        .argParser(choiceOption(ENGINE_NAMES))
        .default(DEFAULT_REPLAY_ENGINE),
    )
    .addOption(new Option('--out <dir>', 'where replay.log, replay-alerts.csv and replay.json go (default: beside the model)'))
    .addOption(
      new Option(
        '--columns <list>',
        "the recording's columns read as the model's inputs, in feature order (default: the feature names)",
      ).argParser(listOption),
    )
    .addOption(
      new Option('--time-column <name>', 'the time of each sample (default: the column "time" if there is one, else the sample index)'),
    )
    .addOption(
      new Option('--missing <policy>', 'empty / NA / NaN / null cells: keep (the app sees a bad reading), error, drop the row, ffill')
        .argParser(choiceOption<MissingPolicy>(['keep', 'error', 'drop', 'ffill']))
        .default('keep'),
    )
    .addOption(new Option('--delimiter <char>', "the CSV's field delimiter: ',', ';' or tab").argParser(delimiterOption).default(','))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .action((o) => runAction('replay', () => runReplay(o)));
  return cmd;
}

/** The engine by name, or why it is not here. */
function replayEngine(name: EngineName) {
  const { engines, skipped } = availableEngines(name === 'bangle2');
  const engine = engines.find((e) => e.name === name);
  if (!engine)
    throw new UserError(`--engine ${name}: ${skipped.find((s) => s.startsWith(`${name}:`))?.slice(name.length + 2) ?? 'not available'}`);
  return engine;
}

async function runReplay(o: Record<string, any>): Promise<void> {
  // --engine here names the engine the app runs on; the app is always the espruino one (what flash uploads)
  const inputs = appInputs({ ...o, engine: 'espruino' });
  const engine = replayEngine(o.engine);
  const modelFile = modelPath(o.model);
  const dir: string = o.out ?? path.dirname(path.resolve(modelFile));
  const files = {
    log: path.join(dir, 'replay.log'),
    alerts: path.join(dir, 'replay-alerts.csv'),
    json: path.join(dir, 'replay.json'),
    page: path.join(dir, REPLAY_PAGE_FILE),
  };
  checkOutputPaths(
    [
      { what: 'replay.log', path: files.log },
      { what: 'replay-alerts.csv', path: files.alerts },
      { what: 'replay.json', path: files.json },
    ],
    [
      { what: '--data', path: o.data },
      { what: 'model', path: modelFile },
    ],
  );
  const recording = await readRecording(o.data, inputs.q, {
    ...(o.columns ? { columns: o.columns } : {}),
    ...(o.timeColumn !== undefined ? { timeColumn: o.timeColumn } : {}),
    delimiter: o.delimiter,
    missing: o.missing,
    progress: progressLine(`lstm-mcu replay: reading ${o.data}`),
  });
  const { result, log } = await replayApp(inputs.q, bundleOptions(inputs), recording, engine, () =>
    progressLine(`lstm-mcu replay: ${engine.name}`),
  );
  const t = result.totals;
  const lines = [
    `replayed ${t.samples} samples of ${o.data} through the app on ${engine.name}: ${t.steps} steps, ${t.bad} bad, ${t.resets} resets, ${t.alerts} alert${t.alerts === 1 ? '' : 's'}`,
    ...(result.app.bundle.readerReplaced ? ['the reader file was replaced by one that reads the recording (--source function)'] : []),
  ];
  writeFilesAtomic([
    { path: files.log, data: log.map((l) => `${l}\n`).join('') },
    { path: files.alerts, data: alertsCsv(result) },
    { path: files.json, data: `${JSON.stringify(result)}\n` },
    { path: files.page, data: await replayPage(replayChartData(result), lines) },
  ]);
  for (const line of lines) console.log(line);
  console.log(`wrote ${files.log} (${log.length} lines), ${files.alerts}, ${files.json}, ${files.page}`);
  if (o.json) printJson({ command: 'replay', engine: engine.name, out: dir, ...t, bundleCrc32: result.app.bundle.crc32 });
}

/** time,sample,score: one row per alert (the time empty where the recording had none). */
export function alertsCsv(r: ReplayResult): string {
  const rows = r.alerts.map((a) => `${Number.isNaN(a.time) ? '' : a.time},${a.sample},${a.score}`);
  return ['time,sample,score', ...rows].map((l) => `${l}\n`).join('');
}
