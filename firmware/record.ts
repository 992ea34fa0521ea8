/**
 * Record a board's readings: connect through espruino-tools, put the record
 * program (firmware/record-program.ts) in the board's RAM, start it, and hand
 * each good sample line to `row` as it arrives, until `stop` is aborted (then
 * the board is told to stop and its last lines are taken), the reader fails
 * on the board, or the link drops. Nothing is written to the board's Storage,
 * and the program stops its own timer: the board runs what it ran before.
 *
 * Time: each row's time is the host's clock at the first sample plus the
 * board's clock since. The board's clock says when a reading was taken; the
 * host's says when its line arrived, late by however the link buffers
 * (Bluetooth delivers lines in bursts), so only the board's gives the
 * sampling period the model will see. The host's clock dates the recording.
 */
import { UserError } from '../core/errors.ts';
import { BoardConnection, portKind } from './espruino-tools.ts';
import { boardEnv } from './flash.ts';
import { RecordLineReader, type RecordLine } from './record-lines.ts';
import { channelsOf, recordUpload, RECORD_GLOBAL, type RecordProgramOptions } from './record-program.ts';

export interface RecordCounts {
  /** Sample lines received whole and checked (a row each, but for the bad ones and those past a row limit). */
  samples: number;
  /** Of those, the samples skipped: a reading was NaN or ±Infinity. */
  bad: number;
  /** Lines with the sample prefix that failed a check. */
  corrupt: number;
  /** Samples the board took whose line never arrived good (the corrupt ones among them). */
  lost: number;
}

export interface RecordOptions {
  port: string;
  /** Time limit of each step (connect, upload, the end of sampling); silence longer than this and two intervals is an error. */
  timeoutMs: number;
  program: Omit<RecordProgramOptions, 'stopOnDisconnect'>;
  /** Aborted: stop sampling and finish (Ctrl-C, the duration, the row count). */
  stop: AbortSignal;
  log: (line: string) => void;
  /** A good sample: its time (ms since 1970) and readings. A throw ends the recording (the board is stopped). */
  row: (timeMs: number, readings: number[]) => void;
  /** The counts so far, every poll (a live count). */
  tick?: (c: RecordCounts) => void;
}

export interface RecordResult extends RecordCounts {
  board: string;
}

/** How often the console output is read. */
const POLL_MS = 50;
/** Source characters uploaded per expression. */
const UPLOAD_CHUNK = 256;
/** The global the program's source is gathered in while it uploads. */
const SOURCE_GLOBAL = 'lstmRecordSource';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function recordFromBoard(o: RecordOptions): Promise<RecordResult> {
  const stopOnDisconnect = portKind(o.port) === 'ble';
  o.log(`connecting to ${o.port}`);
  const connectStart = Date.now();
  const board = await BoardConnection.open(o.port, o.timeoutMs);
  try {
    const env = await boardEnv(board, o, o.timeoutMs - (Date.now() - connectStart));
    const name = `${env.BOARD ?? 'unknown board'} ${env.VERSION ?? ''}`.trim();
    o.log(`connected: ${name}`);
    const code = await recordUpload({ ...o.program, stopOnDisconnect });
    await uploadProgram(board, code, o.timeoutMs);
    return { board: name, ...(await streamSamples(board, o)) };
  } finally {
    await board.close();
  }
}

/**
 * The program into RAM a chunk per expression (each waits for the board's answer, so no link
 * overruns its input), the length gathered checked, then run.
 */
async function uploadProgram(board: BoardConnection, code: string, timeoutMs: number): Promise<void> {
  await board.evaluate(`(${SOURCE_GLOBAL}="",0)`, 'uploading the record program', timeoutMs);
  for (let at = 0; at < code.length; at += UPLOAD_CHUNK) {
    const chunk = code.slice(at, at + UPLOAD_CHUNK);
    const length = await board.evaluate(`(${SOURCE_GLOBAL}+=${JSON.stringify(chunk)}).length`, 'uploading the record program', timeoutMs);
    if (length !== at + chunk.length)
      throw new UserError(
        `uploading the record program to ${board.port}: the board holds ${String(length)} characters of ${at + chunk.length}`,
      );
  }
  const defined = await board.evaluate(
    `(eval(${SOURCE_GLOBAL}),${SOURCE_GLOBAL}=undefined,typeof ${RECORD_GLOBAL}.start)`,
    'starting the record program',
    timeoutMs,
  );
  if (defined !== 'function') throw new UserError(`the record program did not start on ${board.port} (${RECORD_GLOBAL} is not defined)`);
}

