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
import path from 'node:path';
import type { CellKind } from '../core/model.ts';
import { emitModule } from '../codegen/emit-module.ts';
import { ROOT } from '../native/toolchain.ts';
import { firmwareElf, runStm32f405 } from '../parity/stm32f405.ts';
import { randomQuantizedModel } from '../parity/random-model.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const units = Number(arg('units', '32'));
const cell = arg('cell', 'lstm') as CellKind;
const engines = path.resolve(ROOT, process.env.ENGINES_DIR ?? '../shared/engines');
const elf = firmwareElf(path.join(engines, 'stm32f405'));
const plugin = path.join(engines, 'qemu-count', 'libregioncount.so');
if (!elf || !fs.existsSync(plugin)) {
  process.stderr.write(`bench:native-module: no stm32f405/ or qemu-count/ in ${engines} (set ENGINES_DIR to the folder of the engines)\n`);
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
async function measure(board: string): Promise<{ path: string; counts: number[] }> {
  const program = `var process = { env: { BOARD: "${board}" } };\n${code}${driver}`;
  const run = await runStm32f405(elf!, program, { doneLine: '<<done>>', countPlugin: plugin, timeoutS: 300 });
  const counts = [...run.log.matchAll(/REGION \d+ insns=(\d+)/g)].map((m) => Number(m[1]));
  const taken = /path (.*)/.exec(run.lines.join('\n'))?.[1] ?? '(not printed)';
  if (counts.length !== CASES.length) throw new Error(`${board}: ${counts.length} regions counted: ${run.lines.slice(-5).join(' | ')}`);
  return { path: taken, counts };
}

const native = await measure('STM32F405RG');
const js = await measure('NOT_A_CORTEX_M_BOARD');
console.log(`${cell.toUpperCase()} 3x${units} on Espruino's STM32F405 firmware, instructions per region (qemu-count)`);
console.log(`native path: ${native.path}; JavaScript path: ${js.path}`);
console.log('| region | native step | JavaScript step | ratio |');
console.log('|---|---:|---:|---:|');
CASES.forEach((name, i) => {
  const ratio = i === 0 ? '' : `${(js.counts[i] / native.counts[i]).toFixed(0)}x`;
  console.log(`| ${name} | ${native.counts[i].toLocaleString('en')} | ${js.counts[i].toLocaleString('en')} | ${ratio} |`);
});
