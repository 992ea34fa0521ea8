/**
 * The generated `espruino` module on the ARM Espruino builds that run the
 * native kernel through E.nativeCall (../shared/engines/, read through env vars):
 * - `espruino-armhf` (ESPRUINO_ARMHF_BIN): Espruino for 32-bit ARM Linux under
 *   `qemu-arm -L /usr/arm-linux-gnueabihf`; board LINUXARM. It may segfault while
 *   exiting, after the program ran: a run counts when the driver printed END.
 * - `stm32f405` (STM32F405_DIR): Espruino's firmware for an STM32F405 under
 *   qemu-system-arm, the program in its Storage as boot code (parity/stm32f405.ts).
 *
 * Choosing the board (test only): the program first defines a global `process`
 * whose env.BOARD names the board, which the module reads instead of Espruino's
 * own process.env. On espruino-armhf (LINUXARM, where the module would take the
 * JavaScript step) it names a Cortex-M4 board to force the native path, or
 * LINUXARM to keep the JavaScript step. On the STM32F405 firmware it is the
 * firmware's own name, STM32F405RG: reading process.env there hangs the emulated
 * firmware (QEMU's netduinoplus2 does not answer every register it reads).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { driverSource, parseTrace } from './engines.ts';
import { firstMismatch, describeMismatch, simulateTrace, type Segments, type TraceStep } from './trace.ts';
import type { QuantizedModel } from '../core/model.ts';
import { firmwareElf, runStm32f405, type StorageFile } from './stm32f405.ts';

/** One run may take this long. */
const RUN_LIMIT_S = 300;

export interface NativeEngine {
  name: string;
  /** Runs `program` (which prints END when done) and resolves to what it printed, line by line. */
  run(program: string, files?: readonly StorageFile[]): Promise<string[]>;
}

const onPath = (tool: string): boolean =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, tool)));

/** Runs `command args... program.js` in a directory of its own; a run that printed END counts whatever its exit (parity/jerry-host.ts too). */
export function runFile(
  name: string,
  command: string,
  before: string[],
  after: string[],
  program: string,
  env?: NodeJS.ProcessEnv,
): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-native-engine-'));
  const file = path.join(dir, 'program.js');
  fs.writeFileSync(file, program);
  return new Promise<string[]>((resolve, reject) => {
    const child = execFile(
      command,
      [...before, file, ...after],
      { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28, timeout: RUN_LIMIT_S * 1000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        fs.rmSync(dir, { recursive: true, force: true });
        const lines = stdout.split(/\r?\n/);
        if (lines.some((l) => l.trim() === 'END')) resolve(lines);
        else
          reject(
            new Error(
              `${name}: the program did not reach END (${error?.message.split('\n')[0] ?? 'exit 0'}): ${(stdout.slice(0, 300) + ' … ' + (stderr || stdout).slice(-300)).trim()}`,
            ),
          );
      },
    );
    child.stdin?.end();
  });
}

/** Espruino for ARM Linux under qemu-arm, or why it cannot run here. */
export function armhfEngine(): NativeEngine | string {
  const bin = process.env.ESPRUINO_ARMHF_BIN;
  if (!bin || !fs.existsSync(bin)) return 'ESPRUINO_ARMHF_BIN is not set to ../shared/engines/espruino-armhf';
  if (!onPath('qemu-arm') || !fs.existsSync('/usr/arm-linux-gnueabihf'))
    return 'qemu-arm or /usr/arm-linux-gnueabihf not found (Debian: qemu-user, libc6-armhf-cross)';
  return {
    name: 'espruino-armhf',
    run: (program) => runFile('espruino-armhf', 'qemu-arm', ['-L', '/usr/arm-linux-gnueabihf', bin], [], program),
  };
}

/** Espruino's STM32F405 firmware under qemu-system-arm, or why it cannot run here. */
export function stm32f405Engine(): NativeEngine | string {
  const dir = process.env.STM32F405_DIR;
  const elf = dir ? firmwareElf(dir) : undefined;
  if (!elf) return 'STM32F405_DIR is not set to ../shared/engines/stm32f405';
  if (!onPath('qemu-system-arm')) return 'qemu-system-arm not found (Debian: qemu-system-arm)';
  return {
    name: 'stm32f405',
    // the driver prints END before the program's last lines: a line of its own ends the run
    run: async (program, files) =>
      (await runStm32f405(elf, `${program}\nprint("<<done>>");\n`, { doneLine: '<<done>>', timeoutS: RUN_LIMIT_S, files })).lines,
  };
}

/** The program: the board's name (when given), the module, the driver over `segments`, then `NATIVE <info.native>`. */
export function nativeProgram(code: string, globalName: string, q: QuantizedModel, segments: Segments, board?: string): string {
  const boardLine = board === undefined ? '' : `var process = { env: { BOARD: ${JSON.stringify(board)} } };\n`;
  const say = '(typeof print === "function" ? print : console.log)';
  return `${boardLine}${code}${driverSource(globalName, q.layers[0].inputSize, segments)}${say}("NATIVE " + ${globalName}.info.native);\n`;
}

export interface NativeModuleRun {
  /** info.native as the module reported it on the engine. */
  path: string;
  trace: TraceStep[];
  /** The first difference from the simulator, as one line (undefined: none). */
  mismatch?: string;
}

/** Runs the module on `engine` as `board` over `segments`, against the simulator at every step. */
export async function runNativeModule(
  engine: { name: string; run(program: string): Promise<string[]> },
  q: QuantizedModel,
  code: string,
  globalName: string,
  segments: Segments,
  board?: string,
): Promise<NativeModuleRun> {
  const lines = await engine.run(nativeProgram(code, globalName, q, segments, board));
  const label = `${engine.name}${board ? ` as ${board}` : ''}`;
  const trace = parseTrace(lines, label);
  const found = lines.find((l) => l.startsWith('NATIVE '));
  const m = firstMismatch(simulateTrace(q, segments), trace, q);
  return {
    path: found ? found.slice('NATIVE '.length).trim() : '(no info.native printed)',
    trace,
    mismatch: m && describeMismatch(label, m),
  };
}
