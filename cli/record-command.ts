/**
 * `lstm-mcu record`: a board's readings into a CSV that train reads as it stands (firmware/record.ts
 * talks to the board, data/recording-csv.ts writes the file). What survives what: docs/CLI.md.
 */
import { Command, Option } from 'commander';
import { floatOption, intOption, listOption, printJson, runAction } from './common.ts';
import { addSourceOptions, DEFAULT_INTERVAL_MS, intervalOption, readerFor } from './app-options.ts';
import { parseSourceList, sourceColumns, type Source } from '../firmware/app-config.ts';
import { portKind, setToolsVerbose } from '../firmware/espruino-tools.ts';
import { recordFromBoard, type RecordCounts, type RecordResult } from '../firmware/record.ts';
import { checkLabel, checkRecordingPath, LABEL_COLUMN, recordingHeader, RecordingFile, TIME_COLUMN } from '../data/recording-csv.ts';
import { checkOutputPaths } from '../core/output-paths.ts';
import { progressLine } from '../core/progress-line.ts';
import { UserError } from '../core/errors.ts';

/** What `record` reads from its command line. */
interface RecordCommandOptions {
  port: string;
  source?: string;
  reader?: string;
  columns?: string[];
  interval?: number;
  duration?: number;
  samples?: number;
  label?: string;
  out: string;
  overwrite?: boolean;
  timeout: number;
  verbose?: boolean;
  json?: boolean;
}

export function recordCommand(): Command {
  const cmd = new Command('record').description(
    "stream an Espruino board's readings into a CSV that train reads as it is (a time column, a column per reading, an optional label), until --duration, --samples or Ctrl-C",
  );
  cmd.requiredOption('--port <port>', 'serial port (/dev/ttyACM0), Bluetooth address (aa:bb:cc:dd:ee:ff) or tcp://host:port');
  addSourceOptions(cmd, 'a column each, in order');
  cmd
    .addOption(
      new Option(
        '--columns <names>',
        "the readings' column names, in order (needed with --source function; default temperature, analog_PIN, accel_x,accel_y,accel_z, mag_x,mag_y,mag_z)",
      ).argParser(listOption),
    )
    .addOption(intervalOption(String(DEFAULT_INTERVAL_MS)))
    .addOption(
      new Option('--duration <seconds>', "record the samples of this many seconds (by the board's clock)").argParser(
        floatOption(0, 1e7, { exclusiveMin: true }),
      ),
    )
    .addOption(new Option('--samples <n>', 'record this many rows').argParser(intOption(1, 1_000_000_000)))
    .addOption(
      new Option('--label <text>', 'a label column holding this text in every row (the class of a gesture, for --label label in train)'),
    )
    .addOption(new Option('--out <csv>', 'the CSV to write (never replaced without --overwrite)').default('recording.csv'))
    .option('--overwrite', 'replace --out if it exists')
    .addOption(
      new Option('--timeout <seconds>', 'time limit of each step (connect, upload, stop), and of silence while recording')
        .argParser(intOption(1, 3600))
        .default(20),
    )
    .option('--verbose', "show espruino-tools' own log on stderr")
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .action(async (o: RecordCommandOptions) => {
      await runAction('record', () => runRecord(o));
      // espruino-tools keeps timers and sockets of a dropped connection alive: end here, output written.
      process.exit(process.exitCode ?? 0);
    });
  return cmd;
}

/** The sources and their column names; a 'function' source's readings are named by --columns, whose count they take. */
function sourcesAndColumns(o: RecordCommandOptions): { sources: Source[]; columns: string[] } {
  const spec = o.source ?? 'temperature';
  const sources = parseSourceList(spec, o.columns?.length ?? 0);
  if (o.columns === undefined) {
    if (sources.some((s) => s.kind === 'function'))
      throw new UserError('--source function needs --columns <names>: the names of the readings readSensor(out) writes, in order');
    return { sources, columns: sources.flatMap((s) => sourceColumns(s)!) };
  }
  const readings = sources.reduce((sum, s) => sum + s.channels, 0);
  if (o.columns.length !== readings)
    throw new UserError(
      `--columns names ${o.columns.length} column${o.columns.length === 1 ? '' : 's'}, but --source '${spec}' gives ${readings} reading${readings === 1 ? '' : 's'} per sample`,
    );
  return { sources, columns: o.columns };
}

/**
 * When the recording is complete: --samples rows, or the rows of the first --duration seconds by
 * the board's clock (the sample at or past it is not written). `take` says whether a row is kept.
 */
function recordingLimit(o: RecordCommandOptions, reached: () => void) {
  let firstMs: number | undefined;
  let done = false;
  return {
    take(timeMs: number): boolean {
      if (done) return false;
      firstMs ??= timeMs;
      if (o.duration !== undefined && timeMs - firstMs >= o.duration * 1000) {
        done = true;
        reached();
        return false;
      }
      return true;
    },
    wrote(rows: number): void {
      if (o.samples !== undefined && rows >= o.samples && !done) {
        done = true;
        reached();
      }
    },
  };
}

