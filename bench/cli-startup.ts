/**
 * npm run bench:startup (and the end of npm run bench): how long the command
 * takes to start, as `lstm-mcu --help` and `lstm-mcu --version`, the compiled
 * dist/ through bin/lstm-mcu.js as a user runs it, against the same sources
 * through tsx (how the command ran before the build). Each the median and the
 * fastest of `--runs` runs; the goal is under 0.5 s for `--help`. Also bare
 * `node -e 0`, the floor of any Node command on this machine.
 *
 *   npm run bench:startup [-- --runs 15 --out out/bench-cli-startup.json]
 */
import path from 'node:path';
import { execFileSync } from 'node:child_process';
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

/** Wall-clock seconds of each run of `node ...argv` (output discarded), after one warm-up run. */
function timeRuns(argv: string[]): { medianS: number; fastestS: number } {
  execFileSync(process.execPath, argv, { cwd: root, stdio: 'ignore' });
  const seconds = Array.from({ length: RUNS }, () => {
    const t0 = performance.now();
    execFileSync(process.execPath, argv, { cwd: root, stdio: 'ignore' });
    return (performance.now() - t0) / 1000;
  }).sort((a, b) => a - b);
  return { medianS: seconds[seconds.length >> 1]!, fastestS: seconds[0]! };
}

const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['lstm-mcu --help (dist)', [BIN, '--help']],
  ['lstm-mcu --version (dist)', [BIN, '--version']],
  ['lstm-mcu --help (sources through tsx)', ['--import', TSX, path.join(root, 'cli/main.ts'), '--help']],
];
const results = cases.map(([name, argv]) => ({ name, ...timeRuns(argv) }));
for (const r of results)
  console.log(`${r.name.padEnd(40)} median ${r.medianS.toFixed(3)} s, fastest ${r.fastestS.toFixed(3)} s (${RUNS} runs)`);
const help = results[1]!;
const verdict = help.medianS < HELP_GOAL_S ? 'under' : 'OVER';
console.log(`lstm-mcu --help: median ${help.medianS.toFixed(3)} s, ${verdict} the ${HELP_GOAL_S} s goal`);
writeFileAtomic(outPath, JSON.stringify({ runs: RUNS, goalS: HELP_GOAL_S, results }, null, 2) + '\n');
console.log(`wrote ${outPath}`);
if (help.medianS >= HELP_GOAL_S) process.exitCode = 1;
