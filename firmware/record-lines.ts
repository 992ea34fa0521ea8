/**
 * What the record program prints, read back from a board's console output
 * (firmware/es5/record.js writes it). A line counts only when it is whole
 * (ended by a newline) and passes every check: its prefix, a field per
 * reading, numbers where numbers belong, and the CRC-32 the board computed;
 * anything else on the console (a prompt, another program's output) is
 * noise, and a line that has the prefix but fails a check is corrupt.
 */
import { crc32 } from '../core/crc32.ts';
import { parseNumberStrict } from '../data/csv.ts';
import { END_PREFIX, ERROR_PREFIX, SAMPLE_PREFIX } from './record-program.ts';

export type RecordLine =
  /** A sample: its number, its time in ms since the first sample (board clock), its readings (NaN where the board read NaN or ±Infinity). */
  | { kind: 'sample'; sample: number; ms: number; readings: number[] }
  /** The reader threw at sample `sample`: the board stopped sampling. */
  | { kind: 'error'; sample: number; message: string }
  /** stop() ran: the board took `samples` samples. */
  | { kind: 'end'; samples: number }
  /** A line with the sample prefix that fails a check (garbled on the way). */
  | { kind: 'corrupt'; text: string };

const SAMPLE_LINE = /^(\d+),(-?\d+),([^*]*)\*([0-9a-f]{1,8}|-)$/;
const ERROR_LINE = new RegExp(`${ERROR_PREFIX},(\\d+),(.*)$`);
const END_LINE = new RegExp(`${END_PREFIX},(\\d+)$`);
/** What Espruino prints for a reading that is no number. */
const NOT_A_NUMBER = /^[+-]?(NaN|Infinity)$/;

/** One whole line (its line end taken off) -> what it says, or undefined for console noise. */
export function parseRecordLine(line: string, channels: number): RecordLine | undefined {
  const error = ERROR_LINE.exec(line);
  if (error) return { kind: 'error', sample: Number(error[1]), message: error[2]!.trim() };
  const end = END_LINE.exec(line);
  if (end) return { kind: 'end', samples: Number(end[1]) };
  // the last prefix on the line: a prompt or an unfinished line may stand before it
  const at = line.lastIndexOf(`${SAMPLE_PREFIX},`);
  if (at < 0) return undefined;
  const body = line.slice(at);
  const corrupt = { kind: 'corrupt', text: body } as const;
  const m = SAMPLE_LINE.exec(body.slice(SAMPLE_PREFIX.length + 1));
  if (!m) return corrupt;
  const signed = body.slice(0, body.lastIndexOf('*'));
  if (m[4] !== '-' && parseInt(m[4]!, 16) !== crc32(Buffer.from(signed, 'latin1'))) return corrupt;
  const fields = m[3]!.split(',');
  if (fields.length !== channels) return corrupt;
  const readings: number[] = [];
  for (const f of fields) {
    const v = parseNumberStrict(f);
    if (v === undefined && !NOT_A_NUMBER.test(f)) return corrupt;
    readings.push(v ?? NaN);
  }
  return { kind: 'sample', sample: Number(m[1]), ms: Number(m[2]), readings };
}

/** The console output as it arrives, in chunks -> the whole lines' meanings; an unfinished line waits for its end. */
export class RecordLineReader {
  private pending = '';
  /** The last characters the board printed (for an error message). */
  recent = '';

  constructor(private readonly channels: number) {}

  push(text: string): RecordLine[] {
    this.recent = (this.recent + text).slice(-120);
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop()!;
    const out: RecordLine[] = [];
    for (const line of lines) {
      const r = parseRecordLine(line.replace(/\r$/, ''), this.channels);
      if (r) out.push(r);
    }
    return out;
  }
}