async function runRecord(o: RecordCommandOptions): Promise<void> {
  setToolsVerbose(Boolean(o.verbose));
  portKind(o.port);
  const intervalMs = o.interval ?? DEFAULT_INTERVAL_MS;
  const { sources, columns } = sourcesAndColumns(o);
  const reader = readerFor(sources, o.reader);
  if (o.label !== undefined) checkLabel(o.label);
  const header = recordingHeader(columns, o.label !== undefined);
  checkOutputPaths([{ what: '--out', path: o.out }], [{ what: '--reader', path: o.reader }]);
  checkRecordingPath(o.out, Boolean(o.overwrite));
  const file = new RecordingFile(o.out, header, o.label, Boolean(o.overwrite));
  const stop = new AbortController();
  const limit = recordingLimit(o, () => stop.abort());
  const interrupt = stopOnCtrlC(stop, file);
  const progress = progressLine('record', process.stderr, { firstAfterMs: 0 });
  const until = o.duration === undefined && o.samples === undefined ? ' until Ctrl-C' : '';
  process.stderr.write(`recording ${header.join(', ')} every ${intervalMs} ms into ${o.out}${until}\n`);
  let result: RecordResult;
  try {
    result = await recordFromBoard({
      port: o.port,
      timeoutMs: o.timeout * 1000,
      program: { sources, ...(reader !== undefined ? { reader } : {}), intervalMs },
      stop: stop.signal,
      log: (line) => {
        progress.done();
        process.stderr.write(`${line}\n`);
      },
      row: (timeMs, readings) => {
        if (!limit.take(timeMs)) return;
        file.append(timeMs, readings);
        limit.wrote(file.rows);
      },
      tick: (c) => progress.update(() => liveCount(file.rows, c)),
    });
  } catch (e) {
    // what was recorded stays: the message says where
    if (e instanceof UserError && file.rows > 0)
      throw new UserError(`${e.message}; the ${file.rows} row${file.rows === 1 ? '' : 's'} recorded before are in ${o.out}`);
    throw e;
  } finally {
    progress.done();
    file.close();
    interrupt.release();
  }
  report(o, result, file, header);
}

/** "120 rows (2 bad samples skipped, 1 lost)". */
function liveCount(rows: number, c: RecordCounts): string {
  const notes = [...(c.bad > 0 ? [`${c.bad} bad skipped`] : []), ...(c.lost > 0 ? [`${c.lost} lost`] : [])];
  return `${rows.toLocaleString('en')} row${rows === 1 ? '' : 's'}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}

/** Ctrl-C ends the recording (the board is told to stop, its last lines kept); a second one ends the process at once (the file is whole). */
function stopOnCtrlC(stop: AbortController, file: RecordingFile) {
  const onInterrupt = () => {
    if (!stop.signal.aborted) {
      process.stderr.write('\nstopping: the board ends its sampling (Ctrl-C again quits at once)\n');
      stop.abort();
      return;
    }
    file.close();
    process.stderr.write(`lstm-mcu record: interrupted; the ${file.rows} rows recorded are in ${file.path}\n`);
    process.exit(130);
  };
  process.on('SIGINT', onInterrupt);
  return { release: () => process.off('SIGINT', onInterrupt) };
}

function report(o: RecordCommandOptions, r: RecordResult, file: RecordingFile, header: string[]): void {
  if (file.rows === 0)
    throw new UserError(
      `no rows recorded from ${o.port}${r.bad > 0 ? `: all ${r.bad} samples had a bad reading (NaN or Infinity)` : ''}; nothing written`,
    );
  console.log(`recorded ${file.rows} rows from ${r.board} at ${o.port} into ${o.out}, every ${o.interval ?? DEFAULT_INTERVAL_MS} ms`);
  if (r.bad > 0) console.log(`skipped ${r.bad} sample${r.bad === 1 ? '' : 's'} with a bad reading (NaN or Infinity)`);
  if (r.lost > 0) console.log(`lost ${r.lost} sample${r.lost === 1 ? '' : 's'} on the way (their lines did not arrive whole)`);
  const readings = header.filter((c) => c !== TIME_COLUMN && c !== LABEL_COLUMN);
  const task = o.label !== undefined ? `--label ${LABEL_COLUMN}` : `--target ${readings[0]}`;
  console.log(`train on it: lstm-mcu train --data ${o.out} --features ${readings.join(',')} ${task} --time ${TIME_COLUMN}`);
  if (o.json)
    printJson({
      command: 'record',
      port: o.port,
      board: r.board,
      out: o.out,
      rows: file.rows,
      columns: header,
      bad: r.bad,
      lost: r.lost,
      corrupt: r.corrupt,
    });
}
