import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CsvTable } from '../../data/csv.ts';

const dirs: string[] = [];

/** Writes `content` to a fresh temp file and returns its path. */
export function tempCsv(content: string | Buffer, name = 'data.csv'): string {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-mcu-trainer-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export function cleanupTemp(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A CsvTable built in memory (no file). */
export function table(columns: Record<string, ArrayLike<number>>, path = 'mem.csv'): CsvTable {
  const cols: Record<string, Float64Array> = {};
  let rows = 0;
  for (const [k, v] of Object.entries(columns)) {
    cols[k] = Float64Array.from(v);
    rows = v.length;
  }
  return { columns: cols, rows, lines: Uint32Array.from({ length: rows }, (_, i) => i + 2), sha256: '', path };
}
