/**
 * npm run bench:native-module: instructions of one step of the generated `espruino`
 * module (codegen --native auto) on Espruino's STM32F405 firmware (Cortex-M4, under
 * qemu-system-arm), counted exactly by ../shared/engines/qemu-count's regioncount
 * plugin between two marker calls: the native step (the board's name chooses m4)
 * against the same module's JavaScript step (an unknown board name), for stepQ on an
 * Int8Array, stepQ on a plain array and step on real readings. An empty region (the
 * marker calls alone) is printed too: subtract it.
 *
 *   npm run bench:native-module [-- --units 32 --cell lstm]     (engines in ../shared/engines, or ENGINES_DIR)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { CellKind } from '../core/model.ts';
import { emitModule } from '../codegen/emit-module.ts';
import { ROOT } from '../native/toolchain.ts';
import { typedForm } from '../parity/native-engines.ts';
import { randomQuantizedModel } from '../parity/random-model.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const units = Number(arg('units', '32'));
const cell = arg('cell', 'lstm') as CellKind;
const runPy = path.join(path.resolve(ROOT, process.env.ENGINES_DIR ?? '../shared/engines'), 'stm32f405', 'run.py');
if (!fs.existsSync(runPy)) {
  process.stderr.write(`bench:native-module: no ${runPy} (set ENGINES_DIR to the folder of the engines)\n`);
  process.exit(2);
}

const q = randomQuantizedModel({ seed: 60, inputSize: 3, units, outputSize: 1, cell });
const code = emitModule(q, { target: 'espruino', globalName: 'm', modelSha256: '', generatorVersion: 'bench', native: 'auto' });
// The markers of ../shared/engines/qemu-count: Thumb mov r8,r8 starts a region, mov r9,r9 ends it.
const CASES = ['empty', 'stepQ(Int8Array)', 'stepQ(Int8Array)', 'stepQ(array)', 'step(readings)'];
const driver = `
var START = E.nativeCall(1, "void()", E.toFlatString(atob("wEZwRw=="))), STOP = E.nativeCall(1, "void()", E.toFlatString(atob("yUZwRw==")));
var xq = new Int8Array([12, -40, 90]), xa = [12, -40, 90], x = [1.5, -2, 0.25];
START(); STOP();
START(); m.stepQ(xq); STOP();
START(); m.stepQ(xq); STOP();
START(); m.stepQ(xa); STOP();
START(); m.step(x); STOP();
print("path " + m.info.native);
print("<<done>>");`;

/** Instructions of each region, and the path the module took, on the firmware as `board`. */
function measure(board: string): { path: string; counts: number[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-bench-'));
  try {
    const file = path.join(dir, 'program.js');
    fs.writeFileSync(file, typedForm(`var process = { env: { BOARD: "${board}" } };\n${code}${driver}`));
    const run = spawnSync('python3', [runPy, file, '--count', '--timeout', '300'], {
      encoding: 'utf8',
      env: { ...process.env, PACE: '0.03' },
    });
    const counts = [...run.stderr.matchAll(/REGION \d+ insns=(\d+)/g)].map((m) => Number(m[1]));
    const taken = /path (.*)/.exec(run.stdout)?.[1] ?? '(not printed)';
    if (counts.length !== CASES.length) throw new Error(`${board}: ${counts.length} regions counted: ${run.stdout.slice(-300)}`);
    return { path: taken, counts };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const native = measure('STM32F405RG');
const js = measure('NOT_A_CORTEX_M_BOARD');
console.log(`${cell.toUpperCase()} 3x${units} on Espruino's STM32F405 firmware, instructions per region (qemu-count)`);
console.log(`native path: ${native.path}; JavaScript path: ${js.path}`);
console.log('| region | native step | JavaScript step | ratio |');
console.log('|---|---:|---:|---:|');
CASES.forEach((name, i) => {
  const ratio = i === 0 ? '' : `${(js.counts[i] / native.counts[i]).toFixed(0)}x`;
  console.log(`| ${name} | ${native.counts[i].toLocaleString('en')} | ${js.counts[i].toLocaleString('en')} | ${ratio} |`);
});
