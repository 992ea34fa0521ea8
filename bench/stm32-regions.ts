/**
 * Instructions of marked regions of a program on Espruino's STM32F405 firmware
 * (parity/stm32f405.ts: the program boots from Storage), counted exactly by the
 * regioncount plugin of ../shared/engines/qemu-count. START() and STOP() are the
 * plugin's markers (Thumb `mov r8,r8; bx lr` and `mov r9,r9; bx lr`) called through
 * E.nativeCall; a region `START(); STOP();` with nothing between counts the calls'
 * own cost, which `countRegions` subtracts from every other region.
 */
import { Stm32OutOfMemory, runStm32f405, type StorageFile } from '../parity/stm32f405.ts';

/** The two marker functions, and an empty region first (the markers' own cost). */
export const MARKERS =
  'var START = E.nativeCall(1, "void()", E.toFlatString(atob("wEZwRw=="))), STOP = E.nativeCall(1, "void()", E.toFlatString(atob("yUZwRw==")));';
export const EMPTY_REGION = 'START(); STOP();';

export interface RegionCounts {
  /** The markers' own instructions (the empty region). */
  empty: number;
  /** Each later region's instructions, the empty region's subtracted. */
  regions: number[];
  /** What the program printed before its done line. */
  printed: string[];
}

/** 'out of memory' when the firmware ran out of variables before the done line. */
export type RegionResult = RegionCounts | 'out of memory';

/**
 * Runs `program` (which must run EMPTY_REGION first, then `regions` more regions, then print
 * `<<done>>`), with `files` in Storage beside it, and returns the counts. Any other failure of the run throws.
 */
export async function countRegions(
  elf: string,
  plugin: string,
  program: string,
  regions: number,
  files?: readonly StorageFile[],
): Promise<RegionResult> {
  const run = await runStm32f405(elf, program, { doneLine: '<<done>>', countPlugin: plugin, timeoutS: 300, files }).catch((e: Error) => {
    if (e instanceof Stm32OutOfMemory) return 'out of memory' as const;
    throw e;
  });
  if (run === 'out of memory') return run;
  const counts = [...run.log.matchAll(/REGION \d+ insns=(\d+)/g)].map((m) => Number(m[1]));
  if (counts.length !== regions + 1)
    throw new Error(`${counts.length} regions counted, ${regions + 1} expected: ${run.lines.slice(-5).join(' | ')}`);
  const [empty, ...rest] = counts as [number, ...number[]];
  return { empty, regions: rest.map((n) => n - empty), printed: run.lines.slice(0, -1) };
}
