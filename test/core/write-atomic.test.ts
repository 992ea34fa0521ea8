/**
 * Outputs go where the user means: a regular file is replaced atomically, a
 * device or a pipe is written in place (never replaced), a directory or a
 * socket is refused, and a symbolic link is followed.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFilesAtomic } from '../../core/write-atomic.ts';
import { UserError } from '../../core/errors.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-write-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const leftovers = () => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('writeFileAtomic', () => {
  it('replaces a regular file with a new inode and creates missing folders', () => {
    const file = path.join(dir, 'a', 'b', 'report.json');
    writeFileAtomic(file, 'one');
    const before = fs.statSync(file).ino;
    writeFileAtomic(file, 'two');
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
    expect(fs.statSync(file).ino).not.toBe(before);
    expect(leftovers()).toEqual([]);
  });

  it('writes /dev/null in place: it stays the character device', () => {
    const before = fs.statSync('/dev/null');
    writeFileAtomic('/dev/null', 'discarded');
    const after = fs.statSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev]).toEqual([before.ino, before.rdev]);
  });

  it('writes a FIFO in place: the reader gets the bytes and the FIFO stays', async () => {
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
    const done = new Promise((r) => reader.on('exit', r));
    writeFileAtomic(fifo, 'through the pipe');
    await done;
    expect(got).toBe('through the pipe');
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('follows a symbolic link: the file it points to is replaced, the link stays', () => {
    const real = path.join(dir, 'real.json');
    const link = path.join(dir, 'link.json');
    fs.writeFileSync(real, 'old');
    fs.symlinkSync(real, link);
    writeFileAtomic(link, 'new');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(real, 'utf8')).toBe('new');
  });

  it('refuses a link to nothing, a directory and a socket in one line, leaving them as they were', async () => {
    const dangling = path.join(dir, 'dangling.json');
    fs.symlinkSync(path.join(dir, 'missing', 'x.json'), dangling);
    expect(() => writeFileAtomic(dangling, 'x')).toThrow(/symbolic link to a file that does not exist/);
    const folder = path.join(dir, 'folder');
    fs.mkdirSync(folder);
    expect(() => writeFileAtomic(folder, 'x')).toThrow(/it is a directory/);
    expect(fs.statSync(folder).isDirectory()).toBe(true);
    const socketPath = path.join(dir, 'sock');
    const server = net.createServer().listen(socketPath);
    await new Promise((r) => server.once('listening', r));
    try {
      expect(() => writeFileAtomic(socketPath, 'x')).toThrow(UserError);
      expect(() => writeFileAtomic(socketPath, 'x')).toThrow(/it is a socket/);
      expect(fs.lstatSync(socketPath).isSocket()).toBe(true);
    } finally {
      server.close();
    }
    expect(leftovers()).toEqual([]);
  });
});

describe('writeFilesAtomic: the files of one run, all of them or none', () => {
  /** Three files of an "old model" in a fresh folder; returns their paths. */
  const oldModel = (name: string) => {
    const folder = path.join(dir, name);
    fs.mkdirSync(folder);
    return ['a.js', 'a.d.ts', 'a.bin'].map((f) => {
      fs.writeFileSync(path.join(folder, f), `old ${f}`);
      return path.join(folder, f);
    });
  };
  const contents = (files: string[]) => files.map((f) => fs.readFileSync(f, 'utf8'));
  const inFolder = (name: string) => fs.readdirSync(path.join(dir, name)).sort();

  it('replaces every file when every write succeeds', () => {
    const files = oldModel('set-ok');
    writeFilesAtomic(files.map((f) => ({ path: f, data: `new ${path.basename(f)}` })));
    expect(contents(files)).toEqual(['new a.js', 'new a.d.ts', 'new a.bin']);
    expect(inFolder('set-ok')).toEqual(['a.bin', 'a.d.ts', 'a.js']);
  });

  it('a last target that is refused (a folder): the earlier files keep the old model', () => {
    const files = oldModel('set-refused');
    const folder = path.join(dir, 'set-refused', 'a.json');
    fs.mkdirSync(folder);
    const set = [...files, folder].map((f) => ({ path: f, data: 'new' }));
    expect(() => writeFilesAtomic(set)).toThrow(/^cannot write .*a\.json: it is a directory$/);
    expect(contents(files)).toEqual(['old a.js', 'old a.d.ts', 'old a.bin']);
    expect(inFolder('set-refused')).toEqual(['a.bin', 'a.d.ts', 'a.js', 'a.json']);
  });

  it('a write that fails midway (a parent that is a file): the files staged before it are removed, none replaced', () => {
    const files = oldModel('set-midway');
    const blocked = path.join(files[0], 'under-a-file.json'); // a.js is a file: nothing can be written under it
    const set = [files[0], files[1], blocked, files[2]].map((f) => ({ path: f, data: 'new' }));
    expect(() => writeFilesAtomic(set)).toThrow(/^cannot write .*under-a-file\.json: a parent path is not a directory$/);
    expect(contents(files)).toEqual(['old a.js', 'old a.d.ts', 'old a.bin']);
    expect(inFolder('set-midway')).toEqual(['a.bin', 'a.d.ts', 'a.js']);
  });
});
