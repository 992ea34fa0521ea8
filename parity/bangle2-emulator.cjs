/**
 * The Bangle.js 2 firmware compiled to WebAssembly (the Espruino Web IDE's emulator, in the
 * folder BANGLE2_DIR), loaded into this Node process and booted: what the project's runner
 * (bangle2-run.cjs) and its TCP bridge (bangle2-telnet.cjs) share.
 *
 * After loading, the emulator's own globals drive it: jsTransmitString(text) types into the
 * console, jsRXCallback(charCode) receives what the console prints, jsIdle() runs the
 * firmware's timers (it schedules itself again), flashMemory is the watch's flash (written by
 * hwFlashWritePtr, read by hwFlashRead; a hook may replace either before boot).
 *
 * CommonJS on purpose: the emulator's files are classic scripts that define globals, loaded
 * with vm.runInThisContext as a page's script tags would.
 */
'use strict';
const fs = require('fs');
const vm = require('vm');
const path = require('path');

/** The emulator's scripts, in load order: emscripten module, board constants, glue. */
const EMULATOR_SCRIPTS = ['emulator_banglejs2.js', 'emu_banglejs2.js', 'common.js'];

/** Loads the emulator's three scripts as globals; a folder without them is an Error naming the file. */
function loadEmulator(dir) {
  for (const f of EMULATOR_SCRIPTS) if (!fs.existsSync(path.join(dir, f))) throw new Error(`BANGLE2_DIR ${dir} has no ${f}`);
  global.require = require;
  global.__dirname = dir;
  global.onConsoleOutput = function () {};
  for (const f of EMULATOR_SCRIPTS) {
    const file = path.join(dir, f);
    vm.runInThisContext(fs.readFileSync(file, 'utf8'), { filename: file });
  }
  // no page to draw on: the screen is read from the frame buffer when asked
  global.jsUpdateGfx = function () {};
  // no page to post the console's output to: dropped until a reader replaces this
  global.jsRXCallback = function () {};
}

/**
 * Boots the firmware once its WebAssembly is ready, then calls `booted()`. Flash contents and
 * hooks must be in place before: the firmware reads Storage (.bootcde) while it boots.
 */
function bootEmulator(booted) {
  global.Module.onRuntimeInitialized = function () {
    // The button reads as pressed while its pin is 0, and a button held at boot brings up the
    // firmware's recovery menu a moment later, over whatever the program drew: release it.
    global.hwSetPinValue(global.BTN1, 1);
    global.jsInit();
    // runs the timers from now on: jsIdle sets its own next timeout
    global.jsIdle();
    booted();
  };
}

module.exports = { loadEmulator, bootEmulator };
