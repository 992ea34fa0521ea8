/**
 * The constant ES5 of the generated module (codegen/es5/): each file is ES5
 * that parses as it stands, and does what it says when run.
 */
import { describe, expect, it } from 'vitest';
import * as acorn from 'acorn';
import { es5Lines, es5Source, type Es5Source } from '../../codegen/es5-source.ts';
import { crc32 } from '../../core/crc32.ts';
import { mulberry32 } from '../../core/prng.ts';

const SOURCES: Es5Source[] = ['base64-decoder', 'crc32'];

/** The source with its placeholders filled, as a function of `vars` returning `result`. */
const run = (lines: string[], vars: string, result: string) => new Function(vars, `${lines.join('\n')}\nreturn ${result};`);

describe('the constant ES5 of the generated module', () => {
  it.each(SOURCES)('%s parses as ES5', (name) => {
    expect(() => acorn.parse(es5Source(name), { ecmaVersion: 5 })).not.toThrow();
  });

  it('buf(s) decodes base64, whole or in chunks, padded or not, to the bytes', () => {
    const rand = mulberry32(5);
    const decode = run(es5Lines('base64-decoder', { words: { CHUNK: '8' }, lines: { NATIVE: [] } }), 's', 'buf(s)');
    for (const length of [0, 1, 2, 3, 4, 5, 30, 31, 32, 1000]) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(rand() * 256));
      const text = Buffer.from(bytes).toString('base64');
      if (length === 0) continue; // the module never holds an empty array
      expect(new Uint8Array(decode(text) as ArrayBuffer), `${length} bytes`).toEqual(bytes);
      const chunks = text.match(/.{1,8}/g)!;
      expect(new Uint8Array(decode(chunks) as ArrayBuffer), `${length} bytes in chunks`).toEqual(bytes);
    }
  });

  it('checksum() is the CRC-32 of every array’s bytes in order', () => {
    const rand = mulberry32(6);
    const arrays = [
      Int8Array.from({ length: 37 }, () => Math.floor(rand() * 256) - 128),
      Int32Array.from({ length: 5 }, () => Math.floor(rand() * 2 ** 32) | 0),
    ];
    const checksum = run(es5Lines('crc32', { words: { ARRAYS: 'ARRS' } }), 'ARRS', 'checksum()');
    const bytes = Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
    expect(checksum(arrays)).toBe(crc32(bytes));
  });
});
