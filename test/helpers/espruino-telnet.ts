/**
 * The Linux build of Espruino as a board on tcp://127.0.0.1:2323 (its REPL
 * served with --telnet, the same path as a board over TCP): started in a
 * folder (its Storage lives in files there), killed to cut a link. The tests
 * that use it run when ESPRUINO_BIN points at such a build.
 *
 * The build serves telnet on 2323 only, and two of its processes can both
 * listen there (a connection then reaches either), so the test files that
 * start one take the port for the whole of their run with `holdPort`: a lock
 * every process of the suite sees (a directory made atomically in the
 * system's temporary folder, naming its holder; a holder that died leaves it
 * free).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const ESPRUINO = process.env.ESPRUINO_BIN;
export const ESPRUINO_ENABLED = Boolean(ESPRUINO && fs.existsSync(ESPRUINO));
/** The only port the Linux build serves telnet on. */
export const TELNET_PORT = 'tcp://127.0.0.1:2323';

/** Whether something listens on 127.0.0.1:`port`. */
export function listening(port = 2323): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Start the interpreter in `dir` (its flash is a file there); stdin stays open (at EOF it reads junk). */
export async function startEspruino(dir: string): Promise<ChildProcess> {
  const child = spawn(ESPRUINO!, ['--telnet'], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] });
  for (let i = 0; i < 50; i++) {
    if (await listening()) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the Espruino interpreter did not open its telnet port');
}

/** Kill a board's process (as a cut would) and wait until it is gone. */
export async function stopEspruino(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Take TCP `port` of 127.0.0.1 for this process, waiting up to `waitMs` for another holder to let
 * go; returns the release. A lock whose holder is gone is taken over.
 */
export async function holdPort(port: number, waitMs = 900_000): Promise<() => void> {
  const lock = path.join(os.tmpdir(), `lstm-mcu-port-${port}.lock`);
  const owner = path.join(lock, 'pid');
  for (const until = Date.now() + waitMs; ;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(owner, String(process.pid));
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.existsSync(owner) ? fs.readFileSync(owner, 'utf8') : NaN);
      // a holder that died (or one that had not written its pid yet, after a while) leaves the port free
      if (Number.isInteger(pid) && !alive(pid)) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > until) throw new Error(`port ${port} stayed taken by process ${pid} for ${waitMs / 1000} s`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
}