/** What the sample lines add up to; each good sample goes to `row` with its time. */
class Tally implements RecordCounts {
  samples = 0;
  bad = 0;
  corrupt = 0;
  lost = 0;
  /** The board's count from its end line. */
  boardSamples: number | undefined;
  private highest = -1;
  /** Host time of board time 0 (ms since 1970). */
  private anchorMs: number | undefined;

  constructor(private readonly row: (timeMs: number, readings: number[]) => void) {}

  take(line: RecordLine, port: string): void {
    switch (line.kind) {
      case 'sample':
        this.samples++;
        this.highest = Math.max(this.highest, line.sample);
        this.anchorMs ??= Date.now() - line.ms;
        if (line.readings.every(Number.isFinite)) this.row(this.anchorMs + line.ms, line.readings);
        else this.bad++;
        break;
      case 'corrupt':
        this.corrupt++;
        break;
      case 'error':
        throw new UserError(`the reader failed on ${port} at sample ${line.sample}: ${line.message}`);
      case 'end':
        this.boardSamples = line.samples;
        break;
    }
    // every sample the board numbered (or, at the end, counted) whose line did not arrive good
    this.lost = Math.max(this.boardSamples ?? this.highest + 1, this.highest + 1) - this.samples;
  }
}

/** Start the program and take its lines until it ends; on a failure, stop the board's timer while the link is up. */
async function streamSamples(board: BoardConnection, o: RecordOptions): Promise<RecordCounts> {
  const lines = new RecordLineReader(channelsOf(o.program.sources));
  const tally = new Tally(o.row);
  const silenceMs = o.timeoutMs + 2 * o.program.intervalMs;
  board.clearOutput();
  board.send(`\x10${RECORD_GLOBAL}.start()\n`);
  let heardAt = Date.now();
  let stopSentAt: number | undefined;
  try {
    while (tally.boardSamples === undefined) {
      await sleep(POLL_MS);
      // read and cleared at once: no output arrives in between (one thread)
      const text = board.printed;
      board.clearOutput();
      if (text !== '') heardAt = Date.now();
      for (const line of lines.push(text)) if (tally.boardSamples === undefined) tally.take(line, board.port);
      o.tick?.(tally);
      if (tally.boardSamples !== undefined) break;
      if (board.isClosed) throw new UserError(`${board.port} disconnected`);
      if (o.stop.aborted && stopSentAt === undefined) {
        board.send(`\x10${RECORD_GLOBAL}.stop()\n`);
        stopSentAt = Date.now();
      }
      if (stopSentAt !== undefined && Date.now() - stopSentAt > o.timeoutMs)
        throw new UserError(`${board.port} did not confirm the end of sampling within ${o.timeoutMs / 1000} s`);
      if (stopSentAt === undefined && Date.now() - heardAt > silenceMs)
        throw new UserError(
          `${board.port} printed nothing for ${silenceMs / 1000} s: it stopped sending samples (last output: ${JSON.stringify(lines.recent)})`,
        );
    }
    if (!o.stop.aborted) throw new UserError(`the record program on ${board.port} stopped by itself`);
    return { samples: tally.samples, bad: tally.bad, corrupt: tally.corrupt, lost: tally.lost };
  } catch (e) {
    if (!board.isClosed && tally.boardSamples === undefined) await stopBoard(board);
    throw e;
  }
}

/** Tell the board to stop sampling and give it a moment to (best effort: the recording failed already). */
async function stopBoard(board: BoardConnection): Promise<void> {
  board.send(`\x10${RECORD_GLOBAL}.stop()\n`);
  await sleep(300);
}
