#!/usr/bin/env node
/**
 * The Bangle.js 2 firmware (the WebAssembly emulator in BANGLE2_DIR) as a board on a TCP port,
 * as the Linux build of Espruino is with --telnet: espruino-tools and `lstm-mcu flash --port
 * tcp://127.0.0.1:PORT` connect to it.
 *
 *   BANGLE2_DIR=... node parity/bangle2-telnet.cjs [--port N] [--flash FILE] [--until-stdin-closes]
 *
 * Bytes from the socket are typed into the watch's console; what the console prints goes back.
 * The firmware's timers keep running while nobody is connected. One client at a time: a new
 * connection closes the previous one. It listens on 127.0.0.1, port N (default 2424), and prints
 * `listening on 127.0.0.1:N` once the firmware has booted. With --until-stdin-closes it exits
 * when its standard input ends (a test's child outlives no test).
 *
 * The watch's flash (8 MiB, all of it Storage) is the file FILE (default bangle2-flash.bin in
 * the working directory): read at start, so a killed and restarted bridge boots what was saved
 * (.bootcde, Storage files) as a restarted watch would; created erased (all 0xFF) when absent.
 * Exit 2 on bad usage or a flash file of the wrong size.
 */
'use strict';
const fs = require('fs');
const net = require('net');
const { loadEmulator, bootEmulator } = require('./bangle2-emulator.cjs');
const { openFlashFile, writeThrough } = require('./bangle2-flash-file.cjs');

const USAGE = 'usage: node bangle2-telnet.cjs [--port N] [--flash FILE] [--until-stdin-closes]';

/** argv -> options, or a one-line usage error. */
function parseArgs(argv) {
  const o = { port: 2424, flash: 'bangle2-flash.bin', untilStdinCloses: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') o.port = Number(argv[++i]);
    else if (argv[i] === '--flash') o.flash = argv[++i];
    else if (argv[i] === '--until-stdin-closes') o.untilStdinCloses = true;
    else return { error: `unexpected argument ${argv[i]}` };
  }
  if (!(Number.isInteger(o.port) && o.port >= 1 && o.port <= 65535)) return { error: '--port wants a TCP port, 1 to 65535' };
  if (!o.flash) return { error: '--flash wants a file' };
  return o;
}

function fail(message) {
  process.stderr.write(`bangle2-telnet: ${message}\n`);
  process.exit(2);
}

/**
 * Console <-> one TCP client. Output is gathered per turn of the event loop and written at once
 * (the firmware prints a character per call); with nobody connected it is dropped, as a watch's
 * console buffer overflows.
 */
function serveConsole(port) {
  let client;
  let pending = [];
  global.jsRXCallback = function (ch) {
    if (!client) return;
    if (pending.length === 0) setImmediate(flush);
    pending.push(ch);
  };
  function flush() {
    if (client && pending.length > 0) client.write(Buffer.from(pending));
    pending = [];
  }
  const server = net.createServer((socket) => {
    if (client) client.destroy();
    client = socket;
    pending = [];
    socket.on('data', (bytes) => global.jsTransmitString(bytes.toString('latin1')));
    socket.on('error', () => {}); // a reset client is a closed one: 'close' follows
    socket.on('close', () => {
      if (client === socket) client = undefined;
    });
  });
  server.on('error', (e) => fail(`cannot listen on 127.0.0.1:${port}: ${e.code ?? e.message}`));
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening on 127.0.0.1:${port}\n`));
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.error) fail(`${o.error} (${USAGE})`);
  const dir = process.env.BANGLE2_DIR;
  if (!dir) fail('BANGLE2_DIR is not set to the folder of the Bangle.js 2 emulator');
  try {
    loadEmulator(dir);
    const fd = openFlashFile(o.flash, global.flashMemory);
    writeThrough(fd, global.flashMemory);
  } catch (e) {
    fail(e.message);
  }
  if (o.untilStdinCloses) {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  }
  bootEmulator(() => serveConsole(o.port));
}

main();
