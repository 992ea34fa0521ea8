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
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * The command's sources, run through tsx: the tests test the sources, not a
 * dist/ that may be older (bin/lstm-mcu.js runs dist/; test/package/ runs it
 * from a packed tarball).
 */
export const CLI_SOURCE = path.resolve(__dirname, '../../cli/main.ts');
/** tsx's loader by its path: the command runs in a temporary folder, where `--import tsx` would not resolve. */
const TSX_LOADER = pathToFileURL(createRequire(__filename).resolve('tsx')).href;
/** Node's arguments before the command's own: the sources through tsx (for a test that spawns the command itself). */
export const CLI_NODE_ARGS = ['--import', TSX_LOADER, CLI_SOURCE];

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
      [...CLI_NODE_ARGS, ...args],
      { cwd, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 28 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr, lastJson: () => JSON.parse(stdout.trim().split('\n').pop()!) });
      },
    );
    child.stdin?.end();
  });
}
