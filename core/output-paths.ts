/**
 * Output names may not collide: two outputs of one command that are the same
 * file, or an output that is one of the command's inputs, are refused before
 * anything is written (one line naming both). A device or a pipe
 * (/dev/null, /dev/stdout) may take several outputs.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { UserError } from './errors.ts';

export interface NamedPath {
  /** How the user named it: the option, or a description of a derived file. */
  what: string;
  path: string | undefined;
}

/** The file a path names, links followed where they lead; undefined for a device or a pipe. */
function identity(path: string): string | undefined {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(path);
  } catch {
    stat = undefined;
  }
  if (stat && (stat.isCharacterDevice() || stat.isFIFO())) return undefined;
  try {
    return fs.realpathSync(path);
  } catch {
    // not there yet: its folder's real path and its name
    const dir = nodePath.dirname(nodePath.resolve(path));
    let realDir = dir;
    try {
      realDir = fs.realpathSync(dir);
    } catch {
      // a folder to be created
    }
    return nodePath.join(realDir, nodePath.basename(path));
  }
}

export function checkOutputPaths(outputs: NamedPath[], inputs: NamedPath[] = []): void {
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const id = input.path === undefined ? undefined : identity(input.path);
    if (id !== undefined) seen.set(id, `the input ${input.what}`);
  }
  for (const output of outputs) {
    if (output.path === undefined) continue;
    const id = identity(output.path);
    if (id === undefined) continue;
    const other = seen.get(id);
    if (other !== undefined) throw new UserError(`${output.what} '${output.path}' is the same file as ${other}: give them different names`);
    seen.set(id, output.what);
  }
}
