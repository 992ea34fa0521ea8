/**
 * Espruino's STM32F405 firmware (../shared/engines/stm32f405, STM32F405_DIR) under
 * qemu-system-arm, machine netduinoplus2, with the program already in the board's
 * Storage as its boot code: nothing is typed into the console, so no run depends on
 * the wall clock (the console's input FIFO overflowed under load when programs were
 * typed in), and a run starts in a fraction of a second.
 *
 * The Storage image (Espruino's src/jsflash.c): the files given, then `.bootcde`, each a
 * 4-byte little-endian size, its name zero-padded to 28 bytes, then its bytes, padded to
 * 4 bytes; then erased flash (0xFF) to the end of the area. The firmware runs `.bootcde` at boot
 * straight from the memory-mapped flash, so the program's text takes no variables.
 * QEMU's `loader` device writes the image over the flash before the CPU starts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the firmware's Storage lies: FLASH_SAVED_CODE_START of its board file
 * (STM32F405RG, 1 MiB of flash in 128 KiB sectors at its end): 7,500 variables of
 * 16 bytes need two sectors, so Storage is the last 256 KiB.
 */
export const STORAGE_START = 0x080c0000;
export const STORAGE_LENGTH = 0x40000;
const HEADER_BYTES = 32;
const NAME_BYTES = 28;

/** A file of the board's Storage. */
export interface StorageFile {
  name: string;
  bytes: Uint8Array;
}

/** The Storage area holding `files`, then `program` as `.bootcde`; each file's header at the next 4-byte boundary. */
export function storageImage(program: string, files: readonly StorageFile[] = []): Buffer {
  const image = Buffer.alloc(STORAGE_LENGTH, 0xff);
  let at = 0;
  for (const { name, bytes } of [...files, { name: '.bootcde', bytes: Buffer.from(program, 'utf8') }]) {
    if (name.length > NAME_BYTES) throw new Error(`Storage file name "${name}" is longer than ${NAME_BYTES} characters`);
    if (at + HEADER_BYTES + bytes.length + HEADER_BYTES > STORAGE_LENGTH)
      throw new Error(`the program and its files do not fit the firmware's Storage (${STORAGE_LENGTH} bytes)`);
    image.writeUInt32LE(bytes.length, at);
    image.fill(0, at + 4, at + 4 + NAME_BYTES);
    image.write(name, at + 4, 'latin1');
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(image, at + HEADER_BYTES);
    at = (at + HEADER_BYTES + bytes.length + 3) & ~3;
  }
  return image;
}

/** The firmware's ELF in `dir`, or undefined. */
export function firmwareElf(dir: string): string | undefined {
  const elf = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => /^espruino_.*\.elf$/.test(f)) : undefined;
  return elf && path.join(dir, elf);
}

export interface Stm32Run {
  /** What the program printed, line by line, up to and including `doneLine`. */
  lines: string[];
  /** QEMU's stderr: with `countPlugin`, a `REGION n insns=N` line per marked region. */
  log: string;
}

export interface Stm32Options {
  /** The line that ends a run (the program prints it last). */
  doneLine: string;
  /** Files in Storage beside the program (a module's weights, with codegen --weights flash). */
  files?: readonly StorageFile[];
  /** ../shared/engines/qemu-count/libregioncount.so: counts the instructions of marked regions (QEMU then runs with -icount). */
  countPlugin?: string;
  timeoutS?: number;
}

/**
 * What the firmware prints when an allocation fails (the flag MEMORY; LOW_MEMORY alone is not fatal) and it
 * interrupts the program: `runStm32f405` then fails at once with a Stm32OutOfMemory.
 */
const OUT_OF_MEMORY = /New interpreter error: (?:[A-Z_]+,)*MEMORY\b/;

/** The program ran out of the firmware's variables (7,500) and was interrupted. */
export class Stm32OutOfMemory extends Error {}

/** Prints, without the console's own escape codes and prompt. */
function cleanLines(text: string): string[] {
  return text
    .replace(/\r/g, '')
    .replace(/\x1b\[J/g, '')
    .split('\n')
    .map((l) => l.replace(/^>/, ''));
}

/** Boots the firmware with `program` as its boot code; resolves once it prints `doneLine`. */
export function runStm32f405(elf: string, program: string, options: Stm32Options): Promise<Stm32Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-stm32f405-'));
  const image = path.join(dir, 'storage.bin');
  fs.writeFileSync(image, storageImage(program, options.files));
  const args = ['-M', 'netduinoplus2', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-kernel', elf];
  // Counting: the guest's clock follows its instructions (one per virtual ns, idle time skipped), so its timer
  // interrupts (SysTick) fall at the same instructions in every run and a count repeats exactly, whatever the host's load.
  if (options.countPlugin) args.push('-icount', 'shift=0,sleep=off');
  args.push('-device', `loader,file=${image},addr=0x${STORAGE_START.toString(16)},force-raw=on`);
  if (options.countPlugin) args.push('-plugin', options.countPlugin, '-d', 'plugin');
  const qemu = spawn('qemu-system-arm', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let log = '';
  return new Promise<Stm32Run>((resolve, reject) => {
    let failure: Error | undefined;
    let ended = false;
    // Ends the run: QEMU is asked to quit, and the run settles once it has (its stderr then holds every REGION line).
    const end = (error?: Error) => {
      if (ended) return;
      ended = true;
      failure = error;
      clearTimeout(timer);
      qemu.kill('SIGTERM');
      setTimeout(() => qemu.kill('SIGKILL'), 5000).unref();
    };
    const limitS = options.timeoutS ?? 120;
    const timer = setTimeout(
      () => end(new Error(`stm32f405: no "${options.doneLine}" within ${limitS} s; it printed: ${out.slice(-3000)}`)),
      limitS * 1000,
    );
    qemu.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('latin1');
      if (out.includes(options.doneLine) && cleanLines(out).includes(options.doneLine)) end();
      else if (out.includes('Uncaught '))
        setTimeout(() => end(new Error(`stm32f405: ${out.slice(out.indexOf('Uncaught ')).trim().slice(0, 400)}`)), 300);
      // the firmware ran out of variables: it interrupts the program, which then never prints doneLine
      else if (OUT_OF_MEMORY.test(out)) end(new Stm32OutOfMemory(`stm32f405: out of memory: ${out.slice(-400).trim()}`));
    });
    qemu.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('latin1')));
    qemu.on('error', (e) => end(new Error(`stm32f405: qemu-system-arm: ${e.message}`)));
    qemu.on('close', (code) => {
      if (!ended) end(new Error(`stm32f405: qemu-system-arm exited (${code}) before "${options.doneLine}": ${log.slice(-300)}`));
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
      const lines = cleanLines(out);
      if (failure) reject(failure);
      else resolve({ lines: lines.slice(0, lines.indexOf(options.doneLine) + 1), log });
    });
  });
}
