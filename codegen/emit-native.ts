/**
 * The native step of the `espruino` module (codegen --native): the kernel of
 * native/lstm-step.c, called through E.nativeCall on the boards whose CPU runs
 * it, with the JavaScript step everywhere else (docs/NUMERICS.md, "The native
 * context"; the choice at load is codegen/es5/native-kernel.js).
 *
 * The module holds the prebuilt blobs and the model's native context (built
 * here by native/context.ts, the one definition of its layout). At load it picks
 * the blob for process.env.BOARD, copies blob and context into flat strings,
 * and, when that worked, points the state arrays (h, c, gates, Y) at the
 * context's state block: the API reads the very integers the kernel writes.
 * Why the JavaScript step runs instead is one line in info.native.
 */
import fs from 'node:fs';
import { gateCount, hasCellState, type QuantizedModel } from '../core/model.ts';
import { buildNativeContext, nativeUnsupported, type NativeContextPlan } from '../native/context.ts';
import { blobPath, type NativeCpu } from '../native/toolchain.ts';
import type { CodeBuilder } from './builder.ts';
import type { NativeHeld } from './ram-estimate.ts';
import { es5Lines } from './es5-source.ts';
import { toBase64LE } from './base64.ts';
import { emitNumberOr } from './emit-arguments.ts';
import { emitSaturateInt8 } from './emit-primitives.ts';
import { emitHostChoice, emitHostContext, emitHostData, emitHostStepQ } from './emit-native-host.ts';
import { emitFlashStepQ } from './emit-native-flash.ts';

/**
 * codegen --native: both kernels (chosen by the board at load), one of them, or none; `host`: the es5
 * module calls the kernel a JerryScript host provides (codegen/emit-native-host.ts).
 */
export type NativeOption = 'auto' | 'm4' | 'm3' | 'off' | 'host';
export const NATIVE_OPTIONS: readonly NativeOption[] = ['auto', 'm4', 'm3', 'off', 'host'];
/**
 * A module holds the native step unless asked not to: where the kernel runs, the JavaScript step's
 * weights are never decoded (the context holds them once), and `--board` budgets count the context and the kernel.
 */
export const DEFAULT_NATIVE: NativeOption = 'auto';

/**
 * process.env.BOARD -> the kernel its CPU runs. nRF52 boards and STM32F4 boards are
 * Cortex-M4 (DSP instructions); the Original Espruino is a Cortex-M3. Every other board
 * (ESP32, ESP8266, RP2040, the Linux builds, boards not listed) runs the JavaScript step.
 */
export const NATIVE_BOARD_CPU: { readonly [board: string]: NativeCpu } = {
  PUCKJS: 'm4',
  PIXLJS: 'm4',
  BANGLEJS: 'm4',
  BANGLEJS2: 'm4',
  MDBT42Q: 'm4',
  JOLTJS: 'm4',
  PICO_R1_3: 'm4',
  ESPRUINOWIFI: 'm4',
  STM32F4DISCOVERY: 'm4',
  STM32F405RG: 'm4',
  ESPRUINOBOARD: 'm3',
};

/**
 * The option for a module generated for one board (`--board`): auto holds only the kernel that
 * board's CPU runs (none on a board that runs no kernel, nor with weights in flash where that board's
 * Storage is not memory-mapped: `flashUnmapped`); an explicit choice stays as asked.
 */
export function nativeForBoard(option: NativeOption, envBoard: string | undefined, flashUnmapped = false): NativeOption {
  if (option !== 'auto' || envBoard === undefined) return option;
  if (flashUnmapped) return 'off';
  return Object.prototype.hasOwnProperty.call(NATIVE_BOARD_CPU, envBoard) ? NATIVE_BOARD_CPU[envBoard]! : 'off';
}

/** The kernels a module holds for an option. */
const KERNELS: { readonly [O in NativeOption]: readonly NativeCpu[] } = { auto: ['m4', 'm3'], m4: ['m4'], m3: ['m3'], off: [], host: [] };

/** Where the API's state arrays are in the context: byte offset and element count of h, c and the gates. */
export interface NativeViews {
  h: { off: number; count: number };
  c: { off: number; count: number };
  gates: { off: number; count: number };
}

