/**
 * A recording as a CSV that `train` reads as it stands: the header
 * `time,<reading columns>[,label]`, a row per sample, `time` in seconds
 * (train --time time finds the sampling period from it), the readings as
 * numbers, the label (a class, for classifiers) in every row.
 *
 * The file never holds half a row: each row is one write of whole bytes, so
 * it is valid CSV at every moment, and it is flushed to disk at least once a
 * second. It is created with the first row: a recording that got no row
 * leaves no file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { isMissingCell, quote } from './csv.ts';

export const TIME_COLUMN = 'time';
export const LABEL_COLUMN = 'label';
/** Longest time between flushes to disk. */
const SYNC_EVERY_MS = 1000;

/** A header name or a label as a CSV field: quoted when it holds a comma or a quote (its quotes doubled). */
function csvField(text: string): string {
  return /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A text the CSV reader gives back as written: no line ends or control characters, no spaces at its ends (it trims them). */
function checkText(what: string, text: string): void {
  if (/[\x00-\x1f\x7f]/.test(text)) throw new UserError(`${what} ${quote(text)}: no line ends or control characters`);
  if (text.trim() !== text) throw new UserError(`${what} ${quote(text)}: no spaces at its start or end (a CSV reader trims them)`);
}

/** The header of a recording of `columns` (with a label column when labelled); every name checked. */
export function recordingHeader(columns: readonly string[], labelled: boolean): string[] {
  const header = [TIME_COLUMN, ...columns, ...(labelled ? [LABEL_COLUMN] : [])];
  for (const c of columns) {
    if (c === '') throw new UserError('--columns: a column name is empty');
    checkText('--columns: the name', c);
  }
  const twice = header.find((c, i) => header.indexOf(c) !== i);
  if (twice !== undefined)
    throw new UserError(
      `--columns: ${quote(twice)} names two columns (the recording's columns are ${header.map(quote).join(', ')}); name the readings with --columns`,
    );
  return header;
}

/** --label: a text the CSV reader takes as a class, not as a missing value. */
export function checkLabel(label: string): void {
  if (isMissingCell(label)) throw new UserError(`--label ${quote(label)}: the CSV reader takes it as a missing value; choose another`);
  checkText('--label', label);
}

/** Refuse, before anything is connected or written, an --out that would replace a recording (unless `overwrite`) or has no folder. */
export function checkRecordingPath(file: string, overwrite: boolean): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new UserError(`--out ${file}: is a folder, expected a CSV file name`);
  if (stat?.isFile() && !overwrite)
    throw new UserError(`--out ${file}: the file exists; pass --overwrite to replace it, or choose another name`);
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new UserError(`--out ${file}: no folder ${dir}`);
}

export class RecordingFile {
  private fd: number | undefined;
  private syncedAt = 0;
  /** Bytes of whole lines written. */
  private size = 0;
  rows = 0;

  /** `label`: the text of every row's label column, when labelled. */
  constructor(
    readonly path: string,
    private readonly header: readonly string[],
    private readonly label: string | undefined,
    private readonly overwrite: boolean,
  ) {}

  /** One row: its time (ms since 1970), its readings. Written whole, before this returns. */
  append(timeMs: number, readings: readonly number[]): void {
    if (this.fd === undefined) this.open();
    const cells = [(timeMs / 1000).toFixed(3), ...readings.map(String), ...(this.label !== undefined ? [csvField(this.label)] : [])];
    this.write(`${cells.join(',')}\n`);
    this.rows++;
    if (Date.now() - this.syncedAt >= SYNC_EVERY_MS) this.sync();
  }

  /** Flushed to disk and closed (nothing to do when no row came). */
  close(): void {
    if (this.fd === undefined) return;
    this.sync();
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    try {
      // a new file, unless replacing one was asked for (checkRecordingPath said so before the recording began)
      this.fd = fs.openSync(this.path, this.overwrite ? 'w' : 'wx');
    } catch (e) {
      throw new UserError(`cannot write ${this.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    this.write(`${this.header.map(csvField).join(',')}\n`);
  }

  /** Whole lines or nothing: a write cut short (a full disk) is taken back to the last whole line. */
  private write(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    try {
      while (done < bytes.length) done += fs.writeSync(this.fd!, bytes, done);
      this.size += bytes.length;
    } catch (e) {
      if (done > 0) this.takeBack();
      throw new UserError(`cannot write ${this.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  private takeBack(): void {
    try {
      fs.ftruncateSync(this.fd!, this.size);
    } catch {
      // a pipe cannot be taken back; its reader has the part line
    }
  }

  private sync(): void {
    this.syncedAt = Date.now();
    try {
      fs.fdatasyncSync(this.fd!);
    } catch {
      // a pipe or a terminal (--out /dev/stdout) has nothing to flush
    }
  }
}
