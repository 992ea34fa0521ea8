/**
 * Golden vectors (test/golden/*.json, produced by test/golden/make-golden.ts):
 * the simulator and the generated code on every engine must reproduce the
 * stored traces exactly.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelFromJson, type GoldenFile } from '../golden/golden-io.ts';
import { simulateTrace } from '../../parity/trace.ts';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { availableEngines, driverSource, parseTrace } from '../../parity/engines.ts';
import { firstMismatch, describeMismatch } from '../../parity/trace.ts';

const dir = new URL('../golden/', import.meta.url);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

describe.each(files)('golden %s', (file) => {
  const golden = JSON.parse(fs.readFileSync(new URL(file, dir), 'utf8')) as GoldenFile;
  const q = modelFromJson(golden.model);
  const segments = golden.segments.map((s) => s.map((x) => Int8Array.from(x)));

  it('records how it was produced', () => {
    expect(golden.producedBy).toMatch(/make-golden\.ts/);
    expect(golden.trace.length).toBe(segments.reduce((s, x) => s + x.length, 0));
  });

  it('simulator reproduces the stored trace', () => {
    const m = firstMismatch(golden.trace, simulateTrace(q, segments), q);
    expect(m && describeMismatch('simulator', m)).toBeUndefined();
  });

  for (const target of TARGETS) {
    it(`${target} code reproduces it on every engine`, async () => {
      const code = emitModule(q, { target, globalName: 'lstmModel', modelSha256: '', generatorVersion: 'test' });
      for (const engine of availableEngines().engines) {
        const trace = parseTrace(await engine.run(code + driverSource('lstmModel', q.layers[0].inputSize, segments)), engine.name);
        const m = firstMismatch(golden.trace, trace, q);
        expect(m && describeMismatch(`${target} on ${engine.name}`, m)).toBeUndefined();
      }
    });
  }
});
