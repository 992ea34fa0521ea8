/**
 * The JerryScript host of firmware/jerryscript/ built for this computer: run_script.c with the native
 * step (lstm_native.c and the kernel native/lstm-step.c, its plain-C path), by
 * scripts/build-jerry-host.sh against JerryScript 3.0 (JERRYSCRIPT_DIR, else
 * ../shared/engines/jerryscript-3.0 beside the repository). One build gives two engines: the host with
 * lstmNativeStep, and the same host without it (--js-only), where the es5 module takes its JavaScript step.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, onPath } from '../native/toolchain.ts';
import { runFile, type NativeEngine } from './native-engines.ts';

/** The JerryScript 3.0 headers and libraries the host is built against. */
export const jerryScriptDir = (): string => process.env.JERRYSCRIPT_DIR ?? path.resolve(ROOT, '..', 'shared', 'engines', 'jerryscript-3.0');

/** Why the host cannot be built here, as one line ('' when it can). */
export function jerryHostMissing(): string {
  const dir = jerryScriptDir();
  if (!fs.existsSync(path.join(dir, 'include', 'jerryscript.h')) || !fs.existsSync(path.join(dir, 'lib', 'libjerry-core.a')))
    return `no JerryScript 3.0 headers and libraries in ${dir} (set JERRYSCRIPT_DIR)`;
  const cc = process.env.CC ?? 'cc';
  return onPath(cc) ? '' : `C compiler ${cc} not found (set CC)`;
}

export interface JerryHost {
  /** The built program: `run_script [--js-only] program.js`. */
  binary: string;
  /** The host with lstmNativeStep. */
  native: NativeEngine;
  /** The same host without it. */
  js: NativeEngine;
}

/** Builds the host into a folder of its own (seconds: JerryScript's libraries are LTO objects, linked here). */
export function buildJerryHost(): JerryHost {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-jerry-host-'));
  const binary = path.join(dir, 'run_script');
  execFileSync(path.join(ROOT, 'scripts', 'build-jerry-host.sh'), [binary], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, JERRYSCRIPT_DIR: jerryScriptDir() },
  });
  return {
    binary,
    native: { name: 'jerry-host', run: (program) => runFile('jerry-host', binary, [], [], program) },
    js: { name: 'jerry-host --js-only', run: (program) => runFile('jerry-host --js-only', binary, ['--js-only'], [], program) },
  };
}

/** The board app host firmware/jerryscript/lstm_app.c (its demo main: `lstm_app bundle.js < readings`), built both ways. */
export interface JerryApp {
  /** The folder both are built in. */
  dir: string;
  /** Built with LSTM_APP_NATIVE: registers lstmNativeStep before it evaluates the bundle. */
  native: string;
  /** The same app without the kernel. */
  js: string;
}

/** Builds lstm_app with and without the kernel (one call of scripts/build-jerry-host.sh --app; the two links run side by side). */
export function buildJerryApp(): JerryApp {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-jerry-app-'));
  execFileSync(path.join(ROOT, 'scripts', 'build-jerry-host.sh'), ['--app', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, JERRYSCRIPT_DIR: jerryScriptDir() },
  });
  return { dir, native: path.join(dir, 'lstm_app-native'), js: path.join(dir, 'lstm_app-js') };
}
