/**
 * One-to-many (NUMERICS.md §8a): forecast(n, out) on the device equals the
 * simulator's forecast bit for bit (outputs as number tokens), on every
 * engine (the watch's firmware too, for the espruino target), and leaves the
 * streaming state exactly as it was.
 */
import { describe, expect, it } from 'vitest';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { readingEngines } from '../helpers/reading-engines.ts';
import { DOUBLE_CODEC_ES5, encodeDouble } from '../../parity/reading-driver.ts';
import { Simulator } from '../../reference/simulator.ts';
import type { CellKind, QuantizedModel } from '../../core/model.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';

const hex = encodeDouble;

/** A one-to-many regression model whose targets y0, y1 are features x2, x0 (change mode for the first case). */
function model(targetMode: 'level' | 'change', stacked: boolean, cell: CellKind): QuantizedModel {
  const q = randomQuantizedModel({
    seed: 23,
    inputSize: 3,
    units: 6,
    outputSize: 2,
    cell,
    ...(stacked ? { stacked: [{ cell: 'gru' as const, units: 5 }] } : {}),
  });
  return {
    ...q,
    sequence: 'one-to-many',
    targetMode,
    targetNames: targetMode === 'level' ? ['x2', 'x0'] : ['x2', 'x0'],
    baseFeatures: targetMode === 'change' ? [2, 0] : [],
  };
}

const READINGS: (number | undefined)[][] = [
  [1, 2, 3],
  [0.5, -1, 2.5],
  [NaN, 4, undefined],
  [2, 2, 2],
];

// The clockwork case: its step counter is state too, restored after the forecast (the next step shows it).
describe.each([
  ['level', false, 'lstm'],
  ['change', true, 'lstm'],
  ['level', false, 'clockwork'],
] as const)('forecast, target mode %s, stacked %s, %s', (targetMode, stacked, cell) => {
  const q = model(targetMode, stacked, cell);
  const n = 7;

  /** What the simulator says: forecasts after each reading, then the next step's output (state restored?). */
  function expected(): string[] {
    const sim = new Simulator(q);
    const lines: string[] = [`F ${Array.from(sim.forecast(2), hex).join(',')}`]; // right after creation: readings unknown
    for (const x of READINGS) {
      const y = Array.from(sim.step(x as number[]));
      const f = Array.from(sim.forecast(n));
      // The first forecast is the output of the step just taken.
      expect(f.slice(0, 2).map(hex)).toEqual(y.map(hex));
      lines.push(`F ${f.map(hex).join(',')}`);
    }
    lines.push(`S ${Array.from(sim.step([3, 1, -1]), hex).join(',')} ${Array.from(sim.state.hQ7).join(',')}`);
    return lines;
  }

  it('equals the simulator bit for bit on every engine and restores the state', async () => {
    const want = expected();
    // And forecast() left no trace: a simulator that never forecast reaches the same next step.
    const plain = new Simulator(q);
    for (const x of READINGS) plain.step(x as number[]);
    expect(want[want.length - 1]).toBe(`S ${Array.from(plain.step([3, 1, -1]), hex).join(',')} ${Array.from(plain.state.hQ7).join(',')}`);
    // Forecasts feed the outputs back: they must differ from a plain repetition of the last output.
    expect(new Set(want[1]!.slice(2).split(',')).size).toBeGreaterThan(2);
    const driver = `
(function () {
  var out = typeof print === "function" ? print : function (s) { console.log(s); };
${DOUBLE_CODEC_ES5}
  var readings = [[1, 2, 3], [0.5, -1, 2.5], [NaN, 4, undefined], [2, 2, 2]], fc = new Float64Array(${n * 2}), t;
  out("F " + join(m.forecast(2, new Float64Array(4)), enc));
  for (t = 0; t < readings.length; t++) { m.step(readings[t]); out("F " + join(m.forecast(${n}, fc), enc)); }
  out("S " + join(m.step([3, 1, -1]), enc) + " " + join(m.state.h));
  out("END");
})();`;
    for (const target of TARGETS) {
      const code = emitModule(q, { target, globalName: 'm', modelSha256: '', generatorVersion: 'test' });
      expect(code).toContain('function forecast(n, out)');
      for (const engine of readingEngines(target)) {
        const lines = (await engine.run(code + driver)).map((l) => l.trim()).filter((l) => l.startsWith('F ') || l.startsWith('S '));
        expect(lines, `${target} on ${engine.name}`).toEqual(want);
      }
    }
  });
});
