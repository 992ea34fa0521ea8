/**
 * Run the lstm-mcu command as a user would, asynchronously (a blocking spawn
 * would stall the test worker's messages to vitest on long runs).
 *
 * The command sees the real interpreters (ESPRUINO_BIN, JERRY_BIN) only when
 * a test asks for them: a command's own parity on them is what those tests
 * check, and the parity, app and flash tests run every engine directly. On
 * the unoptimised Linux Espruino a demo's 7,800 parity steps of a window
 * model alone take over ten minutes.
 */
import path from 'node:path';
import { execFile } from 'node:child_process';

export const BIN = path.resolve(__dirname, '../../bin/lstm-mcu.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The --json summary: the last line of stdout. */
  lastJson(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** `withoutWatch`: as on a machine without the Bangle.js 2 emulator (BANGLE2_DIR unset). */
export function runCli(args: string[], cwd: string, o: { realEngines?: boolean; withoutWatch?: boolean } = {}): Promise<CliResult> {
  const env = { ...process.env };
  if (!o.realEngines) {
    delete env.ESPRUINO_BIN;
    delete env.JERRY_BIN;
  }
  if (o.withoutWatch) delete env.BANGLE2_DIR;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 28 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr, lastJson: () => JSON.parse(stdout.trim().split('\n').pop()!) });
      },
    );
    child.stdin?.end();
  });
}
