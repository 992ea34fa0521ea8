#!/usr/bin/env node
/**
 * Runs a program on the Bangle.js 2 firmware compiled to WebAssembly (the Espruino Web IDE's
 * emulator, in the folder BANGLE2_DIR) and prints what the program prints.
 *
 *   BANGLE2_DIR=... node parity/bangle2-run.cjs program.js [--timeout S] [--screen file.rgba] [--flash-reads]
 *
 * The program is typed into the watch's console line by line, each line prefixed with \x10
 * (echo off for that line), as the Web IDE uploads. It must end by printing the line <<done>>;
 * the runner then exits 0. With --screen it first writes what the watch shows: 176x176 pixels,
 * 4 bytes each (R, G, B, 255), rows top to bottom, read from the firmware's frame buffer
 * (3 bits a pixel). With --flash-reads it writes to stderr, at the end, the line `flash reads: N`:
 * the bytes the firmware read from its flash (the watch's external flash chip) during the run; the
 * emulator reads flash one byte per call, and each call is counted. Exit 124 when <<done>> never comes within the timeout, 2 on bad usage.
 *
 * CommonJS on purpose, as bangle2-emulator.cjs (which loads and boots the emulator) is.
 */
'use strict';
const fs = require('fs');
const { loadEmulator, bootEmulator } = require('./bangle2-emulator.cjs');

/** The screen's size in pixels (the emulator's GFX_WIDTH x GFX_HEIGHT). */
const SCREEN_SIDE = 176;

/** program.js [--timeout S] [--screen file] -> options, or a one-line usage error. */
function parseArgs(argv) {
  const o = { file: undefined, timeoutS: 60, screen: undefined, flashReads: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--timeout') o.timeoutS = Number(argv[++i]);
    else if (argv[i] === '--screen') o.screen = argv[++i];
    else if (argv[i] === '--flash-reads') o.flashReads = true;
    else if (o.file === undefined) o.file = argv[i];
    else return { error: `unexpected argument ${argv[i]}` };
  }
  if (o.file === undefined) return { error: 'no program file' };
  if (!(o.timeoutS > 0)) return { error: '--timeout wants a positive number of seconds' };
  if (argv.includes('--screen') && !o.screen) return { error: '--screen wants a file' };
  return o;
}

function fail(message, code) {
  process.stderr.write(`bangle2-run: ${message}\n`);
  process.exit(code);
}

/** The frame buffer as RGBA bytes (the emulator's own jsGetGfxContents: 3 bits a pixel, one per channel). */
function screenRgba() {
  const rgba = new Uint8Array(SCREEN_SIDE * SCREEN_SIDE * 4);
  global.jsGetGfxContents(rgba);
  return rgba;
}

/** Console output -> lines; the program's own lines start after <<start>>; <<done>> ends the run. */
function lineReader(onLine, onDone) {
  let started = false;
  let partial = '';
  return function (ch) {
    partial += String.fromCharCode(ch);
    let i;
    while ((i = partial.indexOf('\n')) >= 0) {
      // the console's prompt ">" may stand before a line, and while a program runs from Storage
      // (load()) the prompt is erased before each printed line (">", CR, ESC [ J): not the program's
      const line = partial
        .slice(0, i)
        .replace(/\r$/, '')
        .replace(/^(?:>|\r|\x1b\[[0-9;]*[A-Za-z])*/, '');
      partial = partial.slice(i + 1);
      if (!started) started = line === '<<start>>';
      else if (line === '<<done>>') return onDone();
      else onLine(line);
    }
  };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.error) fail(`${o.error} (usage: node bangle2-run.cjs program.js [--timeout S] [--screen file.rgba] [--flash-reads])`, 2);
  const dir = process.env.BANGLE2_DIR;
  if (!dir) fail('BANGLE2_DIR is not set to the folder of the Bangle.js 2 emulator', 2);
  const program = fs.readFileSync(o.file, 'utf8');
  try {
    loadEmulator(dir);
  } catch (e) {
    fail(e.message, 2);
  }
  let flashReads = 0;
  if (o.flashReads) {
    const read = global.hwFlashRead;
    global.hwFlashRead = (addr) => {
      flashReads++;
      return read(addr);
    };
  }
  global.jsRXCallback = lineReader(
    (line) => process.stdout.write(line + '\n'),
    () => {
      global.jsStopIdle();
      if (o.screen) fs.writeFileSync(o.screen, screenRgba());
      if (o.flashReads) process.stderr.write(`flash reads: ${flashReads}\n`);
      process.exit(0);
    },
  );
  setTimeout(() => fail(`no <<done>> within ${o.timeoutS} s`, 124), o.timeoutS * 1000);
  bootEmulator(() => {
    // \x10 before a line: the console does not echo it
    global.jsTransmitString('\x10echo(0);\n\x10print("<<start>>");\n');
    for (const line of program.split('\n')) global.jsTransmitString('\x10' + line + '\n');
  });
}

main();
