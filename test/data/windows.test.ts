import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildDataset, type DatasetSpec, type Split } from '../../data/windows.ts';
import { UserError } from '../../core/errors.ts';
import { table } from '../trainer/helpers.ts';

const range = (n: number, f: (i: number) => number = (i) => i): number[] => Array.from({ length: n }, (_, i) => f(i));

function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

/** Un-normalized feature f of window k, step s. */
function rawX(ds: ReturnType<typeof buildDataset>, split: Split, k: number, s: number, f: number): number {
  const F = ds.featureNames.length;
  return split.x.at(k)[s * F + f]! * ds.inputNorm.std[f]! + ds.inputNorm.mean[f]!;
}

// 20 rows; a = row index, b = 10 * row index. Split 0.5 / 0.25 -> train [0,10), validation [10,15), test [15,20).
const tiny = table({ a: range(20), b: range(20, (i) => 10 * i) });
const tinySpec: DatasetSpec = {
  features: ['a'],
  task: 'regression',
  targets: ['b'],
  window: 3,
  horizon: 1,
  split: { train: 0.5, validation: 0.25 },
};

describe('buildDataset: regression on a hand-made series', () => {
  const ds = buildDataset(tiny, tinySpec);

  it('puts exactly the windows that fit inside each range in each split', () => {
    // window ending at t uses rows t-2..t and target row t+1
    expect([...ds.train.endRows]).toEqual([2, 3, 4, 5, 6, 7, 8]); // t+1 <= 9
    expect([...ds.validation.endRows]).toEqual([12, 13]); // t-2 >= 10, t+1 <= 14
    expect([...ds.test.endRows]).toEqual([17, 18]); // t-2 >= 15, t+1 <= 19
    expect(ds.train.n).toBe(7);
    expect(ds.segments).toEqual([{ group: NaN, start: 0, end: 20, trainEnd: 10, validationEnd: 15 }]);
  });

  it('lays out x as [n][window][features] and targets at t + horizon', () => {
    for (const split of [ds.train, ds.validation, ds.test]) {
      expect([split.x.count, split.x.size]).toEqual([split.n, 3]);
      for (let k = 0; k < split.n; k++) {
        const t = split.endRows[k]!;
        for (let s = 0; s < 3; s++) expect(rawX(ds, split, k, s, 0)).toBeCloseTo(t - 2 + s, 5);
        expect(split.rawTargets[k]).toBe(10 * (t + 1));
        expect(split.y[k]! * ds.outputNorm.std[0]! + ds.outputNorm.mean[0]!).toBeCloseTo(10 * (t + 1), 4);
      }
    }
  });

  it('normalizes with the training rows only', () => {
    // training rows 0..9: mean 4.5, population std sqrt(8.25)
    expect(ds.inputNorm.mean[0]).toBeCloseTo(4.5, 12);
    expect(ds.inputNorm.std[0]).toBeCloseTo(Math.sqrt(8.25), 12);
    expect(ds.outputNorm.mean[0]).toBeCloseTo(45, 12);
    expect(ds.outputNorm.std[0]).toBeCloseTo(10 * Math.sqrt(8.25), 12);
    // changing validation / test rows does not move the statistics ...
    const a = range(20);
    const b = range(20, (i) => 10 * i);
    a[10] = 1000;
    a[19] = -1000;
    b[12] = 5e6;
    b[19] = -7;
    const moved = buildDataset(table({ a, b }), tinySpec);
    expect(moved.inputNorm).toEqual(ds.inputNorm);
    expect(moved.outputNorm).toEqual(ds.outputNorm);
    // ... changing a training row does
    a[9] = 100;
    expect(buildDataset(table({ a, b }), tinySpec).inputNorm.mean[0]).not.toBeCloseTo(4.5, 3);
  });

  it('rejects a column that is constant in the training rows', () => {
    const c = range(20, (i) => (i < 10 ? 7 : i));
    const msg = userError(() => buildDataset(table({ a: range(20), c, b: range(20) }), { ...tinySpec, features: ['a', 'c'] }));
    expect(msg).toContain("column 'c' is constant (7) in the training rows");
    const msg2 = userError(() => buildDataset(table({ a: range(20), c }), { ...tinySpec, targets: ['c'] }));
    expect(msg2).toContain("column 'c' is constant");
  });

  it('says how many rows are needed when there are too few', () => {
    // window 3 + horizon 1 = 4 rows in each range; with 0.5/0.25/0.25 cuts floor(n/2), floor(3n/4),
    // 14 rows give 7/3/4 and 15 rows give 7/4/4
    const msg = userError(() => buildDataset(table({ a: range(14), b: range(14) }), tinySpec));
    expect(msg).toContain('too few rows for one validation window');
    expect(msg).toContain('needs 4 consecutive rows');
    expect(msg).toContain('at least 15 are needed');
    expect(() => buildDataset(table({ a: range(15), b: range(15) }), tinySpec)).not.toThrow();
    const msg2 = userError(() => buildDataset(table({ a: range(8), b: range(8) }), { ...tinySpec, window: 10 }));
    expect(msg2).toContain('too few rows for one train window');
  });

  it('validates the spec', () => {
    expect(userError(() => buildDataset(tiny, { ...tinySpec, horizon: 0 }))).toContain('horizon must be an integer >= 1');
    expect(userError(() => buildDataset(tiny, { ...tinySpec, window: 0 }))).toContain('window must be');
    expect(userError(() => buildDataset(tiny, { ...tinySpec, split: { train: 0.8, validation: 0.2 } }))).toContain('split fractions');
    expect(userError(() => buildDataset(tiny, { ...tinySpec, features: ['zz'] }))).toContain("feature column 'zz' was not loaded");
  });

  it('uses 0.7 / 0.15 by default', () => {
    const { split: _drop, ...spec } = tinySpec;
    const ds100 = buildDataset(table({ a: range(100), b: range(100) }), spec);
    expect(ds100.segments[0]).toMatchObject({ trainEnd: 70, validationEnd: 85 });
  });
});

