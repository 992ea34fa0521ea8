/**
 * The boards `lstm-mcu flash` is tested against end to end (test/firmware/flash-e2e.test.ts):
 * each a process serving an Espruino console on a TCP port of 127.0.0.1, its flash a file in
 * its working directory, so a killed and restarted board boots what it saved.
 * - LINUX (ESPRUINO_BIN): the Linux build of Espruino with --telnet, on port 2323 (the only
 *   port it serves).
 * - BANGLEJS2 (BANGLE2_DIR): the Bangle.js 2 firmware compiled to
 *   WebAssembly, made a board on a TCP port by parity/bangle2-telnet.cjs; port
 *   BANGLE2_TELNET_PORT, default 2424.
 */
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEspruino } from './espruino-telnet.ts';

export { holdPort, listening, stopEspruino as stopBoard } from './espruino-telnet.ts';

export interface FlashTestBoard {
  /** process.env.BOARD, as `flash` names the board in its "verified on" line. */
  id: 'LINUX' | 'BANGLEJS2';
  /** What the board is, for the test's title. */
  title: string;
  /** `--port` of the flash command. */
  port: string;
  tcpPort: number;
  /** Start the board in `dir` (its flash is a file there); resolves once it accepts connections. */
  start(dir: string): Promise<ChildProcess>;
}

const BRIDGE = fileURLToPath(new URL('../../parity/bangle2-telnet.cjs', import.meta.url));

/** The watch's bridge in `dir`: ready when it prints its listening line; it exits when this process's end of its stdin closes. */
function startWatch(dir: string, tcpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BRIDGE, '--port', String(tcpPort), '--until-stdin-closes'], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the watch's bridge did not listen within 30 s: ${err.trim()}`));
    }, 30_000);
    child.stderr!.on('data', (d) => (err += String(d)));
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (!out.includes(`listening on 127.0.0.1:${tcpPort}`)) return;
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the watch's bridge exited (${code}) before it listened: ${err.trim()}`));
    });
  });
}

/** The boards whose engines are set in the environment. */
export function flashTestBoards(): FlashTestBoard[] {
  const boards: FlashTestBoard[] = [];
  const espruino = process.env.ESPRUINO_BIN;
  if (espruino && fs.existsSync(espruino))
    boards.push({
      id: 'LINUX',
      title: 'a Linux Espruino over telnet',
      port: 'tcp://127.0.0.1:2323',
      tcpPort: 2323,
      start: (dir) => startEspruino(dir),
    });
  const watch = process.env.BANGLE2_DIR;
  if (watch && fs.existsSync(watch)) {
    const tcpPort = Number(process.env.BANGLE2_TELNET_PORT ?? 2424);
    boards.push({
      id: 'BANGLEJS2',
      title: 'the Bangle.js 2 firmware, over TCP (parity/bangle2-telnet.cjs)',
      port: `tcp://127.0.0.1:${tcpPort}`,
      tcpPort,
      start: (dir) => startWatch(dir, tcpPort),
    });
  }
  return boards;
}
