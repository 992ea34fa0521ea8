/**
 * step(x) on real readings, bit for bit, on every engine: ordinary readings,
 * readings exactly on int8 rounding boundaries, huge ones, NaN, undefined and
 * ±Infinity (NaN / undefined count as the mean, ±Infinity saturates; in
 * target mode "change" a non-finite reading of the target gives NaN).
 */
import { describe, expect, it } from 'vitest';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { readingEngines } from '../helpers/reading-engines.ts';
import { inputAffine } from '../../core/fixed-point.ts';
import {
  parseReadingTrace,
  readingDriverSource,
  simulateReadings,
  type Reading,
  type ReadingSegments,
} from '../../parity/reading-driver.ts';
import { mulberry32, randomQuantizedModel } from '../../parity/random-model.ts';
import type { QuantizedModel } from '../../core/model.ts';

function readings(q: QuantizedModel, seed: number): ReadingSegments {
  const rnd = mulberry32(seed);
  const n = q.featureNames.length;
  const special: Reading[] = [NaN, undefined, Infinity, -Infinity, 1e300, -1e300, 0];
  const step = (): Reading[] =>
    Array.from({ length: n }, (_, i) => {
      const r = rnd();
      const { gain, offset } = inputAffine(q.inputNorm.mean[i], q.inputNorm.std[i], q.inputScales[i]);
      if (r < 0.15) return special[Math.floor(rnd() * special.length)];
      // A reading whose x*gain + offset lands on a half: the rounding boundary of §3.
      if (r < 0.35) return (Math.floor(rnd() * 200) - 100 + 0.5 - offset) / gain;
      return q.inputNorm.mean[i] + (rnd() * 2 - 1) * 3 * q.inputNorm.std[i];
    });
  return [Array.from({ length: 25 }, step), Array.from({ length: 10 }, step)];
}

describe.each([{ mode: 'level' as const }, { mode: 'change' as const }])('step(x) on readings, target mode $mode', ({ mode }) => {
  const base = randomQuantizedModel({ seed: 31, inputSize: 3, units: 6, outputSize: 2 });
  const q: QuantizedModel = mode === 'change' ? { ...base, targetMode: 'change', baseFeatures: [2, 0] } : base;
  const segments = readings(q, 77);
  const expected = simulateReadings(q, segments);

  it('the simulator gives NaN only where the contract says', () => {
    const flat = segments.flat();
    expected.forEach((s, k) => {
      s.y.forEach((y, o) => {
        const baseReading = flat[k][q.baseFeatures[o]];
        const finiteBase = typeof baseReading === 'number' && Number.isFinite(baseReading);
        expect(y === 'nan', `step ${k} output ${o}`).toBe(mode === 'change' && !finiteBase);
      });
    });
  });

  for (const target of TARGETS) {
    it(`${target} code matches the simulator bit for bit on every engine`, async () => {
      const code = emitModule(q, { target, globalName: 'lstmModel', modelSha256: '', generatorVersion: 'test' });
      for (const engine of readingEngines(target)) {
        const actual = parseReadingTrace(await engine.run(code + readingDriverSource('lstmModel', segments)), engine.name);
        expect(actual, `${target} on ${engine.name}`).toEqual(expected);
      }
    });
  }
});
