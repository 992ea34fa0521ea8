/**
 * Weights in RAM past 64 KiB on Espruino: a matrix whose row views would start
 * past byte 65,535 of its buffer is decoded in parts of whole rows
 * (codegen/row-parts.ts). vm+E refuses such a view as every Espruino build
 * does, so these run where no Espruino is installed; on a real build
 * (ESPRUINO_BIN) the same programs run too.
 */
import { describe, expect, it } from 'vitest';
import { emitModule, type EmitOptions } from '../../codegen/emit-module.ts';
import { rowsPerPart, rowView, type RowMatrix } from '../../codegen/row-parts.ts';
import { modelDataCrc32 } from '../../codegen/checksum.ts';
import { availableEngines, driverSource, engineByName, parseTrace } from '../../parity/engines.ts';
import { firstMismatch, simulateTrace } from '../../parity/trace.ts';
import { randomQuantizedModel, randomSegments, type RandomModelSpec } from '../../parity/random-model.ts';

const engines = availableEngines().engines.filter((e) => e.name === 'vm+E' || e.name === 'espruino');
const options: EmitOptions = { target: 'espruino', globalName: 'm', modelSha256: 'c'.repeat(64), generatorVersion: 'test' };

describe('rows per part', () => {
  it('is the most rows whose last view starts within byte 65535', () => {
    const m: RowMatrix = { name: 'W', rows: 400, width: 196, innerStart: 0 };
    const perPart = rowsPerPart(m)!;
    expect((perPart - 1) * m.width).toBeLessThanOrEqual(65535);
    expect(perPart * m.width).toBeGreaterThan(65535);
    const reset: RowMatrix = { ...m, innerStart: 100 };
    const resetPerPart = rowsPerPart(reset)!;
    expect((resetPerPart - 1) * m.width + 100).toBeLessThanOrEqual(65535);
    expect(resetPerPart * m.width + 100).toBeGreaterThan(65535);
  });

  it('is none when one buffer holds every view', () => {
    expect(rowsPerPart({ name: 'W', rows: 335, width: 196, innerStart: 0 })).toBeUndefined();
    expect(rowView({ name: 'W', rows: 2, width: 3, innerStart: 0 }, undefined, 'r', '0', 3)).toBe('new Int8Array(W.buffer, r * 3, 3)');
  });
});

describe('vm+E as Espruino', () => {
  it('refuses a view past byte 65535, as every Espruino build does', async () => {
    const lines = await engineByName('vm+E')!.run(
      'try { new Int8Array(new ArrayBuffer(70000), 65536, 4); print("VIEWED"); } catch (e) { print("ERROR " + e.message); }\n' +
        'print(new Int8Array(new ArrayBuffer(70000), 65535, 4).length);',
    );
    expect(lines).toEqual(['ERROR Int8Array: byteOffset too large', '4']);
  });
});

const MODELS: { name: string; spec: RandomModelSpec; parts: string[] }[] = [
  { name: 'lstm 100x96 (75 KB of gate weights)', spec: { seed: 21, inputSize: 100, units: 96 }, parts: ['W_P0', 'W_P1'] },
  {
    name: 'gru-reset-after 100x120 (its h views start 100 bytes into a row)',
    spec: { seed: 22, inputSize: 100, units: 120, cell: 'gru-reset-after' },
    parts: ['W_P0', 'W_P1'],
  },
  {
    name: 'rnn 4x8 -> lstm 8x130 (the upper layer parted)',
    spec: { seed: 23, inputSize: 4, units: 8, stacked: [{ cell: 'lstm', units: 130 }] },
    parts: ['W_1_P0', 'W_1_P1'],
  },
];

describe.each(MODELS)('weights in RAM over 64 KiB: $name', ({ spec, parts }) => {
  const q = randomQuantizedModel(spec);
  const code = emitModule(q, options);

  it('decodes the matrix in parts and leaves small ones whole', () => {
    for (const part of parts) expect(code).toContain(`var ${part}_B64 = `);
    expect(code).not.toContain('D_P0');
    expect(emitModule(q, { ...options, target: 'es5' })).not.toContain('_P0');
  });

  it('loads and matches the simulator bit for bit, with the checksum of the one array', async () => {
    const segments = randomSegments(spec.seed, spec.inputSize, [3, 2], 0.1);
    const expected = simulateTrace(q, segments);
    for (const engine of engines) {
      const lines = await engine.run(code + driverSource('m', spec.inputSize, segments) + '\nprint("CRC " + m.checksum());');
      expect(firstMismatch(expected, parseTrace(lines, engine.name), q), engine.name).toBeUndefined();
      expect(lines, engine.name).toContain(`CRC ${modelDataCrc32(q, options)}`);
    }
  }, 300_000);
});
