/**
 * Streaming CSV reader: picks named numeric columns out of a (possibly huge)
 * CSV file without loading it whole, hashing the bytes on the way.
 */
import { escapeControls } from '../core/format.ts';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse, CsvError, type Parser } from 'csv-parse';
import { UserError } from '../core/errors.ts';
import { SILENT_PROGRESS, type ProgressLine } from '../core/progress-line.ts';

/** A missing cell: an error, the row dropped, the previous value repeated, or kept as NaN (a sensor that gave nothing). */
export type MissingPolicy = 'error' | 'drop' | 'ffill' | 'keep';

/** The field delimiters a CSV may use, each with its name on the command line (`--delimiter`). */
export const DELIMITERS = { ',': ',', ';': ';', '\t': 'tab' } as const;
export type Delimiter = keyof typeof DELIMITERS;

export interface CsvOptions {
  /** What to do with an empty cell or NA / NaN / null. Default 'error'. */
  missing?: MissingPolicy;
  /** Field delimiter, one of DELIMITERS; default ','. */
  delimiter?: Delimiter;
  /**
   * Series id column (one of the requested columns): 'ffill' never fills a
   * value across a change of it, so the first row of a series cannot be filled.
   */
  group?: string;
  /**
   * Columns whose cells may be text (class labels). A column with any cell
   * that is not a number is read as text: its values become codes 0..k-1 of
   * its distinct texts sorted (CsvTable.categories); an all-numeric column
   * stays numeric.
   */
  categorical?: string[];
  /** Reports the bytes read and rows kept while the file streams (see core/progress-line.ts). */
  progress?: ProgressLine;
}

export interface CsvTable {
  /** One array per requested column, all of length `rows`. */
  columns: Record<string, Float64Array>;
  /** Text columns (CsvOptions.categorical): the text of each code, sorted. */
  categories?: Record<string, string[]>;
  rows: number;
  /** 1-based line number in the file of each kept row (for error messages; always set by readCsvColumns). */
  lines?: Uint32Array;
  /** sha256 of the file bytes, hex. */
  sha256: string;
  path: string;
}

/** Cell texts that mean "no value" (compared case-insensitively, after trimming). */
const MISSING_TOKENS = new Set(['', 'na', 'nan', 'null']);

/** Decimal integers, decimals and exponents; nothing else (no hex, no Infinity). */
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function isMissingCell(text: string): boolean {
  return MISSING_TOKENS.has(text.trim().toLowerCase());
}

