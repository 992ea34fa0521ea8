/**
 * Generated blocks of the documentation: the text between a begin and an end
 * marker of a Markdown file is replaced (atomically) by what a script measured.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/write-atomic.ts';

export function replaceReadmeBlock(root: string, file: string, begin: string, end: string, content: string): void {
  const readme = path.join(root, file);
  const text = fs.readFileSync(readme, 'utf8');
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`${file} has no ${begin} ... ${end} block`);
  writeFileAtomic(readme, `${text.slice(0, start + begin.length)}\n${content}\n${text.slice(stop)}`);
  console.error(`${file} updated`);
}
