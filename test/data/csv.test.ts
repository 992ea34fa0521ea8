import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hashFile, parseNumberStrict, readCsvColumns } from '../../data/csv.ts';
import { UserError } from '../../core/errors.ts';
import { delimiterOption } from '../../cli/common.ts';
import { cleanupTemp, tempCsv } from '../trainer/helpers.ts';

afterAll(cleanupTemp);

async function userError(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UserError);
  const msg = (e as Error).message;
  expect(msg).not.toContain('\n');
  return msg;
}

describe('readCsvColumns', () => {
  it('picks named columns, keeps line numbers and hashes the bytes', async () => {
    const text = 'time,a,b,c\n0,1,10,x\n1,2,20,y\n2,3,30,z\n';
    const path = tempCsv(text);
    const t = await readCsvColumns(path, ['b', 'a'], { missing: 'error' });
    expect(Object.keys(t.columns).sort()).toEqual(['a', 'b']);
    expect([...t.columns.a!]).toEqual([1, 2, 3]);
    expect([...t.columns.b!]).toEqual([10, 20, 30]);
    expect(t.rows).toBe(3);
    expect([...t.lines!]).toEqual([2, 3, 4]);
    expect(t.path).toBe(path);
    const sha = createHash('sha256').update(text).digest('hex');
    expect(t.sha256).toBe(sha);
    expect(await hashFile(path)).toBe(sha);
  });

  it('accepts ints, decimals, exponents, signs, CRLF, BOM, quotes, spaces and no final newline', async () => {
    const path = tempCsv('\uFEFFa, "b"\r\n-3, "1.5"\r\n+4,.25\r\n5.,1e3\r\n\r\n 6 ,-2.5E-2');
    const t = await readCsvColumns(path, ['a', 'b'], { missing: 'error' });
    expect([...t.columns.a!]).toEqual([-3, 4, 5, 6]);
    expect([...t.columns.b!]).toEqual([1.5, 0.25, 1000, -0.025]);
    expect([...t.lines!]).toEqual([2, 3, 4, 6]);
  });

  it('streams a larger file', async () => {
    const n = 50_000;
    const rows = Array.from({ length: n }, (_, i) => `${i},${i * 0.5}`);
    const path = tempCsv(`i,v\n${rows.join('\n')}\n`);
    const t = await readCsvColumns(path, ['v'], { missing: 'error' });
    expect(t.rows).toBe(n);
    expect(t.columns.v![n - 1]).toBe((n - 1) * 0.5);
    expect(t.lines![n - 1]).toBe(n + 1);
  });

  it('streams a huge file: memory stays far below the file size (the file is never loaded whole)', async () => {
    // ~120 MB: 600,000 rows whose unused text column is 200 bytes; the two loaded columns are 9.6 MB as doubles.
    const n = 600_000;
    const filler = 'x'.repeat(200);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-huge-'));
    const file = path.join(dir, 'huge.csv');
    const out = fs.createWriteStream(file);
    out.write('a,note,b\n');
    for (let i = 0; i < n; i += 10_000) {
      let block = '';
      for (let k = i; k < i + 10_000; k++) block += `${k},${filler},${k % 97}\n`;
      if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(100e6);
    try {
      global.gc?.();
      const before = process.memoryUsage();
      let peak = 0;
      const sample = setInterval(() => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.external + m.arrayBuffers - (before.heapUsed + before.external + before.arrayBuffers));
      }, 5);
      const t = await readCsvColumns(file, ['a', 'b'], { missing: 'error' });
      clearInterval(sample);
      expect(t.rows).toBe(n);
      expect(t.columns.b![n - 1]).toBe((n - 1) % 97);
      // Loading the file whole would hold at least its bytes (and a string twice their size); streaming holds a few chunks.
      console.log(`csv: ${(size / 1e6).toFixed(0)} MB file, peak memory growth ${(peak / 1e6).toFixed(1)} MB while streaming it`);
      expect(peak).toBeLessThan(size * 0.75);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it.each([
    ['abc', "'abc' is not a number"],
    ['1.2.3', "'1.2.3' is not a number"],
    ['Infinity', "'Infinity' is not a number"],
    ['-Infinity', "'-Infinity' is not a number"],
    ['0x10', "'0x10' is not a number"],
    ['1e', "'1e' is not a number"],
    ['1,5', 'expected 2 fields'],
    ['1e999', "'1e999' is out of range"],
  ])('rejects %s with file:line and column', async (cell, why) => {
    const path = tempCsv(`a,humidity\n1,2\n3,${cell}\n`);
    const msg = await userError(readCsvColumns(path, ['a', 'humidity'], { missing: 'error' }));
    expect(msg).toContain(`${path}:3:`);
    expect(msg).toContain(why);
    if (!why.startsWith('expected')) expect(msg).toContain("column 'humidity'");
  });

  it('a huge bad cell, or one holding line ends, stays a short message of one line', async () => {
    const big = 'x'.repeat(5_000_000);
    const msg = await userError(readCsvColumns(tempCsv(`a,humidity\n1,2\n3,${big}\n`), ['a', 'humidity'], { missing: 'error' }));
    expect(msg).toContain(`'${'x'.repeat(60)}…' (5000000 characters) is not a number`);
    expect(msg.length).toBeLessThan(300);
    const odd = await userError(readCsvColumns(tempCsv('a,humidity\n1,2\n3,"4\r\n5\u20286"\n'), ['a', 'humidity'], { missing: 'error' }));
    expect(odd).toContain(`'4\\u000d\\u000a5\\u20286' is not a number`);
    expect(odd.split(/[\n\r\u2028\u2029]/)).toHaveLength(1);
  });

  it('names the available columns for an unknown one', async () => {
    const path = tempCsv('time,temp\n1,2\n');
    const msg = await userError(readCsvColumns(path, ['temp', 'humidity'], { missing: 'error' }));
    expect(msg).toContain("unknown column 'humidity'");
    expect(msg).toContain("'time', 'temp'");
  });

  it("reads ';' and tab CSVs with their delimiter, and hints at --delimiter when a header is one column holding another", async () => {
    for (const d of [';', '\t'] as const) {
      const t = await readCsvColumns(tempCsv(`time${d}temp\n1${d}2\n3${d}4\n`), ['temp'], { delimiter: d });
      expect([...t.columns.temp!]).toEqual([2, 4]);
    }
    const semicolon = await userError(readCsvColumns(tempCsv('time;temp\n1;2\n'), ['temp']));
    expect(semicolon).toMatch(
      /unknown column 'temp'; available columns: 'time;temp' \(the header is one column holding ';': pass --delimiter ';'\)$/,
    );
    const tab = await userError(readCsvColumns(tempCsv('time\ttemp\n1\t2\n'), ['temp']));
    expect(tab).toContain('(the header is one column holding tabs: pass --delimiter tab)');
    const comma = await userError(readCsvColumns(tempCsv('time,temp\n1,2\n'), ['temp'], { delimiter: ';' }));
    expect(comma).toContain("(the header is one column holding ',': pass --delimiter ,)");
    // --delimiter's spellings
    expect(['tab', '\\t', '\t', ';', ','].map(delimiterOption)).toEqual(['\t', '\t', '\t', ';', ',']);
    for (const bad of ['|', 'toString', ';;', '']) expect(() => delimiterOption(bad)).toThrow(/expected ',', ';' or tab/);
    // no hint when the header has several columns, or holds no other delimiter
    expect(await userError(readCsvColumns(tempCsv('a;b,c\n1,2\n'), ['temp']))).not.toContain('--delimiter');
    expect(await userError(readCsvColumns(tempCsv('time\n1\n'), ['temp']))).not.toContain('--delimiter');
  });

  it('reports ragged rows with their line number', async () => {
    const path = tempCsv('a,b,c\n1,2,3\n4,5,6\n7,8\n');
    const msg = await userError(readCsvColumns(path, ['a'], { missing: 'error' }));
    expect(msg).toBe(`${path}:4: expected 3 fields (as in the header), found 2`);
    const path2 = tempCsv('a,b\n1,2,3\n');
    expect(await userError(readCsvColumns(path2, ['a'], { missing: 'error' }))).toContain(`${path2}:2: expected 2 fields`);
  });

  it('rejects an empty file, a header-only file and a missing file', async () => {
    const empty = tempCsv('');
    expect(await userError(readCsvColumns(empty, ['a'], { missing: 'error' }))).toContain('file is empty');
    const blank = tempCsv('\n\n');
    expect(await userError(readCsvColumns(blank, ['a'], { missing: 'error' }))).toContain('file is empty');
    const header = tempCsv('a,b\n');
    expect(await userError(readCsvColumns(header, ['a'], { missing: 'error' }))).toContain('no data rows after the header');
    expect(await userError(readCsvColumns(`${header}.nope`, ['a'], { missing: 'error' }))).toContain('no such file');
  });

  it('reports malformed quoting as a user error', async () => {
    const path = tempCsv('a,b\n1,"2\n3,4\n');
    expect(await userError(readCsvColumns(path, ['a'], { missing: 'error' }))).toContain('malformed CSV');
  });

  describe('missing values', () => {
    const text = 'a,b,other\n1,10,\n2,,x\n3,NA,\n4,NaN,\n5,null,\n6,60,\n';

    it("'error' (the default) names file:line, column and the options", async () => {
      const path = tempCsv(text);
      const msg = await userError(readCsvColumns(path, ['a', 'b'], {} as { missing: 'error' }));
      expect(msg).toContain(`${path}:3: column 'b': missing value`);
      expect(msg).toContain('--missing drop');
      expect(msg).toContain('--missing ffill');
      for (const token of ['NA', 'NaN', 'null', 'na', 'NULL']) {
        const p = tempCsv(`a,b\n1,2\n3,${token}\n`);
        expect(await userError(readCsvColumns(p, ['b'], { missing: 'error' }))).toContain(`${p}:3: column 'b': missing value`);
      }
    });

    it('ignores missing values in columns that were not asked for', async () => {
      const t = await readCsvColumns(tempCsv(text), ['a'], { missing: 'error' });
      expect([...t.columns.a!]).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it("'drop' drops the rows", async () => {
      const t = await readCsvColumns(tempCsv(text), ['a', 'b'], { missing: 'drop' });
      expect([...t.columns.a!]).toEqual([1, 6]);
      expect([...t.columns.b!]).toEqual([10, 60]);
      expect([...t.lines!]).toEqual([2, 7]);
    });

    it("'drop' with nothing left is an error", async () => {
      const path = tempCsv('a,b\n1,\n2,NA\n');
      expect(await userError(readCsvColumns(path, ['a', 'b'], { missing: 'drop' }))).toContain('no rows left');
    });

    it("'ffill' repeats the previous row's value", async () => {
      const t = await readCsvColumns(tempCsv(text), ['a', 'b'], { missing: 'ffill' });
      expect([...t.columns.a!]).toEqual([1, 2, 3, 4, 5, 6]);
      expect([...t.columns.b!]).toEqual([10, 10, 10, 10, 10, 60]);
    });

    it("'ffill' with a missing first row is an error", async () => {
      const path = tempCsv('a,b\n1,\n2,3\n');
      const msg = await userError(readCsvColumns(path, ['a', 'b'], { missing: 'ffill' }));
      expect(msg).toContain(`${path}:2: column 'b'`);
      expect(msg).toContain('first data row');
    });

    it("'ffill' never fills across a change of the group column", async () => {
      const ok = await readCsvColumns(tempCsv('g,b\n1,5\n1,\n2,7\n2,\n'), ['g', 'b'], { missing: 'ffill', group: 'g' });
      expect([...ok.columns.b!]).toEqual([5, 5, 7, 7]);
      const path = tempCsv('g,b\n1,5\n1,6\n2,\n2,8\n');
      const msg = await userError(readCsvColumns(path, ['g', 'b'], { missing: 'ffill', group: 'g' }));
      expect(msg).toContain(`${path}:4: column 'b': missing value in the first row of a new 'g' series`);
      // Without a group column the same file fills from the row before.
      expect([...(await readCsvColumns(path, ['g', 'b'], { missing: 'ffill' })).columns.b!]).toEqual([5, 6, 6, 8]);
    });

    it('still rejects non-numbers under drop and ffill', async () => {
      const path = tempCsv('a\n1\nx\n');
      for (const missing of ['drop', 'ffill'] as const) {
        expect(await userError(readCsvColumns(path, ['a'], { missing }))).toContain(`${path}:3: column 'a': 'x' is not a number`);
      }
    });
  });
});

describe('parseNumberStrict', () => {
  it('round-trips every finite double printed by JavaScript', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        expect(parseNumberStrict(String(v))).toBe(v === 0 ? 0 : v);
      }),
    );
  });
  it('rejects text that Number() would accept', () => {
    for (const s of ['', ' ', '0x1f', '0b1', '1_000', 'Infinity', 'NaN', '1e', '.', '-', '+.e1']) {
      expect(parseNumberStrict(s)).toBeUndefined();
    }
  });
});

describe('text columns (class labels)', () => {
  it('a column with text becomes codes of its sorted texts; an all-numeric one stays numeric; ffill repeats the text', async () => {
    const file = tempCsv('x,label,n\n1,sun,3\n2,rain,4\n3,,5\n4,"cloud, low",6\n');
    const t = await readCsvColumns(file, ['x', 'label', 'n'], { categorical: ['label', 'n'], missing: 'ffill' });
    expect(t.categories).toEqual({ label: ['cloud, low', 'rain', 'sun'] });
    expect(Array.from(t.columns.label!)).toEqual([2, 1, 1, 0]);
    expect(Array.from(t.columns.n!)).toEqual([3, 4, 5, 6]);
  });

  it('a text cell in a numeric column is still an error naming line and column', async () => {
    const file = tempCsv('x,label\n1,sun\noops,rain\n');
    expect(await userError(readCsvColumns(file, ['x', 'label'], { categorical: ['label'] }))).toMatch(
      /:3: column 'x': 'oops' is not a number/,
    );
  });
});
