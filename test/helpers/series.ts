/**
 * Series for the streamed-evaluation tests: a synthetic hourly reading with a
 * daily cycle, a wandering level and noise; and a plain reading of a numeric
 * CSV and its test ranges, written apart from the trainer (the documented
 * rule: each series is cut at floor(n·0.7) and floor(n·0.85), test the rest).
 */
import fs from 'node:fs';
import { mulberry32 } from '../../core/prng.ts';

/** "hour,temperature": 15 + 6 sin(2π t/24) + a random walk (0.02 per hour) + noise (0.3). */
export function dailyCycleCsv(rows: number, seed: number): string {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  const lines = ['hour,temperature'];
  let level = 0;
  for (let t = 0; t < rows; t++) {
    level += 0.02 * gauss();
    lines.push(`${t},${(15 + 6 * Math.sin((2 * Math.PI * t) / 24) + level + 0.3 * gauss()).toFixed(3)}`);
  }
  return lines.join('\n') + '\n';
}

/** The test rows of each series (a run of equal `group` values, or the whole file), columns `features`. */
export function testSeriesOf(csvPath: string, features: string[], group?: string): number[][][] {
  const [head, ...body] = fs.readFileSync(csvPath, 'utf8').trim().split(/\r?\n/);
  const names = head!.split(',').map((s) => s.trim().replace(/^"|"$/g, ''));
  const col = (n: string) => {
    const i = names.indexOf(n);
    if (i < 0) throw new Error(`${csvPath}: no column ${n}`);
    return i;
  };
  const rows = body.map((l) => l.split(',').map(Number));
  const runs: number[][][] = [];
  let start = 0;
  for (let r = 1; r <= rows.length; r++) {
    if (r === rows.length || (group !== undefined && rows[r]![col(group)] !== rows[start]![col(group)])) {
      const n = r - start;
      const testStart = start + Math.floor(n * (0.7 + 0.15));
      runs.push(rows.slice(testStart, r).map((row) => features.map((f) => row[col(f)]!)));
      start = r;
    }
  }
  return runs;
}
