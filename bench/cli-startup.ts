/**
 * npm run bench:startup (and the end of npm run bench): how long the command
 * takes to start, as `lstm-mcu --help` and `lstm-mcu --version`, the compiled
 * dist/ through bin/lstm-mcu.js as a user runs it, against the same sources
 * through tsx (how the command ran before the build). Each the median and the
 * fastest of `--runs` runs, in wall-clock seconds and in the CPU seconds the
 * process used (user + system, read at its exit: on a machine shared with
 * other jobs the wall clock waits for the CPU, the CPU time much less); the
 * goal is under 0.5 s for `--help`. Also bare `node -e 0`, the floor of any
 * Node command on this machine.
 *
 *   npm run bench:startup [-- --runs 15 --out out/bench-cli-startup.json]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../core/write-atomic.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const RUNS = Number(arg('runs', '15'));
const outPath = arg('out', 'out/bench-cli-startup.json');
const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(root, 'bin/lstm-mcu.js');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** The goal for `lstm-mcu --help` (issue: well under a second). */
const HELP_GOAL_S = 0.5;

/** Preloaded into each run: prints the process's CPU seconds at exit, on stderr. */
const cpuHook = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-startup-')), 'cpu.cjs');
fs.writeFileSync(
  cpuHook,
  `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('CPU ' + (u.user + u.system) / 1e6 + '\\n'); });\n`,
);

interface Timing {
  medianS: number;
  fastestS: number;
  cpuMedianS: number;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

/** Wall-clock and CPU seconds of each run of `node ...argv` (output discarded), after one warm-up run. */
function timeRuns(argv: string[]): Timing {
  const once = () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--require', cpuHook, ...argv], { cwd: root, encoding: 'utf8' });
    const wallS = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`node ${argv.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
    return { wallS, cpuS: Number(/CPU ([\d.e-]+)/.exec(r.stderr)![1]) };
  };
  once();
  const runs = Array.from({ length: RUNS }, once);
  const wall = runs.map((r) => r.wallS);
  return { medianS: median(wall), fastestS: Math.min(...wall), cpuMedianS: median(runs.map((r) => r.cpuS)) };
}

const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['lstm-mcu --help (dist)', [BIN, '--help']],
  ['lstm-mcu --version (dist)', [BIN, '--version']],
  ['lstm-mcu --help (sources through tsx)', ['--import', TSX, path.join(root, 'cli/main.ts'), '--help']],
];
const results = cases.map(([name, argv]) => ({ name, ...timeRuns(argv) }));
for (const r of results)
  console.log(
    `${r.name.padEnd(40)} median ${r.medianS.toFixed(3)} s, fastest ${r.fastestS.toFixed(3)} s, CPU ${r.cpuMedianS.toFixed(3)} s (${RUNS} runs)`,
  );
const help = results[1]!;
const verdict = help.medianS < HELP_GOAL_S ? 'under' : 'OVER';
console.log(
  `lstm-mcu --help: median ${help.medianS.toFixed(3)} s (CPU ${help.cpuMedianS.toFixed(3)} s), ${verdict} the ${HELP_GOAL_S} s goal`,
);
writeFileAtomic(outPath, JSON.stringify({ runs: RUNS, goalS: HELP_GOAL_S, loadAverage: os.loadavg()[0], results }, null, 2) + '\n');
console.log(`wrote ${outPath} (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`);