/** The API's state arrays as views of the context, or why they cannot be (a stack whose regions are padded apart). */
export function nativeViews(plan: NativeContextPlan): NativeViews | string {
  const layers = plan.layers;
  const cells = layers.filter((p) => hasCellState(p.layer.cell));
  // Each region must follow the one before it with no padding between: h int8 [U], c int16 [U], gates int16 [G·U].
  const joined = <T>(items: T[], off: (t: T) => number, bytes: (t: T) => number) =>
    items.every((t, i) => i === 0 || off(t) === off(items[i - 1]) + bytes(items[i - 1]));
  const hJoined = joined(
    layers,
    (p) => p.hOff,
    (p) => p.layer.units,
  );
  const cJoined = joined(
    cells,
    (p) => p.cellOff,
    (p) => 2 * p.layer.units,
  );
  const gJoined = joined(
    layers,
    (p) => p.gatesOff,
    (p) => 2 * gateCount(p.layer.cell) * p.layer.units,
  );
  if (!hJoined || !cJoined || !gJoined)
    return 'stacked layers whose units are not multiples of 4 keep h, c or gates padded apart in the native context, so state could not be one view';
  const sum = (f: (p: (typeof layers)[number]) => number) => layers.reduce((s, p) => s + f(p), 0);
  return {
    h: { off: layers[0].hOff, count: sum((p) => p.layer.units) },
    c: { off: cells.length ? cells[0].cellOff : 0, count: sum((p) => (hasCellState(p.layer.cell) ? p.layer.units : 0)) },
    gates: { off: layers[0].gatesOff, count: sum((p) => gateCount(p.layer.cell) * p.layer.units) },
  };
}

/**
 * What a module holds of the native step: the kernels and the context, or why it holds none ("js: ...").
 * `host`: no kernel, the es5 module calls the host's lstmNativeStep (codegen/emit-native-host.ts).
 */
export type NativeModule =
  | { kind: 'js'; reason: string }
  | {
      kind: 'native';
      host: boolean;
      /** Weights in flash: the context and the kernels are in the module's Storage file (codegen/emit-native-flash.ts). */
      flash: boolean;
      cpus: readonly NativeCpu[];
      plan: NativeContextPlan;
      bytes: Uint8Array;
      views: NativeViews;
    };

export function nativeModule(q: QuantizedModel, target: string, option: NativeOption, flash: boolean): NativeModule {
  const js = (why: string): NativeModule => ({ kind: 'js', reason: `js: ${why}` });
  const host = option === 'host';
  if (host && target !== 'es5') return js(`codegen --native host is for the es5 target (a JerryScript host's lstmNativeStep)`);
  if (!host && target !== 'espruino') return js(`the ${target} target runs the JavaScript step`);
  if (option === 'off') return js('generated with codegen --native off');
  const unsupported = nativeUnsupported(q);
  if (unsupported) return js(unsupported);
  const { plan, bytes } = buildNativeContext(q);
  const views = nativeViews(plan);
  if (typeof views === 'string') return js(views);
  return { kind: 'native', host, flash, cpus: KERNELS[option], plan, bytes, views };
}

/**
 * The context's constant bytes, [offset, length] each: header and layer descriptors, then the tanh
 * table, weights and head (the state, scratch and saved h between them change as it steps). A module
 * holding a context checksums these on either path, so checksum() does not depend on the path taken.
 */
export const nativeConstantRegions = (plan: NativeContextPlan): [number, number][] => [
  [0, plan.stateOff],
  [plan.tableOff, plan.totalBytes - plan.tableOff],
];

/**
 * What a module generated with `emit` holds of the native step in RAM, for the RAM estimate: its context and its
 * largest kernel, in bytes (with weights in flash, only the context's part before the tanh table, and no kernel).
 */
export function nativeHeld(q: QuantizedModel, emit: { target: string; native?: NativeOption }, flash: boolean): NativeHeld | undefined {
  const m = nativeModule(q, emit.target, emit.native ?? DEFAULT_NATIVE, flash);
  if (m.kind === 'js') return undefined;
  // With weights in flash the kernel runs from the file: no RAM copy of it.
  if (flash) return { contextBytes: m.plan.tableOff, kernelBytes: 0 };
  return { contextBytes: m.bytes.length, kernelBytes: Math.max(0, ...m.cpus.map((cpu) => fs.statSync(blobPath(cpu)).size)) };
}

/** info.native as generated: the static reason, or what --native held (the module writes the path taken at load). */
export const nativeInfo = (m: NativeModule, option: NativeOption): string =>
  m.kind === 'js' ? m.reason : `chosen at load (codegen --native ${option})`;

/** A base64 literal of `bytes`, in chunks of at most `chunk` characters. */
export function literal(bytes: Uint8Array, chunk: number): string {
  const text = toBase64LE(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (text.length <= chunk) return `"${text}"`;
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += chunk) parts.push(`"${text.slice(i, i + chunk)}"`);
  return `[${parts.join(', ')}]`;
}

