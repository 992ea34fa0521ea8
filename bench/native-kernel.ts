/**
 * npm run bench:native: instructions per step of the native kernel alone
 * (native/lstm-step-*.bin) on bare-metal QEMU, counted exactly by the regioncount
 * plugin of ../shared/engines/qemu-count (the harness brackets each call with its
 * markers): the M4 blob on mps2-an386 (Cortex-M4) and on mps2-an505 (Cortex-M33
 * with the DSP extension), the M3 blob on mps2-an385. Streaming models
 * with 3 inputs and one output; the count is that of each of 8 steps (min-max when
 * they differ), beside the multiply-accumulates of the step (gate rows and head).
 *
 *   npm run bench:native [-- --units 16,32,64 --cells lstm,gru]     (engines in ../shared/engines, or ENGINES_DIR)
 */
import fs from 'node:fs';
import path from 'node:path';
import { gateCount, type CellKind } from '../core/model.ts';
import { buildNativeContext } from '../native/context.ts';
import { ROOT, blobPath, nativeToolsMissing } from '../native/toolchain.ts';
import { CPU_NAME, MACHINE, NATIVE_TARGETS, TARGET_BLOB, runNative } from '../parity/native-qemu.ts';
import { randomQuantizedModel, randomSegments } from '../parity/random-model.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const unitSizes = arg('units', '16,32,64').split(',').map(Number);
const cells = arg('cells', 'lstm,gru').split(',') as CellKind[];
const plugin = path.join(path.resolve(ROOT, process.env.ENGINES_DIR ?? '../shared/engines'), 'qemu-count', 'libregioncount.so');
const missing = nativeToolsMissing(['arm-none-eabi-gcc', 'qemu-system-arm']);
if (missing || !fs.existsSync(plugin)) {
  process.stderr.write(`bench:native: ${missing || `no ${plugin} (set ENGINES_DIR to the folder of the engines)`}\n`);
  process.exit(2);
}

const INPUTS = 3;
const STEPS = 8;
/** A column's title: the CPU, its board and the blob it runs, e.g. "Cortex-M33 (mps2-an505, M4 blob)". */
const title = (t: (typeof NATIVE_TARGETS)[number]) =>
  `${CPU_NAME[t].replace('cortex-m', 'Cortex-M')} (${MACHINE[t]}, ${TARGET_BLOB[t].toUpperCase()} blob)`;
console.log(`| model | MACs per step | ${NATIVE_TARGETS.map(title).join(' | ')} |`);
console.log(`|---|---|${NATIVE_TARGETS.map(() => '---|').join('')}`);
for (const cell of cells)
  for (const units of unitSizes) {
    const q = randomQuantizedModel({ seed: 1, inputSize: INPUTS, units, cell });
    const macs = gateCount(cell) * units * (INPUTS + units) + units;
    const xs = Int8Array.from(randomSegments(1, INPUTS, [STEPS], 0.1)[0].flatMap((x) => Array.from(x)));
    const counts = NATIVE_TARGETS.map((target) => {
      const { log } = runNative(fs.readFileSync(blobPath(TARGET_BLOB[target])), buildNativeContext(q), xs, target, plugin);
      const n = [...log.matchAll(/^REGION \d+ insns=(\d+)/gm)].map((m) => Number(m[1]));
      if (n.length !== STEPS) throw new Error(`${MACHINE[target]}: ${n.length} counted regions, ${STEPS} expected`);
      const [lo, hi] = [Math.min(...n), Math.max(...n)];
      return lo === hi ? `${lo}` : `${lo}-${hi}`;
    });
    console.log(`| ${cell.toUpperCase()} ${INPUTS}x${units} | ${macs} | ${counts.join(' | ')} |`);
  }
