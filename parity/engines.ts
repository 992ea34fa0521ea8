/**
 * Run generated model code on a JavaScript engine and collect its trace.
 *
 * Every engine runs the same ES5 driver (below) after the model file: it
 * replays the input segments, calls reset() before each, and prints one line
 * per step with the integer outputs and state. Engines:
 * - `vm`: Node's vm module (always available);
 * - `vm+E`: Node's vm with a stand-in for Espruino's E.convolve / E.toArrayBuffer / atob,
 *   so the espruino target's native path runs on every machine;
 * - `duk`: Debian's Duktape (`duk` on PATH or DUK_BIN);
 * - `espruino`: a Linux build of Espruino at ESPRUINO_BIN;
 * - `jerry`: a JerryScript build at JERRY_BIN.
 */
import vm from 'node:vm';
import { FLOAT64_STANDIN_ES5 } from './watch-float64.ts';
import { UserError } from '../core/errors.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Segments, TraceStep } from './trace.ts';
import { crc32 } from '../core/crc32.ts';
import { failureDetail } from './engine-output.ts';

/** One engine run may take this long; past it the run is stopped and reported as stopped. */
export const ENGINE_TIME_LIMIT_S = 600;

/** Every engine this layer knows, whether or not it is available here. */
export const ENGINE_NAMES = ['vm', 'vm+E', 'duk', 'espruino', 'jerry', 'bangle2'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface Engine {
  name: EngineName;
  /**
   * Runs `source` (model + driver) and resolves to what it printed, line by line; `onLine` sees
   * each line as it is printed.
   */
  run(source: string, onLine?: (line: string) => void): Promise<string[]>;
}

function hex(segments: Segments): string[] {
  return segments.map((steps) =>
    steps.map((xq) => Array.from(xq, (v) => ((v + 128) & 255).toString(16).padStart(2, '0')).join('')).join(''),
  );
}

/** The ES5 driver: replays segments through the model defined by `globalName` and prints traces. */
export function driverSource(globalName: string, inputSize: number, segments: Segments): string {
  if (globalName === 'drivenModel') throw new Error('the driver uses the name drivenModel itself; pick another global name');
  return `
(function () {
  var drivenModel = ${globalName};
  var segs = ${JSON.stringify(hex(segments))};
  var out = typeof print === "function" ? print : function (s) { console.log(s); };
  var xq = new Int8Array(${inputSize});
  function join(a) { var s = "", i; for (i = 0; i < a.length; i++) s += (i ? "," : "") + a[i]; return s; }
  var s, t, i, hexs, n;
  for (s = 0; s < segs.length; s++) {
    drivenModel.reset();
    hexs = segs[s];
    n = hexs.length / ${2 * inputSize};
    for (t = 0; t < n; t++) {
      for (i = 0; i < ${inputSize}; i++) xq[i] = parseInt(hexs.substr((t * ${inputSize} + i) * 2, 2), 16) - 128;
      var y = drivenModel.stepQ(xq);
      out("T " + s + " " + t + " " + join(y) + " " + join(drivenModel.state.h) + " " + join(drivenModel.state.c) + " " + join(drivenModel.state.gates));
    }
  }
  out("END");
})();
`;
}

export function parseTrace(lines: string[], engine: string): TraceStep[] {
  const trace: TraceStep[] = [];
  let ended = false;
  const nums = (s: string) => (s === '' ? [] : s.split(',').map(Number));
  for (const line of lines) {
    if (line.startsWith('T ')) {
      const [, seg, t, y, h, c, g] = line.trim().split(' ');
      trace.push({ segment: Number(seg), t: Number(t), y: nums(y), h: nums(h), c: nums(c), gates: nums(g) });
    } else if (line.trim() === 'END') ended = true;
  }
  if (!ended) {
    const tail = lines.slice(-5).join(' | ');
    throw new Error(`${engine}: the driver did not finish (last output: ${tail || 'none'})`);
  }
  return trace;
}

/** A stand-in for the Espruino natives the generated code uses, with Espruino's semantics. */
export function fakeEspruinoGlobals() {
  const storage = storageStandIn();
  return {
    E: {
      // sum over i of a[i] * b[(i + offset) % b.length], accumulated in a double; an omitted offset is 0 (an int32 argument)
      convolve(a: ArrayLike<number>, b: ArrayLike<number>, offset?: number): number {
        let o = (offset ?? 0) % b.length;
        if (o < 0) o += b.length;
        let sum = 0;
        for (let i = 0; i < a.length; i++) sum += a[i] * b[(i + o) % b.length];
        return sum;
      },
      // x below min -> min, then above max -> max (as doubles)
      clip(x: number, min: number, max: number): number {
        let v = x;
        if (v < min) v = min;
        if (v > max) v = max;
        return v;
      },
      toArrayBuffer(str: string): ArrayBuffer {
        const bytes = new Uint8Array(str.length);
        for (let i = 0; i < str.length; i++) bytes[i] = str.charCodeAt(i);
        return bytes.buffer;
      },
      // CRC-32 of the string's bytes (IEEE, as zlib)
      CRC32: (str: string) => crc32(Buffer.from(str, 'latin1')),
    },
    atob: (s: string) => Buffer.from(s, 'base64').toString('latin1'),
    // require("Storage"): files in memory for one run, with Storage.write's offset / size semantics.
    require: (name: string) => {
      if (name !== 'Storage') throw new Error(`module ${name} not found`);
      return storage;
    },
  };
}

/** A stand-in for Espruino's Storage module: write(name, data, offset, size), read(name, offset, length), erase(name). */
function storageStandIn() {
  const files = new Map<string, Uint8Array>();
  return {
    write(name: string, data: string, offset = 0, size?: number): boolean {
      const bytes = Buffer.from(data, 'latin1');
      if (offset === 0) files.set(name, new Uint8Array(size ?? bytes.length));
      const file = files.get(name);
      if (!file || offset + bytes.length > file.length) throw new Error(`Storage.write: ${name} is not big enough`);
      file.set(bytes, offset);
      return true;
    },
    read(name: string, offset = 0, length?: number): string | undefined {
      const file = files.get(name);
      return file ? Buffer.from(file.subarray(offset, length === undefined ? undefined : offset + length)).toString('latin1') : undefined;
    },
    erase(name: string): void {
      files.delete(name);
    },
  };
}

/**
 * Espruino's limit on typed-array views, in vm+E: a view's byteOffset past 65535 throws
 * ("byteOffset too large" on every Espruino build), so code that would not load there fails here too.
 */
const ESPRUINO_VIEW_LIMIT = `(function () {
  ['Int8Array', 'Uint8Array', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array'].forEach(function (name) {
    var Base = globalThis[name];
    globalThis[name] = class extends Base {
      constructor(a, offset, length) {
        if (typeof offset === 'number' && offset > 65535) throw new Error(name + ': byteOffset too large');
        super(...arguments);
      }
    };
    Object.defineProperty(globalThis[name], 'name', { value: name });
  });
})();`;

function vmEngine(name: 'vm' | 'vm+E'): Engine {
  return {
    name,
    async run(source, onLine) {
      const lines: string[] = [];
      const context = vm.createContext({
        print: (s: unknown) => {
          const line = String(s);
          lines.push(line);
          onLine?.(line);
        },
        ...(name === 'vm+E' ? fakeEspruinoGlobals() : {}),
      });
      try {
        if (name === 'vm+E') vm.runInContext(ESPRUINO_VIEW_LIMIT, context);
        vm.runInContext(source, context, { timeout: ENGINE_TIME_LIMIT_S * 1000 });
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
          throw new UserError(
            `${name}: stopped at the ${ENGINE_TIME_LIMIT_S} s limit of one engine run; replay fewer steps (--windows, --streams, --random-segments)`,
          );
        throw e;
      }
      return lines;
    },
  };
}

/** An engine that ran out of memory holding the program: the model does not fit that build. */
export class EngineCapacityError extends UserError {}

/** How a process engine is run: arguments before and after the program file, and text it must end with. */
interface ProcessForm {
  before?: string[];
  after?: string[];
  /** Typed before the program (the watch's Float64Array stand-in). */
  prefix?: string;
  suffix?: string;
  /** Return what it printed, out of memory or not (the caller judges); only a failed run is an error. */
  asIs?: boolean;
}

function processEngine(name: EngineName, command: string, form: ProcessForm = {}): Engine {
  return { name, run: async (source, onLine) => (await runProcess(name, command, form, source, undefined, onLine)).lines };
}

/**
 * Runs `source` in a directory of its own (Espruino's Linux build keeps its Storage there) and
 * returns what it printed, and the file `keep` the program's runner wrote there, if asked for.
 */
async function runProcess(
  name: EngineName,
  command: string,
  form: ProcessForm,
  source: string,
  keep?: string,
  onLine?: (line: string) => void,
): Promise<{ lines: string[]; kept?: Buffer }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-engine-'));
  const file = path.join(dir, 'run.js');
  try {
    fs.writeFileSync(file, (form.prefix ?? '') + source + (form.suffix ?? ''));
    const r = await new Promise<ProcessResult>((resolve) => {
      const child = execFile(
        command,
        [...(form.before ?? []), file, ...(form.after ?? [])],
        { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30, timeout: ENGINE_TIME_LIMIT_S * 1000 },
        (error, stdout, stderr) => resolve({ stdout, stderr, error: error ?? undefined }),
      );
      child.stdin?.end(); // Espruino reads its REPL from stdin: give it none
      if (onLine) followLines(child.stdout, onLine);
    });
    if (form.asIs && r.error) throw new UserError(`${name}: the program did not run to the end: ${failureDetail(r.stderr || r.stdout)}`);
    const lines = form.asIs ? r.stdout.split(/\r?\n/) : checkedLines(name, r);
    const kept = keep !== undefined && fs.existsSync(path.join(dir, keep)) ? fs.readFileSync(path.join(dir, keep)) : undefined;
    return { lines, kept };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Calls `onLine` with each whole line of `stream` as it arrives (the run's result still holds them all). */
function followLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let rest = '';
  stream?.on('data', (chunk: string | Buffer) => {
    const parts = (rest + String(chunk)).split(/\r?\n/);
    rest = parts.pop()!;
    for (const line of parts) onLine(line);
  });
}

interface ProcessResult {
  stdout: string;
  stderr: string;
  error?: Error;
}

/** What a run printed, line by line; a run that did not reach the driver's END is reported in words. */
function checkedLines(name: EngineName, r: ProcessResult): string[] {
  const lines = r.stdout.split(/\r?\n/);
  const ended = lines.some((l) => l.trim() === 'END');
  // Espruino builds print OUT OF MEMORY and carry on: the model never loaded (the driver cannot end)
  const outOfMemory = lines.find((l) => /out of memory/i.test(l));
  if (outOfMemory && !ended)
    throw new EngineCapacityError(`${name}: out of memory (${outOfMemory.trim().slice(0, 80)}): the model does not fit this build`);
  const killed = r.error as (Error & { killed?: boolean; signal?: string }) | undefined;
  if (killed?.killed && !ended) {
    // Our own limit, not the engine's failure: say which.
    throw new UserError(
      `${name}: stopped at the ${ENGINE_TIME_LIMIT_S} s limit of one engine run, before the program ended (${lines.filter((l) => l.trim()).length} lines printed); replay fewer steps (--windows, --streams, --random-segments)`,
    );
  }
  if (r.error && !ended) {
    // JerryScript's fatal out-of-heap exit prints nothing: say what it means
    if (name === 'jerry' && (r.error as Error & { code?: unknown }).code === 10)
      throw new EngineCapacityError(`${name}: out of memory (its heap is full): the model does not fit this build`);
    const detail = failureDetail(r.stderr || r.stdout);
    if (/out of memory|not enough memory/i.test(detail)) throw new EngineCapacityError(`${name}: out of memory: ${detail.slice(-200)}`);
    // The generated program did not run to its end on this engine (e.g. out of memory): a result, not a crash of the tool.
    throw new UserError(`${name}: the program did not run to the end (${r.error.message.split('\n')[0].slice(0, 200)}): ${detail}`);
  }
  return lines;
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, command);
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

/** The project's runner of the Bangle.js 2 emulator: types a program into the watch's console (parity/bangle2-run.cjs). */
export const BANGLE2_RUNNER = fileURLToPath(new URL('./bangle2-run.cjs', import.meta.url));

/**
 * The Bangle.js 2 firmware (Espruino for the watch, 12,000 blocks of 14 bytes) compiled to
 * WebAssembly: the folder BANGLE2_DIR, when it holds the emulator. The program is typed into the
 * watch's console line by line, as the Web IDE uploads, and must end by printing <<done>>.
 */
export function bangle2Dir(): string | undefined {
  const dir = process.env.BANGLE2_DIR;
  return dir && fs.existsSync(path.join(dir, 'emulator_banglejs2.js')) ? dir : undefined;
}

/** The file the runner writes the watch's screen to (RGBA), in the run's own directory. */
const SCREEN_FILE = 'screen.rgba';

const BANGLE2_FORM = (screen: boolean): ProcessForm => ({
  before: [BANGLE2_RUNNER],
  after: ['--timeout', String(ENGINE_TIME_LIMIT_S), ...(screen ? ['--screen', SCREEN_FILE] : [])],
  suffix: '\nprint("<<done>>");\n',
});

/**
 * Runs `source` on the watch's firmware as it is, with no line typed after it: the program prints
 * <<done>> itself (one that load()s a Storage file restarts the interpreter, and a line typed after
 * the load() would run before it). Returns what it printed, out of memory or not.
 */
export async function runOnWatchAsIs(source: string): Promise<string[]> {
  if (!bangle2Dir()) throw new UserError('bangle2: BANGLE2_DIR is not set to the Bangle.js 2 firmware emulator');
  return (await runProcess('bangle2', process.execPath, { ...BANGLE2_FORM(false), suffix: '', asIs: true }, source)).lines;
}

export function dukPath(): string | undefined {
  return process.env.DUK_BIN || onPath('duk');
}

/**
 * Every engine available here, and why the others are not. The watch's firmware only when asked
 * for (`watch`): its integer steps match (the parity tests, simulate --engines bangle2), but the
 * emulator does not keep a double in a Float64Array (new Float64Array([1/3])[0] !== 1/3 there,
 * true on the Linux Espruino build), and step(x) reads its affine coefficients from one, so the
 * examples leave it out; the tests of real readings ask for `'real-readings'`: the watch with
 * parity/watch-float64.ts typed in first, a Float64Array that holds doubles, and everything else
 * the firmware's own.
 */
export function availableEngines(watch: boolean | 'real-readings' = false): { engines: Engine[]; skipped: string[] } {
  const engines: Engine[] = [vmEngine('vm'), vmEngine('vm+E')];
  const skipped: string[] = [];
  const duk = dukPath();
  if (duk) engines.push(processEngine('duk', duk));
  else skipped.push('duk: not found (apt-get install duktape, or set DUK_BIN)');
  const espruino = process.env.ESPRUINO_BIN;
  if (espruino && fs.existsSync(espruino)) engines.push(processEngine('espruino', espruino));
  else skipped.push('espruino: ESPRUINO_BIN is not set to a Linux Espruino build');
  const jerry = process.env.JERRY_BIN;
  if (jerry && fs.existsSync(jerry)) engines.push(processEngine('jerry', jerry));
  else skipped.push('jerry: JERRY_BIN is not set to a JerryScript build');
  const standIn = watch === 'real-readings' ? { prefix: FLOAT64_STANDIN_ES5 } : {};
  if (watch && bangle2Dir()) engines.push(processEngine('bangle2', process.execPath, { ...BANGLE2_FORM(false), ...standIn }));
  else if (watch)
    skipped.push('bangle2: BANGLE2_DIR is not set to the Bangle.js 2 firmware emulator (a folder with emulator_banglejs2.js)');
  return { engines, skipped };
}

/** What the watch's screen shows: `width` x `height` pixels, 4 bytes each (R, G, B, A), rows top to bottom. */
export interface Screen {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** The Bangle.js 2 screen's side in pixels. */
export const BANGLE2_SCREEN_SIDE = 176;

/**
 * Runs `source` on the watch's firmware (BANGLE2_DIR) and returns what it printed and what its
 * screen showed when it printed <<done>>. Like every engine's program, `source` must print END.
 */
export async function runOnWatch(source: string): Promise<{ lines: string[]; screen: Screen }> {
  if (!bangle2Dir()) throw new UserError('bangle2: BANGLE2_DIR is not set to the Bangle.js 2 firmware emulator');
  const { lines, kept } = await runProcess('bangle2', process.execPath, BANGLE2_FORM(true), source, SCREEN_FILE);
  const side = BANGLE2_SCREEN_SIDE;
  if (!kept || kept.length !== side * side * 4) throw new Error(`bangle2: the runner wrote no ${side}x${side} screen`);
  return { lines, screen: { width: side, height: side, rgba: new Uint8Array(kept) } };
}

export function engineByName(name: EngineName): Engine | undefined {
  return availableEngines(name === 'bangle2').engines.find((e) => e.name === name);
}
