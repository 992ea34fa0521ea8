/**
 * Write a file atomically: into a temporary file in the same directory
 * (flushed to disk), then rename over the target. A failure leaves neither a
 * partial file nor the temporary behind, and throws a one-line UserError.
 *
 * Only a regular file (or a new name) is replaced. A target that exists and
 * is something else is what the user means to write to, so it is never
 * replaced: a character device or a FIFO (/dev/null, /dev/stdout, a pipe) is
 * written in place; a directory, a socket or a block device is refused. A
 * symbolic link is followed: the file it points to is replaced atomically and
 * the link stays (a link to nothing is refused).
 *
 * The files of one command are written as a set (writeFilesAtomic): all of
 * them to their temporaries before any is renamed.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.ts';

export function writeFileAtomic(given: string, data: string | Uint8Array): void {
  writeFilesAtomic([{ path: given, data }]);
}

/** One file of a set written together: the name the user gave, and its content. */
export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
}

/**
 * The files of one run written as one: every target is checked, every regular
 * one written to its temporary (flushed) and every device or pipe in place;
 * only once all of that succeeded are the temporaries renamed over their
 * targets, in order. A failure before the renames leaves every regular target
 * as it was, so the files of a new model never stand beside those of an old
 * one; the temporaries are removed.
 */
export function writeFilesAtomic(files: FileToWrite[]): void {
  const staged: Staged[] = [];
  try {
    // Every refusal (a directory, a socket, a dangling link) before anything is written.
    const targets = files.map((f) => ({ f, target: targetOf(f.path) }));
    for (const { f, target } of targets) if (target.kind === 'replace') staged.push(stageFile(f.path, target.path, f.data));
    for (const { f, target } of targets) if (target.kind === 'in place') writeInPlace(f.path, f.data);
  } catch (err) {
    for (const s of staged) removeQuietly(s.tmp);
    throw err;
  }
  commitStaged(staged);
}

type Target = { kind: 'replace'; path: string } | { kind: 'in place' };

/** What writing `path` means: replace a regular file (through a link), or write a device or pipe in place. */
function targetOf(path: string): Target {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return { kind: 'replace', path }; // a new file (a missing directory is reported by the write)
  }
  if (stat.isSymbolicLink()) {
    let real: string;
    try {
      real = fs.realpathSync(path);
    } catch {
      throw new UserError(`cannot write ${path}: it is a symbolic link to a file that does not exist`);
    }
    return targetOf(real);
  }
  if (stat.isFile()) return { kind: 'replace', path };
  if (stat.isCharacterDevice() || stat.isFIFO()) return { kind: 'in place' };
  const what = stat.isDirectory()
    ? 'a directory'
    : stat.isSocket()
      ? 'a socket'
      : stat.isBlockDevice()
        ? 'a block device'
        : 'not a regular file';
  throw new UserError(`cannot write ${path}: it is ${what}`);
}

/** A device or a pipe: written as it is, never replaced. */
function writeInPlace(path: string, data: string | Uint8Array): void {
  try {
    fs.writeFileSync(path, data);
  } catch (err) {
    throw new UserError(`cannot write ${path}: ${describeFsError(err)}`);
  }
}

/** A temporary file written beside its target, waiting to be renamed over it. */
interface Staged {
  given: string;
  path: string;
  tmp: string;
}

/** `data` into a temporary file beside `path`, flushed; `given` is the name the user gave. */
function stageFile(given: string, path: string, data: string | Uint8Array): Staged {
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
  } catch (err) {
    removeQuietly(tmp);
    throw new UserError(`cannot write ${given}: ${describeFsError(err)}`);
  }
  return { given, path, tmp };
}

/**
 * Each temporary renamed over its target. A rename within one directory
 * hardly fails once its temporary was created there; if one does, the message
 * names the targets already replaced.
 */
function commitStaged(staged: Staged[]): void {
  staged.forEach((s, k) => {
    try {
      fs.renameSync(s.tmp, s.path);
    } catch (err) {
      for (const rest of staged.slice(k)) removeQuietly(rest.tmp);
      const done = staged.slice(0, k).map((d) => d.given);
      throw new UserError(
        `cannot write ${s.given}: ${describeFsError(err)}${done.length ? ` (already replaced: ${done.join(', ')})` : ''}`,
      );
    }
  });
}

function removeQuietly(path: string): void {
  try {
    fs.rmSync(path, { force: true });
  } catch {
    // The temporary file was never created (e.g. the directory is missing).
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
