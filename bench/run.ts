/**
 * npm run bench: per-step time of the generated int8 code against the float
 * code a user would otherwise write and against the floor (the dot products
 * alone), as ratios measured in one run on each engine found: Node and duk
 * always, Espruino and JerryScript when ESPRUINO_BIN / JERRY_BIN are set.
 * On Espruino also the blocks the loaded model takes and their growth over
 * many steps (must be zero). Prints a table and writes JSON (--out).
 *
 *   npm run bench [-- --out out/bench.json --memory-steps 10000 --units 16,32,64 --cells lstm,gru]
 *
 * On Espruino, LSTM rows, also the least any LSTM step can take there: the floor
 * plus the cell update (bench/float-baseline.ts, floorSource), as a ratio to the floor.
 * The generated module, the floor and that bound are pretokenised (E.setFlags);
 * the float baseline, the code a user would write, is not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { dukPath } from '../parity/engines.ts';
import { writeFileAtomic } from '../core/write-atomic.ts';
import type { CellKind } from '../core/model.ts';
import { BENCH_INPUTS as INPUTS, IMPLEMENTATIONS, benchCase, measured, type BenchCase, type Implementation } from './cases.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const outPath = arg('out', 'out/bench.json');
const memorySteps = Number(arg('memory-steps', '10000'));
const unitSizes = arg('units', '16,32,64').split(',').map(Number);
const cells = arg('cells', 'lstm,gru').split(',') as CellKind[];

interface EngineSpec {
  name: string;
  command: string;
  /** Wall-clock budget per measurement, ms. */
  budgetMs: number;
}

const engines: EngineSpec[] = [{ name: 'node', command: process.execPath, budgetMs: 400 }];
const duk = dukPath();
if (duk) engines.push({ name: 'duk', command: duk, budgetMs: 600 });
else console.error('bench: duk not found (apt-get install duktape), skipped');
if (process.env.ESPRUINO_BIN) engines.push({ name: 'espruino', command: process.env.ESPRUINO_BIN, budgetMs: 1500 });
else console.error('bench: ESPRUINO_BIN not set, Espruino skipped');
if (process.env.JERRY_BIN) engines.push({ name: 'jerry', command: process.env.JERRY_BIN, budgetMs: 600 });
else console.error('bench: JERRY_BIN not set, JerryScript skipped');

/** The timing driver (ES5): runs the implementation until the budget is spent, prints ms/step. */
function driver(bench: BenchCase, name: Implementation, budgetMs: number, measureMemory: boolean): string {
  const call = bench.call(name);
  return `
(function () {
  var out = typeof print === "function" ? print : function (s) { console.log(s); };
  var now = typeof getTime === "function" ? function () { return getTime() * 1000; } : function () { return Date.now(); };
  var x = [0.5, -1.25, 2], xq = new Int8Array([40, -90, 127]);
  var i, n = 0, t0, t;
  for (i = 0; i < 3; i++) ${call};
  t0 = now();
  do { for (i = 0; i < 5; i++) ${call}; n += 5; t = now() - t0; } while (t < ${budgetMs});
  out("BENCH ${name} " + (t / n) + " " + n);
  ${
    measureMemory
      ? `var m0, m1;
  m0 = process.memory().usage;
  for (i = 0; i < ${memorySteps}; i++) ${call};
  m1 = process.memory().usage;
  out("MEMORY model " + BENCH_MODEL_BLOCKS + " growth " + (m1 - m0));`
      : ''
  }
})();
`;
}

function runFile(command: string, source: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-bench-'));
  const file = path.join(dir, 'bench.js');
  fs.writeFileSync(file, source);
  return new Promise((resolve, reject) => {
    const child = execFile(command, [file], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 1_800_000 }, (error, stdout, stderr) => {
      fs.rmSync(dir, { recursive: true, force: true });
      if (error && !stdout.includes('BENCH')) {
        const code = (error as { code?: unknown }).code;
        reject(
          new Error(
            `exited with ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}${code === 10 ? ' (JerryScript: out of heap)' : ''}`,
          ),
        );
      } else resolve(stdout);
    });
    child.stdin?.end();
  });
}