/** In the data section: the kernels and the context as base64 (the context's tanh table is also the JavaScript step's TT). */
export function emitNativeData(b: CodeBuilder, m: NativeModule, chunk: number): void {
  if (m.kind === 'js' || m.flash) return;
  if (m.host) return emitHostData(b, m, chunk);
  b.comment('native step (codegen --native; docs/NUMERICS.md "The native context"): native/lstm-step.c, position-independent Thumb-2');
  b.comment('NATIVE_KERNELS: the prebuilt blob of each CPU; NATIVE_CONTEXT: header, weights, tanh table (TT) and state in one buffer');
  const kernels = m.cpus.map((cpu) => `${cpu}: ${literal(fs.readFileSync(blobPath(cpu)), chunk)}`);
  b.line(`var NATIVE_KERNELS = { ${kernels.join(', ')} };`);
  b.line(`var NATIVE_CONTEXT = ${literal(m.bytes, chunk)};`);
}

/** The blob's entry stub (native/entry-stub.S): its last STUB_BYTES bytes, the int(x0, x1, x2, x3) entry STUB_XSTEP bytes in. */
export const STUB_BYTES = 96;
export const STUB_XSTEP = 32;

/**
 * The 4-byte trailer between context and kernel in the module's flat string, as a JavaScript string
 * literal: T = the context's length + 4, the bytes from the context's start to the kernel's.
 */
export function contextTrailer(contextBytes: number): string {
  if (contextBytes % 4 !== 0) throw new Error(`the native context is ${contextBytes} bytes, not a multiple of 4`);
  const bytes = [0, 8, 16, 24].map((shift) => ((contextBytes + 4) >>> shift) & 255);
  return `"${bytes.map((v) => `\\x${v.toString(16).padStart(2, '0')}`).join('')}"`;
}

/**
 * In the decoding: the board's choice (the functions of codegen/es5/native-kernel.js), then the
 * context: where a kernel runs, one flat string [context][trailer][kernel] (CF), so that the
 * kernel's entry stub finds the context PC-relatively; elsewhere the context alone, one flat block
 * where E.toFlatString makes one, else decoded as the other arrays. CB is its buffer (the context
 * at offset 0) and TT a view of its tanh table.
 */
export function emitNativeContext(b: CodeBuilder, m: NativeModule & { kind: 'native' }, tableLength: number): void {
  if (m.host) return emitHostContext(b, m, tableLength);
  const { plan } = m;
  b.comment('---- native step: the kernel for this board, or the JavaScript step (info.native says why)');
  b.line("var NK, NX, XC; // the kernel's entry stub (two native functions), the x of the context");
  emitBoardChoice(b, m);
  const stubAt = m.cpus.map((cpu) => `${cpu}: ${fs.statSync(blobPath(cpu)).size - STUB_BYTES}`);
  b.snippet(
    es5Lines('native-flat', {
      words: {
        STATE_OFF: String(plan.stateOff),
        STATE_BYTES: String(plan.stateBytes),
        CONTEXT_TRAILER: contextTrailer(m.bytes.length),
        CONTEXT_BYTES: String(m.bytes.length),
        STUB_AT: `{ ${stubAt.join(', ')} }`,
      },
    }),
  );
  b.line('var NATIVE = nativeCpu(NATIVE_KERNELS);');
  b.line('var CF = nativeFlat(NATIVE_CONTEXT, NATIVE);');
  b.line('var CB = CF ? E.toArrayBuffer(CF) : buf(NATIVE_CONTEXT);');
  b.line(`var TT = new Int16Array(CB, ${plan.tableOff}, ${tableLength}); // the context's tanh table`);
}

/** nativeCpu(kernels) of codegen/es5/native-kernel.js: the kernel this board's CPU runs, of those the module holds. */
export function emitBoardChoice(b: CodeBuilder, m: NativeModule & { kind: 'native' }): void {
  const board = Object.entries(NATIVE_BOARD_CPU).filter(([, cpu]) => m.cpus.includes(cpu));
  b.snippet(es5Lines('native-kernel', { words: { BOARD_CPUS: `{ ${board.map(([name, cpu]) => `${name}: "${cpu}"`).join(', ')} }` } }));
}

/**
 * At load, right after the context is decoded and before any array of the JavaScript step: the
 * kernel loaded, or the JavaScript step. Where the kernel runs (NK set), the JavaScript step's
 * weights and row views are never built (the context holds the weights once); elsewhere they are,
 * and the kernels are dropped.
 */
