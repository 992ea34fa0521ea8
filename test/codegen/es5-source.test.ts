/**
 * The constant ES5 of the generated module (codegen/es5/): each file is ES5
 * that parses as it stands, and does what it says when run.
 */
import { describe, expect, it } from 'vitest';
import * as acorn from 'acorn';
import { es5Lines, es5Source, type Es5Source } from '../../codegen/es5-source.ts';
import { crc32 } from '../../core/crc32.ts';
import { mulberry32 } from '../../core/prng.ts';

const SOURCES: Es5Source[] = [
  'base64-decoder',
  'crc32',
  'native-builtins',
  'flash-builtins',
  'native-kernel',
  'native-flat',
  'native-flash',
  'native-host',
];

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

  it('conv and clip fall back to the same integer sum and comparisons where E is missing, and are E.convolve and E.clip where it is', () => {
    const builtins = (E: unknown) => run(es5Lines('native-builtins'), 'E', '{ conv: conv, clip: clip }')(E) as Builtins;
    const { conv, clip } = builtins(undefined);
    const a = Int8Array.from([3, -128, 127, 0, -7]);
    const v = Int8Array.from([-128, 127, 5, -3, 9, 100, -100]);
    const sum = (o: number) => Array.from(a).reduce((s, x, i) => s + x * v[i + o]!, 0);
    expect(conv(a, v)).toBe(sum(0));
    expect(conv(a, v, 2)).toBe(sum(2));
    expect([clip(-40000, -32768, 32767), clip(40000, -32768, 32767), clip(5, -128, 127), clip(-129, -128, 127)]).toEqual([
      -32768, 32767, 5, -128,
    ]);
    const E = { convolve: () => 'native conv', clip: () => 'native clip' };
    const native = builtins(E);
    expect([native.conv, native.clip]).toEqual([E.convolve, E.clip]);
    // an Espruino without E.clip (older firmware) keeps the native conv and the portable clip
    const noClip = builtins({ convolve: E.convolve });
    expect(noClip.conv).toBe(E.convolve);
    expect(noClip.clip(300, -128, 127)).toBe(127);
  });

  it('with weights in flash, conv and clip are E.convolve and E.clip', () => {
    const E = { convolve: () => 0, clip: () => 0 };
    const got = run(es5Lines('flash-builtins'), 'E', '[conv, clip]')(E) as unknown[];
    expect(got).toEqual([E.convolve, E.clip]);
  });
});

interface Builtins {
  conv: (a: ArrayLike<number>, b: ArrayLike<number>, o?: number) => number;
  clip: (x: number, lo: number, hi: number) => number;
}
