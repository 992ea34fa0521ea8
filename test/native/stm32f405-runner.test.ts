/**
 * parity/stm32f405.ts, the runner of Espruino's STM32F405 firmware: a program that runs
 * out of the firmware's variables fails at once (Stm32OutOfMemory, not a timeout), and a
 * counted region repeats exactly from run to run (QEMU under -icount while counting),
 * one long enough for the firmware's timer interrupts to fall in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onPath } from '../../native/toolchain.ts';
import { Stm32OutOfMemory, firmwareElf, runStm32f405 } from '../../parity/stm32f405.ts';

const dir = process.env.STM32F405_DIR;
const elf = dir ? firmwareElf(dir) : undefined;
const plugin = dir ? path.join(path.dirname(dir), 'qemu-count', 'libregioncount.so') : '';
const ready = Boolean(elf) && onPath('qemu-system-arm');

/** The plugin's markers (Thumb mov r8,r8 / mov r9,r9) around a loop of 20,000 additions. */
const LONG_REGION = [
  'var START = E.nativeCall(1, "void()", E.toFlatString(atob("wEZwRw=="))), STOP = E.nativeCall(1, "void()", E.toFlatString(atob("yUZwRw==")));',
  'var i, s = 0;',
  'START(); for (i = 0; i < 20000; i++) s += i; STOP();',
  'print("<<done>>");',
].join('\n');

describe.skipIf(!ready)("the STM32F405 firmware's runner (STM32F405_DIR, qemu-system-arm)", () => {
  it('fails at once with Stm32OutOfMemory when the program runs out of variables', async () => {
    const program = 'var a = []; while (true) a.push("more than one block of text " + a.length);\nprint("<<done>>");';
    const started = Date.now();
    await expect(runStm32f405(elf!, program, { doneLine: '<<done>>', timeoutS: 60 })).rejects.toBeInstanceOf(Stm32OutOfMemory);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it.skipIf(!fs.existsSync(plugin))('counts a long region the same in two runs', async () => {
    const count = async () => {
      const run = await runStm32f405(elf!, LONG_REGION, { doneLine: '<<done>>', countPlugin: plugin, timeoutS: 120 });
      return [...run.log.matchAll(/REGION \d+ insns=(\d+)/g)].map((m) => Number(m[1]));
    };
    const first = await count();
    expect(first).toHaveLength(1);
    expect(first[0]).toBeGreaterThan(10_000_000);
    expect(await count()).toEqual(first);
  });
});
