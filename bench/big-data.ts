/**
 * npm run bench:big-data: `lstm-mcu train` on a generated CSV of 10 million
 * rows (a daily wave and noise, one feature), as a user with a year of
 * readings every few seconds would run it. Measures the command's peak
 * resident memory (its own maxRSS, read at exit), the seconds until its first
 * progress line and the longest silence between two lines on stderr, and the
 * total time. The model is kept small (LSTM(8), window 8, one epoch,
 * streamed deployment) so the run takes minutes; memory does not depend on
 * those choices but on rows × features (the windows are views of the rows).
 *
 *   npm run bench:big-data [-- --rows 10000000 --out out/bench-big-data.json]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../core/write-atomic.ts';
import { mulberry32 } from '../core/prng.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ROWS = Number(arg('rows', '10000000'));
const outPath = arg('out', 'out/bench-big-data.json');
const CLI = fileURLToPath(new URL('../bin/lstm-mcu.js', import.meta.url));
const TRAIN_ARGS = ['--features', 'value', '--target', 'value', '--epochs', '1', '--units', '8', '--window', '8', '--deploy', 'stream'];

/** t,value rows: a wave of period 24 and uniform noise, written in blocks. */
async function writeCsv(file: string, rows: number): Promise<void> {
  const out = fs.createWriteStream(file);
  const rand = mulberry32(7);
  out.write('t,value\n');
  for (let start = 0; start < rows; start += 100_000) {
    let block = '';
    for (let i = start; i < Math.min(rows, start + 100_000); i++)
      block += `${i},${(10 * Math.sin((i / 24) * 2 * Math.PI) + rand()).toFixed(3)}\n`;
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

interface Run {
  code: number | null;
  seconds: number;
  maxRssMB: number;
  firstProgressS: number;
  longestSilenceS: number;
  lastLines: string[];
}

/** The CLI as a child; a preloaded hook prints its maxRSS at exit; stderr lines are timed as they come. */
function runTrain(data: string, out: string): Promise<Run> {
  const hook = path.join(path.dirname(out), 'max-rss.cjs');
  fs.writeFileSync(hook, `process.on('exit', () => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n'));\n`);
  const started = performance.now();
  const stamps: number[] = [];
  const lines: string[] = [];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', hook, CLI, 'train', '--data', data, '--out', out, ...TRAIN_ARGS], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    const take = (chunk: Buffer) => {
      partial += String(chunk);
      let i;
      while ((i = partial.indexOf('\n')) >= 0) {
        lines.push(partial.slice(0, i));
        stamps.push((performance.now() - started) / 1000);
        process.stderr.write(`${stamps[stamps.length - 1]!.toFixed(1).padStart(7)} s  ${partial.slice(0, i)}\n`);
        partial = partial.slice(i + 1);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const rss = lines.map((l) => /^MAXRSS (\d+)/.exec(l)).find(Boolean);
      const gaps = stamps.map((t, k) => t - (k ? stamps[k - 1]! : 0));
      resolve({
        code,
        seconds,
        maxRssMB: rss ? Number(rss[1]) / 1024 : NaN,
        firstProgressS: stamps[0] ?? NaN,
        longestSilenceS: Math.max(...gaps),
        lastLines: lines.slice(-12),
      });
    });
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-big-data-'));
  try {
    const data = path.join(dir, 'big.csv');
    await writeCsv(data, ROWS);
    const mb = fs.statSync(data).size / 1e6;
    console.error(`big data: ${ROWS.toLocaleString('en')} rows, ${mb.toFixed(0)} MB; lstm-mcu train ${TRAIN_ARGS.join(' ')}`);
    const run = await runTrain(data, path.join(dir, 'model.float.pb'));
    if (run.code !== 0) throw new Error(`train failed (exit ${run.code}): ${run.lastLines.join(' | ')}`);
    const result = { rows: ROWS, csvMB: Math.round(mb), args: TRAIN_ARGS, ...run, lastLines: undefined };
    console.log(
      `big data: ${ROWS.toLocaleString('en')} rows (${mb.toFixed(0)} MB CSV): peak memory ${run.maxRssMB.toFixed(0)} MB, ` +
        `first progress after ${run.firstProgressS.toFixed(1)} s, longest silence ${run.longestSilenceS.toFixed(1)} s, ${run.seconds.toFixed(0)} s in all`,
    );
    fs.mkdirSync(path.dirname(outPath), { recursive: true });
    writeFileAtomic(outPath, JSON.stringify(result, null, 2) + '\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
