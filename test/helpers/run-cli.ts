/**
 * Run the lstm-mcu command as a user would, asynchronously (a blocking spawn
 * would stall the test worker's messages to vitest on long runs).
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

export function runCli(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 28 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr, lastJson: () => JSON.parse(stdout.trim().split('\n').pop()!) });
      },
    );
    child.stdin?.end();
  });
}
