/**
 * Constant ES5 kept as real JavaScript files (the module's in codegen/es5/,
 * the app's in firmware/es5/), parsed and run by tests, and emitted line by
 * line at the builder's indent. A file may hold a placeholder the emitter
 * fills: a whole line `// NAME` is replaced by lines (or dropped), a word
 * NAME by text.
 */
import fs from 'node:fs';

export type Es5Source =
  'base64-decoder' | 'crc32' | 'native-builtins' | 'flash-builtins' | 'native-kernel' | 'native-flat' | 'native-flash' | 'native-host';

/** What fills a source's placeholders: `lines` for each `// NAME` line, `words` for each NAME word. */
export interface Es5Fill {
  lines?: Record<string, readonly string[]>;
  words?: Record<string, string>;
}

/** The text of an ES5 file, with \n line ends and no final newline. */
export function es5File(url: URL): string {
  return fs.readFileSync(url, 'utf8').replace(/\r\n/g, '\n').replace(/\n$/, '');
}

/** The lines of `source` with its placeholders filled. */
export function fillEs5(source: string, fill: Es5Fill = {}): string[] {
  return source.split('\n').flatMap((line) => {
    const marker = /^(\s*)\/\/ ([A-Z][A-Z0-9_]*)$/.exec(line);
    if (marker && fill.lines && marker[2]! in fill.lines) return fill.lines[marker[2]!]!.map((l) => (l === '' ? '' : marker[1] + l));
    return [Object.entries(fill.words ?? {}).reduce((l, [w, text]) => l.replace(new RegExp(`\\b${w}\\b`, 'g'), () => text), line)];
  });
}

/** The module's constant ES5 `name` (codegen/es5/). */
export const es5Source = (name: Es5Source): string => es5File(new URL(`./es5/${name}.js`, import.meta.url));

/** The module's constant ES5 `name`, its placeholders filled. */
export const es5Lines = (name: Es5Source, fill: Es5Fill = {}): string[] => fillEs5(es5Source(name), fill);