interface Row {
  engine: string;
  model: string;
  msPerStep: Record<string, number>;
  int8: number;
  speedupVsFloat: number;
  ratioToFloor: number;
  /** Espruino, LSTM: the least any LSTM step takes (the floor plus the cell update), over the floor. */
  boundToFloor?: number;
  modelBlocks?: number;
  blockGrowth?: number;
  /** Constant data of the generated int8 model (weights, biases, multipliers; the 4 KiB table apart) and of the float baseline (Float32Array). */
  int8WeightBytes: number;
  floatWeightBytes: number;
  /** Implementations that did not run on this engine, and why. */
  failures: string[];
}

const rows: Row[] = [];
for (const [cell, units] of cells.flatMap((c) => unitSizes.map((u) => [c, u] as const))) {
  const bench = benchCase(cell, units);
  for (const engine of engines) {
    const isEspruino = engine.name === 'espruino';
    process.stderr.write(`bench: ${bench.label} on ${engine.name}...\n`);
    const ms: Record<string, number> = {};
    const failures: string[] = [];
    let mem: RegExpExecArray | null = null;
    for (const impl of IMPLEMENTATIONS) {
      if (!measured(impl, engine.name, cell)) continue;
      const measureMemory = isEspruino && impl === 'int8-espruino' && memorySteps > 0;
      const source = [
        measureMemory ? 'var BENCH_M0 = process.memory().usage;' : '',
        bench.source(impl),
        measureMemory ? 'var BENCH_MODEL_BLOCKS = process.memory().usage - BENCH_M0;' : '',
        driver(bench, impl, engine.budgetMs, measureMemory),
      ].join('\n');
      try {
        const stdout = await runFile(engine.command, source);
        const m = /BENCH (\S+) (\S+) (\d+)/.exec(stdout);
        if (m) ms[impl] = Number(m[2]);
        mem = /MEMORY model (-?\d+) growth (-?\d+)/.exec(stdout) ?? mem;
      } catch (err) {
        failures.push(`${impl}: ${(err as Error).message.split('\n').filter(Boolean).slice(-1)[0]}`);
      }
    }
    for (const f of failures) process.stderr.write(`bench: ${engine.name} ${bench.label} ${f}\n`);
    // The int8 code that engine would run: the espruino target on Espruino, the es5 target elsewhere.
    const int8 = isEspruino ? ms['int8-espruino'] : ms['int8-es5'];
    rows.push({
      engine: engine.name,
      model: bench.label,
      msPerStep: ms,
      int8,
      speedupVsFloat: ms.float / int8,
      ratioToFloor: int8 / ms.floor,
      boundToFloor: ms.bound === undefined ? undefined : ms.bound / ms.floor,
      int8WeightBytes: bench.int8WeightBytes,
      floatWeightBytes: bench.floatWeightBytes,
      modelBlocks: mem ? Number(mem[1]) : undefined,
      blockGrowth: mem ? Number(mem[2]) : undefined,
      failures,
    });
  }
}

const fmt = (v: number | undefined, d = 3) => (v === undefined || !Number.isFinite(v) ? '-' : v.toPrecision(d));
const lines = [
  '| engine | model | int8 ms/step | float ms/step | floor ms/step | int8 vs float | int8 / floor | least LSTM step / floor | weights int8 / float | model blocks | block growth |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.engine} | ${r.model} | ${fmt(r.int8)} | ${fmt(r.msPerStep.float)} | ${fmt(r.msPerStep.floor)} | ${Number.isFinite(r.speedupVsFloat) ? `${fmt(r.speedupVsFloat)}x faster` : '-'} | ${fmt(r.ratioToFloor)} | ${fmt(r.boundToFloor)} | ${r.int8WeightBytes} / ${r.floatWeightBytes} B | ${r.modelBlocks ?? '-'} | ${r.blockGrowth === undefined ? '-' : `${r.blockGrowth} over ${memorySteps} steps`} |`,
  ),
];
console.log(lines.join('\n'));
for (const r of rows) for (const f of r.failures) console.log(`${r.engine} ${r.model}: ${f}`);
const machine = `${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}, node ${process.version}`;
writeFileAtomic(outPath, JSON.stringify({ machine, date: new Date().toISOString(), inputs: INPUTS, memorySteps, rows }, null, 2) + '\n');
console.log(`machine: ${machine}\nwrote ${outPath}`);
