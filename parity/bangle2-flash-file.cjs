/**
 * The emulated watch's flash kept in a file, so that a killed and restarted emulator finds what
 * its firmware saved, as a watch switched off and on again does.
 *
 * What a cut (the emulator's process killed at any moment) can leave in the file:
 * - every flash write the firmware made before the cut, in its order: each write (the bytes it
 *   programs, or a page erase, which the emulator makes as a write of 0xFF bytes) goes to the
 *   file in one positioned write before the firmware goes on, and the kernel keeps what a
 *   killed process wrote;
 * - of the write under way, nothing, all of it, or a leading part of it (a fatal signal can end
 *   a long write between pages): a chip cut off while programming or erasing leaves a partly
 *   written range too.
 * What it cannot leave: a later write without an earlier one, bytes the firmware never wrote,
 * or a file of another size (the file is created whole, under another name, then renamed).
 * The file stands for the chip across a process kill, not across a crash of the machine: it is
 * not synced to disk.
 *
 * CommonJS, as bangle2-emulator.cjs is.
 */
'use strict';
const fs = require('fs');

/**
 * Fills `flash` (the emulator's flashMemory) from `file` and returns the file opened for
 * writing; creates the file erased (all 0xFF) when absent. An Error when it has another size.
 */
function openFlashFile(file, flash) {
  if (!fs.existsSync(file)) {
    const fresh = `${file}.new`;
    fs.writeFileSync(fresh, new Uint8Array(flash.length).fill(0xff));
    fs.renameSync(fresh, file);
  }
  const size = fs.statSync(file).size;
  if (size !== flash.length)
    throw new Error(
      `flash file ${file} has ${size} bytes, the watch's flash ${flash.length}: not this emulator's flash (delete it to start erased)`,
    );
  const fd = fs.openSync(file, 'r+');
  for (let at = 0; at < flash.length;) at += fs.readSync(fd, flash, at, flash.length - at, at);
  return fd;
}

/** From now on every flash write of the firmware (hwFlashWritePtr) also reaches the file, before the firmware goes on. */
function writeThrough(fd, flash) {
  const write = global.hwFlashWritePtr;
  global.hwFlashWritePtr = function (addr, ptr, len) {
    write(addr, ptr, len);
    for (let done = 0; done < len;) done += fs.writeSync(fd, flash, addr + done, len - done, addr + done);
  };
}

module.exports = { openFlashFile, writeThrough };
