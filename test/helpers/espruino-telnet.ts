/**
 * The Linux build of Espruino as a board on tcp://127.0.0.1:2323 (its REPL
 * served with --telnet, the same path as a board over TCP): started in a
 * folder (its Storage lives in files there), killed to cut a link. The tests
 * that use it run when ESPRUINO_BIN points at such a build.
 */
import fs from 'node:fs';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';

export const ESPRUINO = process.env.ESPRUINO_BIN;
export const ESPRUINO_ENABLED = Boolean(ESPRUINO && fs.existsSync(ESPRUINO));
/** The only port the Linux build serves telnet on. */
export const TELNET_PORT = 'tcp://127.0.0.1:2323';

/** Whether something listens on 127.0.0.1:2323. */
export function listening(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(2323, '127.0.0.1');
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

export async function stopEspruino(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
