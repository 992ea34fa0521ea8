/**
 * The constant ES5 of the generated module, kept as real JavaScript files in
 * codegen/es5/ (parsed and run by test/codegen/es5-source.test.ts) and
 * emitted line by line at the builder's indent. A file may hold a placeholder
 * the emitter fills: a whole line `// NAME` is replaced by lines (or
 * dropped), a word NAME by text.
 */
import fs from 'node:fs';

export type Es5Source = 'base64-decoder' | 'crc32' | 'native-builtins' | 'flash-builtins';

export function es5Source(name: Es5Source): string {
  return fs
    .readFileSync(new URL(`./es5/${name}.js`, import.meta.url), 'utf8')
    .replace(/\r\n/g, '\n')
    .replace(/\n$/, '');
}

/** The source's lines with `lines` put for each `// NAME` line and `words` for each NAME word. */
export function es5Lines(name: Es5Source, fill: { lines?: Record<string, string[]>; words?: Record<string, string> } = {}): string[] {
  return es5Source(name)
    .split('\n')
    .flatMap((line) => {
      const marker = /^(\s*)\/\/ ([A-Z][A-Z0-9_]*)$/.exec(line);
      if (marker && fill.lines && marker[2]! in fill.lines) return fill.lines[marker[2]!]!.map((l) => marker[1] + l);
      return [Object.entries(fill.words ?? {}).reduce((l, [w, text]) => l.replace(new RegExp(`\\b${w}\\b`, 'g'), text), line)];
    });
}
