/**
 * The header of a CSV file alone (its column names), read from the file's
 * first line without streaming the rest: what a command checks its column
 * options against before it reads the rows (data/csv.ts).
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UserError } from '../core/errors.ts';
import type { Delimiter } from './csv.ts';

/** Bytes read to find the header line. */
const HEADER_BYTES = 1 << 20;

export function csvHeader(path: string, delimiter: Delimiter = ','): string[] {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(e)})`);
  }
  try {
    if (fs.fstatSync(fd).isDirectory()) throw new UserError(`${path}: is a directory, expected a CSV file`);
    const buffer = Buffer.alloc(HEADER_BYTES);
    const n = fs.readSync(fd, buffer, 0, HEADER_BYTES, 0);
    const text = buffer.subarray(0, n).toString('utf8');
    const line = text.split(/\r\n|\n|\r/).find((l) => l.trim() !== '');
    if (line === undefined) throw new UserError(`${path}: file is empty (expected a header row with column names)`);
    const [record] = parse(line, { delimiter, bom: true, trim: true, relax_quotes: true }) as string[][];
    return (record ?? []).map((h) => h.trim());
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${path}:1: malformed CSV header: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    fs.closeSync(fd);
  }
}
