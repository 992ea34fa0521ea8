/**
 * The documentation: every link in README.md and docs/ resolves to a file in
 * the repository (and a heading, when it names one), and the README stays
 * short enough to read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const pages = [
  'README.md',
  ...fs
    .readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');

describe('the documentation', () => {
  it.each(pages)('%s: every link resolves inside the repository', (page) => {
    const text = fs.readFileSync(path.join(root, page), 'utf8');
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    for (const link of links) {
      const [file, hash] = link.split('#') as [string, string | undefined];
      const target = file ? path.resolve(path.dirname(path.join(root, page)), file) : path.join(root, page);
      expect(target.startsWith(root + path.sep), `${page}: ${link} leaves the repository`).toBe(true);
      expect(fs.existsSync(target), `${page}: ${link} does not exist`).toBe(true);
      if (hash) {
        const headings = fs
          .readFileSync(target, 'utf8')
          .split('\n')
          .filter((l) => /^#+ /.test(l))
          .map((l) => anchor(l.replace(/^#+ /, '')));
        expect(headings, `${page}: ${link} names no heading`).toContain(hash);
      }
    }
  });

  it('the README is under 200 lines', () => {
    expect(fs.readFileSync(path.join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThan(200);
  });
});
