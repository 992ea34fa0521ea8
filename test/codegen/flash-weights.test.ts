/**
 * Weights in flash (`codegen --weights flash`, espruino target): the Storage
 * file's layout and checksum, the writer program, the module's refusal of a
 * missing or foreign file, parity with the simulator (vm with the Espruino
 * natives and Storage emulated; a real Espruino build when ESPRUINO_BIN is
 * set), and on Espruino the RAM a loaded 3x32 LSTM takes (at most 300 blocks; the native step held adds at most its text)
 * with zero growth per step. (The Linux build keeps its flash in a file and
 * reads it through the file for every access, ~0.2 s per 3x32 step, so the
 * growth check runs 200 steps there; a board maps its flash into memory.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emitModule, flashWeights, type EmitOptions } from '../../codegen/emit-module.ts';
import { flashLayout } from '../../codegen/flash-weights.ts';
import { crc32 } from '../../core/crc32.ts';
import { availableEngines, driverSource, engineByName, parseTrace } from '../../parity/engines.ts';
import { firstMismatch, simulateTrace } from '../../parity/trace.ts';
import { estimateRam, stringCharsPerBlock } from '../../codegen/ram-estimate.ts';
import { randomQuantizedModel, randomSegments, type RandomModelSpec } from '../../parity/random-model.ts';
import { writeArtifact, encodeQuantizedModel } from '../../core/artifact.ts';
import { runCli } from '../helpers/run-cli.ts';

const engines = availableEngines().engines.filter((e) => e.name === 'vm+E' || e.name === 'espruino');
const ESPRUINO = process.env.ESPRUINO_BIN;
if (!ESPRUINO) console.log('flash-weights: the real-Espruino checks are skipped, ESPRUINO_BIN is not set to a Linux Espruino build');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-flash-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const options = (file = 'm.bin'): EmitOptions => ({
  target: 'espruino',
  globalName: 'm',
  modelSha256: 'c'.repeat(64),
  generatorVersion: 'test',
  flash: { file, writer: 'm.weights.js' },
});

describe('the Storage file', () => {
  it('CRC-32 is the IEEE / zlib one (E.CRC32 on the board)', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('abc'))).toBe(891568578);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('lays the arrays out in order, each at a multiple of 8 bytes, little-endian', () => {
    const layout = flashLayout([
      { name: 'A', values: Int8Array.from([1, -2, 3]) },
      { name: 'B', values: Int32Array.from([-5, 70000]) },
      { name: 'C', values: Float64Array.from([0.5]) },
    ]);
    expect(layout.entries.map((e) => [e.name, e.type, e.offset, e.length])).toEqual([
      ['A', 'Int8Array', 0, 3],
      ['B', 'Int32Array', 8, 2],
      ['C', 'Float64Array', 16, 1],
    ]);
    expect(layout.bytes.length).toBe(24);
    expect(Array.from(layout.bytes.subarray(0, 8))).toEqual([1, 254, 3, 0, 0, 0, 0, 0]);
    expect(new Int32Array(layout.bytes.buffer, 8, 2)).toEqual(Int32Array.from([-5, 70000]));
    expect(new Float64Array(layout.bytes.buffer, 16, 1)[0]).toBe(0.5);
    expect(layout.crc32).toBe(crc32(layout.bytes));
  });

  it('the generated module and writer match their snapshots', async () => {
    const q = randomQuantizedModel({ seed: 2, inputSize: 2, units: 3, cell: 'gru-reset-after' });
    await expect(emitModule(q, options())).toMatchFileSnapshot('../__snapshots__/flash-gru-reset-after-2x3.espruino.js');
    await expect(flashWeights(q, options()).writer).toMatchFileSnapshot('../__snapshots__/flash-gru-reset-after-2x3.weights.js');
  });

  it('is refused for another target', () => {
    const q = randomQuantizedModel({ seed: 1, inputSize: 2, units: 3 });
    expect(() => emitModule(q, { ...options(), target: 'es5' })).toThrow(/espruino target/);
  });
});

const MODELS: { name: string; spec: RandomModelSpec }[] = [
  { name: 'lstm 3x32', spec: { seed: 3, inputSize: 3, units: 32 } },
  { name: 'peephole', spec: { seed: 4, inputSize: 2, units: 5, cell: 'peephole' } },
  {
    name: 'gru-reset-after -> rnn',
    spec: { seed: 5, inputSize: 3, units: 6, outputSize: 2, cell: 'gru-reset-after', stacked: [{ cell: 'rnn', units: 4 }] },
  },
  { name: 'bidirectional gru (window)', spec: { seed: 6, inputSize: 2, units: 4, window: 5, cell: 'gru', bidirectional: 'sum' } },
  {
    name: 'reverse lstm -> rnn (window)',
    spec: { seed: 8, inputSize: 2, units: 4, window: 5, cell: 'lstm', reverse: true, stacked: [{ cell: 'rnn', units: 3 }] },
  },
  { name: 'embedding -> cifg', spec: { seed: 7, inputSize: 4, units: 5, cell: 'cifg', vocabulary: 30 } },
];

describe.each(MODELS)('weights in flash: $name', ({ spec }) => {
  const q = randomQuantizedModel(spec);
  const code = emitModule(q, options());
  const { writer, bytes } = flashWeights(q, options());
  const segments = randomSegments(spec.seed, spec.inputSize, [25, 9], 0.1);
  const expected = simulateTrace(q, segments);

  it('holds no weight data in the module: no base64, no portable loops', () => {
    // the native context and kernels are in the file too: no base64 at all (atob) in the module
    expect(code).not.toMatch(/_B64|function buf|atob|NATIVE_CONTEXT =/);
    expect(code).toContain('WF = S.read("m.bin")');
    expect(bytes.length).toBeGreaterThan(q.layers[0].weightsQ.length);
  });

  it('after the writer program, matches the simulator bit for bit (vm with Espruino natives, and Espruino when set)', async () => {
    for (const engine of engines) {
      const lines = await engine.run(writer + code + driverSource('m', spec.inputSize, segments));
      expect(
        lines.some((l) => l.includes(`wrote m.bin (${bytes.length} bytes)`)),
        engine.name,
      ).toBe(true);
      const mismatch = firstMismatch(expected, parseTrace(lines, engine.name), q);
      expect(mismatch, `${engine.name}: ${JSON.stringify(mismatch)}`).toBeUndefined();
    }
  });

  it('reads info from the file when asked for', async () => {
    const lines = await engines[0]!.run(
      'var exports = {};\n' +
        writer +
        code +
        'print(JSON.stringify([m.info.units, exports.info.layers.length, Object.keys(exports).indexOf("info") >= 0])); print("END");',
    );
    expect(lines).toContain(JSON.stringify([q.layers[q.layers.length - 1]!.units, q.layers.length, true]));
  });
});

describe('a Storage file over 64 KiB (Espruino views stop at byteOffset 65535)', () => {
  it('views the far arrays over their own parts of the file, and still matches the simulator', async () => {
    const q = randomQuantizedModel({ seed: 11, inputSize: 3, units: 128 });
    const code = emitModule(q, options());
    const { writer, bytes } = flashWeights(q, options());
    expect(bytes.length).toBeGreaterThan(65535);
    expect(code).toContain('function part(offset, bytes)');
    const segments = randomSegments(11, 3, [4, 2], 0.1);
    const expected = simulateTrace(q, segments);
    for (const engine of engines) {
      const lines = await engine.run(writer + code + driverSource('m', 3, segments));
      expect(firstMismatch(expected, parseTrace(lines, engine.name), q), engine.name).toBeUndefined();
    }
  }, 600_000);
});

describe('a missing or foreign Storage file', () => {
  const q = randomQuantizedModel({ seed: 8, inputSize: 2, units: 4 });
  const other = randomQuantizedModel({ seed: 9, inputSize: 2, units: 4 });
  const code = emitModule(q, options());
  const run = async (pre: string) =>
    (await engines[0]!.run(`try { ${pre}\n${code}\nprint("LOADED"); } catch (e) { print("ERROR " + e.message); }\nprint("END");`)).join(
      '\n',
    );

  it('is refused at load with a message that says what to upload', async () => {
    expect(await run('')).toContain('ERROR lstm-mcu model: Storage file "m.bin" is missing: upload m.weights.js first');
    expect(await run(flashWeights(other, options()).writer)).toContain(
      `ERROR lstm-mcu model: Storage file "m.bin" does not hold this model's weights: upload m.weights.js again`,
    );
    expect(await run(flashWeights(q, options()).writer)).toContain('LOADED');
  });
});

describe.runIf(Boolean(ESPRUINO))('weights in flash on Espruino', () => {
  it('a loaded 3x32 LSTM takes at most 300 blocks (the native step adds no more than its text), and its steps allocate nothing', async () => {
    const q = randomQuantizedModel({ seed: 3, inputSize: 3, units: 32 });
    const run = async (native: 'off' | 'auto') => {
      const emit = { ...options(), native };
      const code = emitModule(q, emit);
      const program =
        flashWeights(q, emit).writer +
        'var u0 = process.memory().usage;\n' +
        code +
        `
var xq = new Int8Array([12, -100, 127]), i, before, growth = [];
for (i = 0; i < 10; i++) { m.stepQ(xq); m.step([i, 1.5, -2]); }
print("BLOCKS " + (process.memory().usage - u0) + " of " + process.memory().blocksize + " bytes");
// Growth over 50 and over 150 steps: reading usage itself costs a constant couple of blocks, so the steps allocate nothing when both agree.
[50, 150].forEach(function (n) {
  before = process.memory().usage;
  for (i = 0; i < n; i++) { xq[0] = (i * 37) % 255 - 127; m.stepQ(xq); m.step([i, 1.5, -2]); }
  growth.push(process.memory().usage - before);
});
print("GROWTH " + growth.join(" "));
print("END");
`;
      const out = (await engineByName('espruino')!.run(program)).join('\n');
      const [short, long] = /GROWTH (-?\d+) (-?\d+)/.exec(out)!.slice(1).map(Number);
      expect(long - short, out.slice(-300)).toBe(0);
      expect(short).toBeLessThanOrEqual(2);
      const blockSize = Number(/of (\d+) bytes/.exec(out)?.[1]);
      return { blocks: Number(/BLOCKS (\d+)/.exec(out)?.[1]), chars: code.length, blockSize };
    };
    const off = await run('off');
    const auto = await run('auto');
    console.log(
      `flash-weights: a loaded 3x32 LSTM with weights in flash takes ${off.blocks} blocks on Espruino (${off.blockSize}-byte blocks), code included; ` +
        `${auto.blocks} with the native step held (the JavaScript step runs on this build)`,
    );
    expect(off.blocks).toBeLessThanOrEqual(300);
    // The Linux build runs the module's text from RAM: the native step's code costs at most its characters.
    expect(auto.blocks - off.blocks).toBeLessThanOrEqual(Math.ceil((auto.chars - off.chars) / stringCharsPerBlock(auto.blockSize)));
    expect(estimateRam(q, { weights: 'flash' }).blocks).toBeLessThan(estimateRam(q).blocks / 3);
  }, 300_000);
});

describe('lstm-mcu codegen --weights flash', () => {
  it('writes the module, the writer program and the file; refuses what cannot work with one line', async () => {
    const q = randomQuantizedModel({ seed: 10, inputSize: 2, units: 4 });
    const model = path.join(tmp, 'm.q.pb');
    writeArtifact(model, encodeQuantizedModel(q));
    const out = path.join(tmp, 'gen');
    const r = await runCli(['codegen', model, '--weights', 'flash', '--out-dir', out, '--name', 'sensor', '--json'], tmp);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['sensor.espruino.js', 'sensor.weights.js', 'sensor.bin', 'sensor.es5.js'])
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(fs.readFileSync(path.join(out, 'sensor.espruino.js'), 'utf8')).toContain('WF = S.read("sensor.bin")');
    // The es5 target keeps its weights in RAM.
    expect(fs.readFileSync(path.join(out, 'sensor.es5.js'), 'utf8')).toContain('_B64');
    expect(r.stdout).toContain('writes Storage file "sensor.bin"');
    for (const [args, message] of [
      [['--weights', 'flash', '--target', 'es5'], /--weights flash is for the espruino target/],
      [['--weights', 'flash', '--flash-file', 'a-name-far-too-long-for-storage.bin'], /at most 28 characters/],
      [['--flash-file', 'x.bin'], /--flash-file goes with --weights flash/],
    ] as const) {
      const bad = await runCli(['codegen', model, '--out-dir', path.join(tmp, 'bad'), ...args], tmp);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(message);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(fs.existsSync(path.join(tmp, 'bad'))).toBe(false);
    }
  }, 120_000);
});