describe('buildDataset: windows are an index over the rows, not a copy', () => {
  it('each window is a view of the shared normalized rows; memory grows with rows x features, not x window', () => {
    // 200,000 rows, window 500: copied windows would be ~280 MB of float32 (70% of the windows are training ones alone).
    const n = 200_000;
    const W = 500;
    const t = table({ a: range(n, (i) => Math.sin(i / 50)), b: range(n, (i) => (i % 17) / 17) });
    global.gc?.();
    const before = process.memoryUsage();
    const ds = buildDataset(t, { features: ['a', 'b'], task: 'regression', targets: ['a'], window: W, horizon: 1 });
    const after = process.memoryUsage();
    const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    const copied = (ds.train.n + ds.validation.n + ds.test.n) * W * 2 * 4;
    console.log(`windows: ${(grown / 1e6).toFixed(1)} MB for ${n} rows at window ${W} (copied windows: ${(copied / 1e6).toFixed(0)} MB)`);
    expect(grown).toBeLessThan(copied / 20);
    // Consecutive windows of a split share their buffer, one row (2 features, 4 bytes each) apart.
    const [w0, w1] = [ds.train.x.at(0), ds.train.x.at(1)];
    expect(w1.buffer).toBe(w0.buffer);
    expect(w1.byteOffset - w0.byteOffset).toBe(2 * 4);
    expect(ds.test.x.at(0).buffer).toBe(w0.buffer);
    // ... and hold the normalized rows they cover.
    const k = ds.validation.n - 1;
    const end = ds.validation.endRows[k]!;
    expect(ds.validation.x.at(k)[(W - 1) * 2]).toBe(Math.fround((t.columns.a![end]! - ds.inputNorm.mean[0]!) / ds.inputNorm.std[0]!));
  });
});

describe('buildDataset: extreme finite values are refused at loading, naming the column and the row', () => {
  // Rows 0..19 of `table` are file lines 2..21.
  const withCell = (name: 'a' | 'b', row: number, v: number) => {
    const cols = { a: range(20), b: range(20) };
    cols[name][row] = v;
    return table(cols);
  };

  it('a value whose training statistics overflow a double (the std would be Infinity, every input 0)', () => {
    const msg = userError(() => buildDataset(withCell('a', 3, 1e308), tinySpec));
    expect(msg).toBe(
      "mem.csv:5: column 'a': 1e+308 is too large to normalize (the training rows' standard deviation overflows a double); remove the row or rescale the column",
    );
    expect(userError(() => buildDataset(withCell('b', 7, -1e200), tinySpec))).toContain("mem.csv:9: column 'b': -1e+200 is too large");
  });

  it('a normalized value beyond what the float32 trainer holds (a validation or test row, an input or a target)', () => {
    const msg = userError(() => buildDataset(withCell('a', 12, 1e308), tinySpec));
    expect(msg).toMatch(
      /^mem\.csv:14: column 'a': 1e\+308 lies 3\.5e\+307 standard deviations .* beyond the 1e\+15 the float32 trainer holds/,
    );
    expect(userError(() => buildDataset(withCell('b', 18, 1e30), tinySpec))).toContain("mem.csv:20: column 'b': 1e+30 lies");
    // just inside the bound: z = (v - 4.5) / 2.872 <= 1e15 is accepted
    expect(() => buildDataset(withCell('a', 12, 2e15), tinySpec)).not.toThrow();
    expect(() => buildDataset(withCell('a', 12, 3e15), tinySpec)).toThrow(UserError);
  });

  it("target mode change: a change whose statistics overflow, though the level's do not", () => {
    // b's squares sum to ~1.3e308 (finite); its change -1.6e154 squares to 2.6e308 (Infinity)
    const b = range(20);
    b[4] = 8e153;
    b[5] = -8e153;
    const spec: DatasetSpec = { ...tinySpec, features: ['a', 'b'], targetMode: 'change' };
    const msg = userError(() => buildDataset(table({ a: range(20), b }), spec));
    expect(msg).toContain("mem.csv:7: column 'b' (its change over 1 step(s)): -1.6e+154 is too large to normalize");
  });
});

