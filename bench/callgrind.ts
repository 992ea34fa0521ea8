/**
 * Machine instructions of a program on Espruino, counted by valgrind's
 * callgrind: counts repeat exactly from run to run (timings on these machines
 * move by 10%), so two versions of a step compare to the percent.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';

/** Why instructions cannot be counted here (one line), or undefined. */
export function callgrindMissing(espruino: string): string | undefined {
  if (!espruino) return 'ESPRUINO_BIN is not set (a Linux build of Espruino)';
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'valgrind not found (apt-get install valgrind)';
  }
  return undefined;
}

/** Instructions callgrind counts for the program `source` run by the Espruino binary `espruino`. */
export function callgrindInstructions(espruino: string, source: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-instructions-'));
  const file = path.join(dir, 'bench.js');
  fs.writeFileSync(file, source);
  return new Promise((resolve, reject) => {
    execFile(
      'valgrind',
      ['--tool=callgrind', `--callgrind-out-file=${path.join(dir, 'callgrind.out')}`, espruino, file],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
      (error, _stdout, stderr) => {
        fs.rmSync(dir, { recursive: true, force: true });
        const m = /Collected : (\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
        else reject(new Error(`callgrind counted nothing${error ? `: ${error.message.split('\n')[0]}` : ''}`));
      },
    );
  });
}
