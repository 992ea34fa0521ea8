/**
 * The native step of the `es5` module in a JerryScript host (codegen --target es5 --native host):
 * the host registers the kernel of native/lstm-step.c, compiled for its own CPU, as the global
 * function lstmNativeStep(context) (firmware/jerryscript/lstm_native.c, HOST_API.md). The module
 * holds the model's native context but no kernel; at load it checks that the host's function
 * steps that context (codegen/es5/native-host.js) and then points its state arrays at it, as the
 * espruino module does (codegen/emit-native.ts). Where the host has no such function, or refuses
 * the context, the JavaScript step runs and info.native says why.
 */
import type { CodeBuilder } from './builder.ts';
import { es5Lines } from './es5-source.ts';
import { emitInputCopy, literal, type NativeModule } from './emit-native.ts';

type HostModule = NativeModule & { kind: 'native' };

/** In the data section: the context as base64 (its tanh table is also the JavaScript step's TT). */
export function emitHostData(b: CodeBuilder, m: HostModule, chunk: number): void {
  b.comment(
    'native step (codegen --native host; docs/NUMERICS.md "The native context"): the host\'s lstmNativeStep runs native/lstm-step.c',
  );
  b.comment('NATIVE_CONTEXT: header, weights, tanh table (TT) and state in one buffer');
  b.line(`var NATIVE_CONTEXT = ${literal(m.bytes, chunk)};`);
}

/** In the decoding: the context as one ArrayBuffer; TT is a view of its tanh table. */
export function emitHostContext(b: CodeBuilder, m: HostModule, tableLength: number): void {
  b.line('var CB = buf(NATIVE_CONTEXT); // the native context');
  b.line(`var TT = new Int16Array(CB, ${m.plan.tableOff}, ${tableLength}); // the context's tanh table`);
}

/**
 * At load, right after the context is decoded: the host's step, or the JavaScript step. Where the host's
 * runs (NK set), the JavaScript step's weights are never built; emitNativeLoad points the state at the context.
 */
export function emitHostChoice(b: CodeBuilder, m: HostModule): void {
  b.comment("---- native step: the host's lstmNativeStep, or the JavaScript step (info.native says why)");
  b.line("var NK, XC; // the host's step (a native function), the x of the context");
  b.snippet(es5Lines('native-host', { words: { STATE_OFF: String(m.plan.stateOff), STATE_BYTES: String(m.plan.stateBytes) } }));
  b.line('var NATIVE = nativeHost();');
  b.line('NATIVE_CONTEXT = undefined;');
}

/** nativeStepQ(xq), which replaces stepQ where the host runs the kernel: x = sat8(xq) into the context, then one call. */
export function emitHostStepQ(b: CodeBuilder, NI: number, argumentCheck: () => void): void {
  b.comment("The native step: stepQ where the host's lstmNativeStep runs (the same integers as the JavaScript step above)");
  b.block('function nativeStepQ(xq) {', () => {
    emitInputCopy(b, NI, argumentCheck);
    b.line('NK(CB);');
    b.line('return Y;');
  });
  b.line('if (NK) stepQ = nativeStepQ;');
  b.line('');
}