describe('buildDataset: no leakage (property)', () => {
  it('every window and its target row lie inside its own split range, within one group', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 20, max: 70 }),
        fc.integer({ min: 10, max: 25 }),
        (groupSizes, window, horizon, trainPct, valPct) => {
          const g: number[] = [];
          groupSizes.forEach((size, i) => g.push(...range(size, () => i)));
          const n = g.length;
          const t = table({ g, a: range(n, (i) => Math.sin(i)), b: range(n, (i) => Math.cos(i)) });
          const spec: DatasetSpec = {
            features: ['a'],
            task: 'regression',
            targets: ['b'],
            group: 'g',
            window,
            horizon,
            split: { train: trainPct / 100, validation: valPct / 100 },
          };
          let ds;
          try {
            ds = buildDataset(t, spec);
          } catch (e) {
            expect((e as Error).message).toMatch(/too few rows|is constant/);
            return;
          }
          const seen = new Set<number>();
          for (const name of ['train', 'validation', 'test'] as const) {
            for (const end of ds[name].endRows) {
              const seg = ds.segments.find((s) => end >= s.start && end < s.end)!;
              const [lo, hi] =
                name === 'train'
                  ? [seg.start, seg.trainEnd]
                  : name === 'validation'
                    ? [seg.trainEnd, seg.validationEnd]
                    : [seg.validationEnd, seg.end];
              expect(end - window + 1).toBeGreaterThanOrEqual(lo);
              expect(end + horizon).toBeLessThan(hi);
              expect(g[end - window + 1]).toBe(g[end + horizon]);
              expect(seen.has(end)).toBe(false);
              seen.add(end);
            }
          }
          // and every window that fits is used
          let expected = 0;
          for (const s of ds.segments) {
            for (const [lo, hi] of [
              [s.start, s.trainEnd],
              [s.trainEnd, s.validationEnd],
              [s.validationEnd, s.end],
            ] as const) {
              expected += Math.max(0, hi - lo - window - horizon + 1);
            }
          }
          expect(seen.size).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('buildDataset: groups', () => {
  it('splits each series separately and never crosses a change of the group column', () => {
    // two series of 20 rows; group ids 5 then 3 (order of appearance, not sorted)
    const g = [...range(20, () => 5), ...range(20, () => 3)];
    const ds = buildDataset(table({ g, a: range(40), b: range(40) }), { ...tinySpec, group: 'g' });
    expect(ds.segments).toEqual([
      { group: 5, start: 0, end: 20, trainEnd: 10, validationEnd: 15 },
      { group: 3, start: 20, end: 40, trainEnd: 30, validationEnd: 35 },
    ]);
    expect([...ds.train.endRows]).toEqual([2, 3, 4, 5, 6, 7, 8, 22, 23, 24, 25, 26, 27, 28]);
    expect([...ds.validation.endRows]).toEqual([12, 13, 32, 33]);
    expect([...ds.test.endRows]).toEqual([17, 18, 37, 38]);
    // normalization over both training ranges: rows 0..9 and 20..29
    const rows = [...range(10), ...range(10, (i) => 20 + i)];
    const mean = rows.reduce((s, v) => s + v, 0) / rows.length;
    expect(ds.inputNorm.mean[0]).toBeCloseTo(mean, 12);
  });

  it('names the group column when the series are too short', () => {
    const g = range(40, (i) => i % 2); // alternating ids: every series is one row long
    const msg = userError(() => buildDataset(table({ g, a: range(40), b: range(40) }), { ...tinySpec, group: 'g' }));
    expect(msg).toContain("longest series (by 'g') has 1 rows");
  });
});

describe('buildDataset: classification', () => {
  // label follows the sign of a, repeating 0/1/2 pattern in blocks
  const n = 40;
  const label = range(n, (i) => [2, 0, 1][Math.floor(i / 2) % 3]!);
  const cls: DatasetSpec = {
    features: ['a'],
    task: 'classification',
    label: 'label',
    window: 2,
    horizon: 0,
    split: { train: 0.5, validation: 0.25 },
  };

  it('maps labels to sorted training classes and allows horizon 0', () => {
    const ds = buildDataset(table({ a: range(n, (i) => Math.sin(i)), label }), cls);
    expect(ds.classLabels).toEqual([0, 1, 2]);
    expect(ds.outputNorm).toEqual({ mean: [], std: [] });
    expect(ds.targetNames).toEqual(['label']);
    expect([...ds.train.endRows]).toEqual(range(19, (i) => i + 1)); // t = 1..19 (target row t itself)
    for (const split of [ds.train, ds.validation, ds.test]) {
      expect(split.y.length).toBe(split.n);
      for (let k = 0; k < split.n; k++) {
        const t = split.endRows[k]!;
        expect(split.rawTargets[k]).toBe(label[t]);
        expect(ds.classLabels[split.y[k]!]).toBe(label[t]);
      }
    }
  });

  it('uses class values as given (not 0..k-1)', () => {
    const l = label.map((v) => [-5, 10, 3][v]!);
    const ds = buildDataset(table({ a: range(n, (i) => Math.sin(i)), label: l }), cls);
    expect(ds.classLabels).toEqual([-5, 3, 10]);
  });

  it('rejects a label unseen in training, naming it', () => {
    const l = [...label];
    l[37] = 9;
    const msg = userError(() => buildDataset(table({ a: range(n, (i) => Math.sin(i)), label: l }), cls));
    expect(msg).toContain('label 9');
    expect(msg).toContain('test windows');
    expect(msg).toContain('mem.csv:39'); // row 37 is on line 39
  });

  it('rejects non-integer labels', () => {
    const l = [...label];
    l[3] = 0.5;
    expect(userError(() => buildDataset(table({ a: range(n, (i) => Math.sin(i)), label: l }), cls))).toContain('0.5 is not an integer');
  });

  it('needs a label column and two classes', () => {
    expect(userError(() => buildDataset(tiny, { ...cls, label: undefined }))).toContain('needs a label column');
    expect(userError(() => buildDataset(table({ a: range(n, (i) => Math.sin(i)), label: range(n, () => 1) }), cls))).toContain(
      'only one class',
    );
  });
});

describe('buildDataset: many-to-many (a target for every row of the window)', () => {
  it('regression: y holds target[r + H] for each row r of each window, level and change', () => {
    const level = buildDataset(tiny, { ...tinySpec, sequence: 'many-to-many' });
    const one = buildDataset(tiny, tinySpec);
    expect(level.sequence).toBe('many-to-many');
    expect(level.train.n).toBe(one.train.n);
    expect(level.train.y.length).toBe(level.train.n * 3);
    for (let k = 0; k < level.train.n; k++) {
      for (let s = 0; s < 3; s++) {
        const r = Math.round(rawX(level, level.train, k, s, 0)); // a = row index (float32 round trip)
        expect(level.train.rawTargets[k * 3 + s]).toBe(10 * (r + 1)); // b of row r + 1
      }
      // The last row's target is the many-to-one target.
      expect(level.train.rawTargets[k * 3 + 2]).toBe(one.train.rawTargets[k]);
      expect(level.train.y[k * 3 + 2]).toBeCloseTo(one.train.y[k]!, 6);
    }
    const change = buildDataset(table({ a: range(20), b: range(20, (i) => i * i) }), {
      ...tinySpec,
      features: ['a', 'b'],
      targetMode: 'change',
      sequence: 'many-to-many',
    });
    for (let k = 0; k < change.train.n; k++) {
      for (let s = 0; s < 3; s++) {
        const r = Math.round(rawX(change, change.train, k, s, 0));
        const y = change.train.y[k * 3 + s]! * change.outputNorm.std[0]! + change.outputNorm.mean[0]!;
        expect(y).toBeCloseTo((r + 1) * (r + 1) - r * r, 4);
      }
    }
  });

  it('classification: a label for every row; a class seen only inside a test window is still refused', () => {
    const labels = range(20, (i) => (i % 4 === 0 ? 1 : 0));
    const ds = buildDataset(table({ a: range(20), flag: labels }), {
      features: ['a'],
      task: 'classification',
      label: 'flag',
      window: 3,
      horizon: 0,
      split: { train: 0.5, validation: 0.25 },
      sequence: 'many-to-many',
    });
    for (let k = 0; k < ds.test.n; k++) {
      for (let s = 0; s < 3; s++) expect(ds.test.rawTargets[k * 3 + s]).toBe(labels[Math.round(rawX(ds, ds.test, k, s, 0))]);
    }
    const unseen = range(20, (i) => (i === 17 ? 2 : i % 4 === 0 ? 1 : 0));
    expect(
      userError(() =>
        buildDataset(table({ a: range(20), flag: unseen }), {
          features: ['a'],
          task: 'classification',
          label: 'flag',
          window: 3,
          horizon: 0,
          split: { train: 0.5, validation: 0.25 },
          sequence: 'many-to-many',
        }),
      ),
    ).toMatch(/label 2 \(column 'flag'\) appears in the test windows but never in the training windows/);
  });
});
