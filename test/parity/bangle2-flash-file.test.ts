/**
 * The emulated watch's flash file (parity/bangle2-flash-file.cjs), without the emulator: created
 * whole and erased, refused at another size, and every flash write reaches it before the
 * firmware goes on, so a process killed after a write leaves it in the file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { openFlashFile, writeThrough } = require('../../parity/bangle2-flash-file.cjs') as {
  openFlashFile(file: string, flash: Uint8Array): number;
  writeThrough(fd: number, flash: Uint8Array): void;
};

type FlashWrite = (addr: number, ptr: number, len: number) => void;
const g = globalThis as unknown as { hwFlashWritePtr?: FlashWrite };

describe('the Bangle.js 2 bridge keeps the watch flash in a file', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-watch-flash-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    delete g.hwFlashWritePtr;
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('creates the file erased and whole, and fills the flash from an existing one', () => {
    const file = path.join(tmp(), 'flash.bin');
    const flash = new Uint8Array(4096);
    fs.closeSync(openFlashFile(file, flash));
    expect(fs.readFileSync(file)).toEqual(Buffer.alloc(4096, 0xff));
    expect(fs.existsSync(`${file}.new`)).toBe(false);
    const saved = Buffer.alloc(4096, 0x5a);
    fs.writeFileSync(file, saved);
    const again = new Uint8Array(4096);
    fs.closeSync(openFlashFile(file, again));
    expect(Buffer.from(again)).toEqual(saved);
  });

  it('refuses a file of another size, naming it', () => {
    const file = path.join(tmp(), 'flash.bin');
    fs.writeFileSync(file, Buffer.alloc(100));
    expect(() => openFlashFile(file, new Uint8Array(4096))).toThrow(
      `flash file ${file} has 100 bytes, the watch's flash 4096: not this emulator's flash (delete it to start erased)`,
    );
  });

  it('every flash write of the firmware is in the file when the write returns', () => {
    const file = path.join(tmp(), 'flash.bin');
    const flash = new Uint8Array(4096);
    const heap = new Uint8Array(64).map((_, i) => i + 1);
    // the emulator's own write: flash bytes from the firmware's memory (common.js)
    g.hwFlashWritePtr = (addr, ptr, len) => flash.set(heap.subarray(ptr, ptr + len), addr);
    const fd = openFlashFile(file, flash);
    writeThrough(fd, flash);
    g.hwFlashWritePtr!(1000, 8, 20);
    expect([...fs.readFileSync(file).subarray(998, 1022)]).toEqual([0xff, 0xff, ...heap.subarray(8, 28), 0xff, 0xff]);
    g.hwFlashWritePtr!(1010, 0, 4);
    expect([...fs.readFileSync(file).subarray(1008, 1016)]).toEqual([17, 18, 1, 2, 3, 4, 23, 24]);
    expect(Buffer.from(flash)).toEqual(fs.readFileSync(file));
    fs.closeSync(fd);
  });
});
