/**
 * The done-when for a Puck.js: `lstm-mcu demo` (a few epochs), then the Espruino bundle
 * `lstm-mcu flash` uploads (`lstm-mcu bundle`, the same buildBundle), with the default --native.
 * The bundle's model takes the native path (m4) and every output, h, c and gate equals the
 * simulator at every step; the app's verify() is the host's checksum and self-test:
 * - on espruino-armhf under qemu-arm, named PUCKJS (as a Puck.js's firmware names itself);
 * - on Espruino's STM32F405 firmware (a Cortex-M4 as the Puck.js's nRF52832), its own name choosing
 *   m4 (the bundle booted from its Storage: parity/stm32f405.ts).
 * The selection logic for PUCKJS itself (board -> kernel) is read in module.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readQuantizedModel } from '../../core/artifact.ts';
import { stoppedOnLoad } from '../../firmware/watch-screen.ts';
import { armhfEngine, runNativeModule, stm32f405Engine, type NativeEngine } from '../../parity/native-engines.ts';
import type { StorageFile } from '../../parity/stm32f405.ts';
import { randomSegments } from '../../parity/random-model.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { runCli } from '../helpers/run-cli.ts';

const armhf = armhfEngine();
const stm32 = stm32f405Engine();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-demo-puck-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The demo's model and the bundle built from it, made once; and the bundle with its weights in flash. */
let made: { q: QuantizedModel; code: string; verify: string } | undefined;
let madeFlash: { code: string; verify: string; files: StorageFile[] } | undefined;

describe.skipIf(typeof armhf === 'string' && typeof stm32 === 'string')('demo, then the bundle flash uploads, on a Cortex-M4', () => {
  beforeAll(async () => {
    const out = path.join(tmp, 'demo');
    const demo = await runCli(['demo', '--epochs', '2', '--out', out, '--json', '--quiet'], tmp);
    expect(demo.code, demo.stderr).toBe(0);
    const reader = path.join(tmp, 'reader.js');
    fs.writeFileSync(reader, 'function readSensor(out) { out[0] = 60; out[1] = 21; }\n');
    const app = path.join(tmp, 'app.js');
    const model = path.join(out, 'model.q.pb');
    const bundle = await runCli(['bundle', '--model', model, '--source', 'function', '--reader', reader, '--out', app, '--json'], tmp);
    expect(bundle.code, bundle.stderr).toBe(0);
    const verify = /verify\(\) on the device must return: (\d+ [\d,-]+)/.exec(bundle.stdout)![1]!;
    made = { q: readQuantizedModel(model).model, code: fs.readFileSync(app, 'utf8'), verify };
    // The same bundle with its weights in flash: the app, and the Storage file flash writes before it.
    const flashApp = path.join(tmp, 'flash', 'app.js');
    const flash = await runCli(
      ['bundle', '--model', model, '--source', 'function', '--reader', reader, '--weights', 'flash', '--out', flashApp, '--json'],
      tmp,
    );
    expect(flash.code, flash.stderr).toBe(0);
    const { flashFile } = flash.lastJson() as { flashFile: string };
    madeFlash = {
      code: fs.readFileSync(flashApp, 'utf8'),
      verify: /verify\(\) on the device must return: (\d+ [\d,-]+)/.exec(flash.stdout)![1]!,
      files: [{ name: flashFile, bytes: fs.readFileSync(path.join(tmp, 'flash', flashFile)) }],
    };
  }, 900_000);

  /** The bundle stopped after it loads, its model driven over random segments as `board`; then verify(). */
  async function runBundle(engine: NativeEngine, board: string, bundle: { code: string; verify: string } = made!) {
    const { q } = made!;
    const { code, verify } = bundle;
    const program = `${stoppedOnLoad(code, 'lstmApp')}var nativeModel = lstmApp.model;\nprint("VERIFY " + lstmApp.verify());\n`;
    const segments = randomSegments(71, q.layers[0].inputSize, [14, 6], 0.2);
    const run = await runNativeModule(engine, q, program, 'nativeModel', segments, board);
    expect(run.path, `${engine.name} as ${board}`).toBe('m4');
    expect(run.mismatch, run.mismatch).toBeUndefined();
    expect(run.trace.length).toBe(20);
    const printed = (await engine.run(`var process = { env: { BOARD: "${board}" } };\n${program}print("END");\n`)).join('\n');
    expect(/VERIFY (.*)/.exec(printed)?.[1]?.trim()).toBe(verify);
  }

  it.skipIf(typeof armhf === 'string')(
    'espruino-armhf as PUCKJS: m4, every step exact, verify() as the host says',
    async () => {
      await runBundle(armhf as NativeEngine, 'PUCKJS');
    },
    300_000,
  );

  it.skipIf(typeof stm32 === 'string')(
    'the STM32F405 firmware: its own name chooses m4, every step exact',
    async () => {
      await runBundle(stm32 as NativeEngine, 'STM32F405RG');
    },
    600_000,
  );

  it.skipIf(typeof stm32 === 'string')(
    'the STM32F405 firmware, weights in flash: the weights file in its Storage, m4 reads it in place, every step exact',
    async () => {
      const engine = stm32 as NativeEngine;
      const withFile: NativeEngine = { name: engine.name, run: (program) => engine.run(program, madeFlash!.files) };
      await runBundle(withFile, 'STM32F405RG', madeFlash!);
    },
    600_000,
  );
});