/** Parses one cell strictly; returns undefined if it is not a finite number. */
export function parseNumberStrict(text: string): number | undefined {
  const t = text.trim();
  if (!NUMBER_RE.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** sha256 (hex) of a file's bytes, streamed. */
export async function hashFile(path: string): Promise<string> {
  await checkReadable(path);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** "37% of 210 MB, 3,700,000 rows". */
function readingText(bytes: number, totalBytes: number, rows: number): string {
  const percent = totalBytes > 0 ? Math.floor((100 * bytes) / totalBytes) : 100;
  return `${percent}% of ${(totalBytes / 1e6).toFixed(0)} MB, ${rows.toLocaleString('en')} rows`;
}

/** The file's size in bytes, or a one-line error when it cannot be read. */
async function checkReadable(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(e)})`);
  }
  if (info.isDirectory()) throw new UserError(`${path}: is a directory, expected a CSV file`);
  return info.size;
}

class GrowableColumn {
  data = new Float64Array(1024);
  push(v: number, at: number): void {
    if (at >= this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[at] = v;
  }
}

/** Longest cell text an error message shows whole. */
const SHOWN_CHARS = 60;

/** A cell or a name in a message: quoted, its control characters and line ends escaped, a long one cut. */
export function quote(s: string): string {
  const visible = escapeControls(s);
  if (visible.length <= SHOWN_CHARS) return `'${visible}'`;
  return `'${visible.slice(0, SHOWN_CHARS)}…' (${s.length} characters)`;
}

/** What a cell's reading depends on besides its text. */
interface CellContext {
  missing: MissingPolicy;
  /** The row starts a series: nothing before it to forward-fill from. */
  seriesStart: boolean;
  firstRow: boolean;
  previous: number;
  previousText: string;
  /** "file:line: column 'name'", for errors. */
  where: string;
  group?: string;
}

/**
 * One cell: its number and text, or 'drop' (a missing cell under --missing
 * drop). A missing cell follows the policy; a text cell is NaN until coded
 * (text columns only); anything else that is not a number is an error.
 */
function readCell(text: string, textColumn: boolean, c: CellContext): [number, string] | 'drop' {
  if (isMissingCell(text)) {
    if (c.missing === 'drop') return 'drop';
    if (c.missing === 'keep') return [NaN, ''];
    if (c.missing === 'ffill') {
      if (c.seriesStart) {
        const where = c.firstRow ? 'the first data row' : `the first row of a new ${quote(c.group!)} series`;
        throw new UserError(`${c.where}: missing value in ${where}, nothing to forward-fill from (use --missing drop)`);
      }
      return [c.previous, c.previousText];
    }
    throw new UserError(`${c.where}: missing value${text.trim() ? ` ${quote(text.trim())}` : ''} (use --missing drop or --missing ffill)`);
  }
  const t = text.trim();
  const v = parseNumberStrict(text);
  if (v !== undefined) return [v, t];
  if (textColumn) return [NaN, t]; // a text value: coded once every row is read
  throw new UserError(`${c.where}: ${quote(t)} ${NUMBER_RE.test(t) ? 'is out of range' : 'is not a number'}`);
}

/** What went wrong while reading, as the user's error where it is one: a malformed CSV, an unreadable file. */
function readError(path: string, e: unknown): unknown {
  if (e instanceof UserError) return e;
  if (e instanceof CsvError) {
    const line = (e as CsvError & { lines?: number }).lines;
    return new UserError(`${path}${line ? `:${line}` : ''}: malformed CSV: ${e.message}`);
  }
  const code = (e as NodeJS.ErrnoException).code;
  return code ? new UserError(`${path}: cannot read (${code})`) : e;
}

/** The file streamed through the CSV parser, its bytes hashed on the way. */
function openCsv(path: string, delimiter: string): { input: ReadStream; parser: Parser; hash: Hash } {
  const hash = createHash('sha256');
  const input = createReadStream(path);
  input.on('data', (chunk) => hash.update(chunk as Buffer));
  const parser = parse({
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
  });
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  return { input, parser, hash };
}

/** How the rows are read: the file (for errors), the wanted columns, the missing-value policy, the series column. */
interface RowRules {
  path: string;
  wanted: string[];
  missing: MissingPolicy;
  group?: string;
  /** The group column's place among the wanted ones; -1 without one. */
  groupColumn: number;
}

/** The rows kept so far, column by column, with the file line of each; the last kept row is what ffill repeats. */
class KeptRows {
  readonly store: GrowableColumn[];
  /** Text columns: every kept row's cell text (undefined for the other columns). */
  readonly texts: (string[] | undefined)[];
  lines = new Uint32Array(1024);
  rows = 0;
  dropped = 0;
  private readonly prev: Float64Array;
  private readonly values: Float64Array;
  /** A text column's previous cell text (for ffill) and this row's. */
  private readonly prevText: string[];
  private readonly rowText: string[];

  constructor(
    private readonly rules: RowRules,
    categorical: string[] | undefined,
  ) {
    const { wanted } = rules;
    this.store = wanted.map(() => new GrowableColumn());
    this.prev = new Float64Array(wanted.length);
    this.values = new Float64Array(wanted.length);
    this.texts = wanted.map((name) => (categorical?.includes(name) ? ([] as string[]) : undefined));
    this.prevText = wanted.map(() => '');
    this.rowText = wanted.map(() => '');
  }

  /** One data record (`index`: the field of each wanted column): its cells read, the row kept unless one of them drops it. */
  add(record: string[], index: number[], line: number): void {
    const { path, wanted, missing, group } = this.rules;
    let drop = false;
    const seriesStart = this.startsSeries(record, index);
    for (let c = 0; c < wanted.length; c++) {
      const cell = readCell(record[index[c]!]!, this.texts[c] !== undefined, {
        missing,
        seriesStart,
        firstRow: this.rows === 0,
        previous: this.prev[c]!,
        previousText: this.prevText[c]!,
        where: `${path}:${line}: column ${quote(wanted[c]!)}`,
        group,
      });
      if (cell === 'drop') drop = true;
      else [this.values[c], this.rowText[c]] = cell;
    }
    if (drop) {
      this.dropped++;
      return;
    }
    this.keep(line);
  }

  /** Does this row start a new series (nothing before it to forward-fill from)? */
  private startsSeries(record: string[], index: number[]): boolean {
    const { groupColumn } = this.rules;
    let seriesStart = this.rows === 0;
    if (groupColumn >= 0 && !seriesStart) {
      const g = parseNumberStrict(record[index[groupColumn]!]!);
      seriesStart = g !== undefined && g !== this.prev[groupColumn];
    }
    return seriesStart;
  }

  private keep(line: number): void {
    for (let c = 0; c < this.rules.wanted.length; c++) {
      this.store[c]!.push(this.values[c]!, this.rows);
      this.texts[c]?.push(this.rowText[c]!);
      this.prevText[c] = this.rowText[c]!;
    }
    this.prev.set(this.values);
    if (this.rows >= this.lines.length) {
      const next = new Uint32Array(this.lines.length * 2);
      next.set(this.lines);
      this.lines = next;
    }
    this.lines[this.rows] = line;
    this.rows++;
  }
}

/**
 * Streams `path`, keeps `columns` (by header name) as numbers.
 * Throws UserError for anything wrong with the file, naming file:line and column.
 */
export async function readCsvColumns(path: string, columns: string[], opts: CsvOptions = {}): Promise<CsvTable> {
  const missing: MissingPolicy = opts.missing ?? 'error';
  const wanted = [...new Set(columns)];
  if (wanted.length === 0) throw new UserError(`${path}: no columns requested`);
  const totalBytes = await checkReadable(path);
  const progress = opts.progress ?? SILENT_PROGRESS;

  const { input, parser, hash } = openCsv(path, opts.delimiter ?? ',');
  let header: string[] | undefined;
  let index: number[] = [];
  const groupColumn = opts.group === undefined ? -1 : wanted.indexOf(opts.group);
  const kept = new KeptRows({ path, wanted, missing, group: opts.group, groupColumn }, opts.categorical);
  if (opts.group !== undefined && groupColumn < 0) throw new Error(`readCsvColumns: group column ${opts.group} is not requested`);

  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = item;
      const line = info.lines;
      if (header === undefined) {
        header = record.map((h) => h.trim());
        index = columnIndex(path, header, wanted, opts.delimiter ?? ',');
        continue;
      }
      if (record.length !== header.length) {
        throw new UserError(`${path}:${line}: expected ${header.length} fields (as in the header), found ${record.length}`);
      }
      kept.add(record, index, line);
      if ((line & 4095) === 0) progress.update(() => readingText(input.bytesRead, totalBytes, kept.rows));
    }
  } catch (e) {
    input.destroy();
    throw readError(path, e);
  } finally {
    progress.done();
  }

  if (header === undefined) throw new UserError(`${path}: file is empty (expected a header row with column names)`);
  const { rows } = kept;
  if (rows === 0) {
    if (kept.dropped > 0) {
      throw new UserError(`${path}: no rows left: all ${kept.dropped} data rows have missing values in the selected columns`);
    }
    throw new UserError(`${path}: no data rows after the header`);
  }
  return {
    ...finishColumns(wanted, kept.store, kept.texts, rows),
    rows,
    lines: kept.lines.slice(0, rows),
    sha256: hash.digest('hex'),
    path,
  };
}

/**
 * A header read as one column that holds another delimiter was most likely
 * split by that one: the hint that says which (empty when there is none).
 */
function delimiterHint(header: string[], delimiter: Delimiter): string {
  if (header.length !== 1) return '';
  const other = (Object.keys(DELIMITERS) as Delimiter[]).find((d) => d !== delimiter && header[0]!.includes(d));
  if (other === undefined) return '';
  // ';' quoted, as a shell needs it
  const option = other === ';' ? "';'" : DELIMITERS[other];
  return ` (the header is one column holding ${other === '\t' ? 'tabs' : `'${other}'`}: pass --delimiter ${option})`;
}

/** The index of each wanted column in the header; an unknown or repeated name is an error. */
function columnIndex(path: string, header: string[], wanted: string[], delimiter: Delimiter): number[] {
  return wanted.map((name) => {
    const hits = header.reduce<number[]>((acc, h, i) => (h === name ? [...acc, i] : acc), []);
    if (hits.length === 0) {
      throw new UserError(
        `${path}: unknown column ${quote(name)}; available columns: ${header.map(quote).join(', ')}${delimiterHint(header, delimiter)}`,
      );
    }
    if (hits.length > 1) throw new UserError(`${path}:1: column ${quote(name)} appears ${hits.length} times in the header`);
    return hits[0]!;
  });
}

/** The columns as read; a text column (any cell not a number) as codes of its sorted texts, and those texts. */
function finishColumns(
  wanted: string[],
  store: GrowableColumn[],
  texts: (string[] | undefined)[],
  rows: number,
): Pick<CsvTable, 'columns' | 'categories'> {
  const columns: Record<string, Float64Array> = {};
  const categories: Record<string, string[]> = {};
  wanted.forEach((name, c) => {
    columns[name] = store[c]!.data.slice(0, rows);
    const t = texts[c];
    if (t && t.some((v) => parseNumberStrict(v) === undefined)) {
      const names = [...new Set(t)].sort();
      const code = new Map(names.map((n, i) => [n, i]));
      columns[name] = Float64Array.from(t, (v) => code.get(v)!);
      categories[name] = names;
    }
  });
  return { columns, ...(Object.keys(categories).length ? { categories } : {}) };
}