export function emitNativeChoice(b: CodeBuilder, m: NativeModule): void {
  if (m.kind === 'js') return;
  if (m.host) return emitHostChoice(b, m);
  if (m.flash) throw new Error('emitNativeChoice: weights in flash make their choice in emitFlashChoice');
  b.line('if (NATIVE === "m4" || NATIVE === "m3") NATIVE = nativeLoad(NATIVE);');
  b.line('NATIVE_KERNELS = NATIVE_CONTEXT = nativeCpu = nativeFlat = nativeLoad = undefined; // their text is not held');
}

/**
 * Once the state is allocated: where the kernel runs (here or in a JerryScript host), the state
 * arrays pointed at the context. `state` names the module's h array (H, or HS when stacked).
 */
export function emitNativeLoad(b: CodeBuilder, m: NativeModule, NI: number, NO: number, state: string): void {
  if (m.kind === 'js') return;
  const { plan, views } = m;
  b.block('if (NK) {', () => {
    b.comment("the state the API shows is the context's: x, h, c, gates and the head accumulator Y where the kernel writes them");
    b.line(`XC = new Int8Array(CB, ${plan.inputOff}, ${NI});`);
    b.line(`${state} = new Int8Array(CB, ${views.h.off}, ${views.h.count});`);
    if (views.c.count > 0) b.line(`C = new Int16Array(CB, ${views.c.off}, ${views.c.count});`);
    b.line(`G = new Int16Array(CB, ${views.gates.off}, ${views.gates.count});`);
    b.line(`Y = new Int32Array(CB, ${plan.outputOff}, ${NO});`);
  });
}

/**
 * nativeStepQ(xq), which replaces stepQ where the kernel runs: one call of the kernel's entry stub,
 * which finds the context PC-relatively (no address read in JavaScript; E.defrag()-safe). An
 * Int8Array of the right length is int8 already: up to 4 inputs travel as the call's int arguments
 * (NX), more are copied into the context's x (XC) before NK; anything else is checked and copied
 * value by value (checked). In a scope of its own of few names (Espruino finds a name by walking
 * the variables of each scope in turn), the Int8Array path one statement (Espruino reads on
 * through the rest of a function's text after a return).
 */
export function emitNativeStepQ(b: CodeBuilder, m: NativeModule, NI: number, argumentCheck: () => void): void {
  if (m.kind === 'js') return;
  if (m.host) return emitHostStepQ(b, NI, argumentCheck);
  if (m.flash) return emitFlashStepQ(b, NI, argumentCheck);
  // the call returns the kernel's status, 0 once loaded: `|| Y` returns the head accumulator
  const call = NI <= 4 ? `NX(${Array.from({ length: NI }, (_, i) => `q[${i}]`).join(', ')})` : 'XC.set(q) || NK()';
  b.comment('The native step: stepQ where the kernel runs (the same integers as the JavaScript step above), in a scope of its own.');
  b.comment('Made only where the kernel runs: elsewhere its text is not held.');
  b.block(
    'if (NK) stepQ = (function (I8, NX, Y, NK, XC) {',
    () => {
      b.block('function checked(xq) {', () => {
        b.line('var i, z;');
        emitValueCopy(b, NI, argumentCheck);
        b.line('return NK() || Y;');
      });
      b.line(`return function (q) { return q instanceof I8 && q.length === ${NI} ? ${call} || Y : checked(q); };`);
    },
    '})(Int8Array, NX, Y, NK, XC);',
  );
  b.line('');
}

/**
 * x = sat8(xq) into the context's x (XC), as the JavaScript step reads its argument, for the kernel
 * a JerryScript host provides (the E.nativeCall step passes an Int8Array as the call's arguments,
 * and shares the value-by-value copy below).
 */
export function emitInputCopy(b: CodeBuilder, NI: number, argumentCheck: () => void): void {
  b.line('var i, z;');
  // An Int8Array holds int8 numbers only: the number check and sat8 are the identity there.
  b.comment('an Int8Array of the right length (as step(x) passes) is already int8: one native copy; else value by value');
  b.line(`if (xq instanceof Int8Array && xq.length === ${NI}) XC.set(xq);`);
  b.block('else {', () => emitValueCopy(b, NI, argumentCheck));
}

/** Anything but an Int8Array of the right length: the argument check, then x = sat8(xq) into XC value by value (a non-number 0). */
export function emitValueCopy(b: CodeBuilder, NI: number, argumentCheck: () => void): void {
  argumentCheck();
  b.block(`for (i = 0; i < ${NI}; i++) {`, () => {
    b.line('z = xq[i];');
    emitNumberOr(b, 'z', '0');
    emitSaturateInt8(b, 'z');
    b.line('XC[i] = z;');
  });
}
