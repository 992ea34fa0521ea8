/**
 * Write a file atomically: into a temporary file in the same directory
 * (flushed to disk), then rename over the target. A failure leaves neither a
 * partial file nor the temporary behind, and throws a one-line UserError.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.ts';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = nodePath.dirname(nodePath.resolve(path));
  const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    makeDirs(dir);
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // The temporary file was never created (e.g. the directory is missing).
    }
    throw new UserError(`cannot write ${path}: ${describeFsError(err)}`);
  }
}

/** `mkdir -p`. Not fs.mkdirSync's recursive mode: on Node 20 it never returns for a path under /proc. */
function makeDirs(dir: string): void {
  if (fs.existsSync(dir)) return;
  const parent = nodePath.dirname(dir);
  if (parent !== dir) makeDirs(parent);
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // created meanwhile: fine
  }
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
};

/** A short reason without the temporary file's name that Node puts in its messages. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && FS_REASONS[code]) ?? code ?? (err as Error).message;
}
