/**
 * The native step of an `espruino` module with its weights in flash (codegen --weights flash): the
 * module's Storage file begins with the model's native context, then the kernels it holds
 * (nativeFlashArrays; codegen/flash-weights.ts lays the file out). Where the kernel runs, only the
 * context's first part is copied into RAM (header, layer descriptors and state: everything the
 * kernel writes); the kernel reads the tanh table, weights and head from the file in place, its
 * address given as the kernel's second argument (docs/NUMERICS.md, "The native context"), and the
 * kernel runs from the file too (E.nativeCall at its address: flash is executable). E.defrag() moves
 * the RAM part and compacting Storage moves the file: both addresses are read at every step.
 */
import fs from 'node:fs';
import { blobPath } from '../native/toolchain.ts';
import type { CodeBuilder } from './builder.ts';
import { flashLayout, type FlashArray } from './flash-weights.ts';
import { jsString } from './js-text.ts';
import { emitBoardChoice, emitInputCopy, type NativeModule } from './emit-native.ts';
import { es5Lines } from './es5-source.ts';

/** The native context (first, at offset 0) and the kernels, at the start of the Storage file. */
export function nativeFlashArrays(m: NativeModule): FlashArray[] {
  if (m.kind === 'js' || !m.flash) return [];
  return [
    { name: 'NATIVE_CONTEXT', values: m.bytes, view: false },
    ...m.cpus.map((cpu) => ({
      name: `NATIVE_${cpu.toUpperCase()}`,
      values: new Uint8Array(fs.readFileSync(blobPath(cpu))),
      view: false as const,
    })),
  ];
}

/**
 * At load, after the file's views (S, WF of codegen/flash-weights.ts): the board's choice. Where the kernel
 * runs, CB is the RAM part of the context, NK the kernel (a native function at its address in the file)
 * and KO its offset in the file; elsewhere none is made.
 */
export function emitFlashChoice(b: CodeBuilder, m: NativeModule & { kind: 'native' }, file: string): void {
  const entries = flashLayout(nativeFlashArrays(m)).entries;
  const kernels = m.cpus.map((cpu) => `${cpu}: ${entries.find((x) => x.name === `NATIVE_${cpu.toUpperCase()}`)!.offset}`);
  b.comment('---- native step: the kernel for this board, or the JavaScript step (info.native says why)');
  b.line("var NK, XC, CB, KO; // the kernel (a native function), the x of the context, its RAM part, the kernel's offset in the file");
  emitBoardChoice(b, m);
  b.snippet(es5Lines('native-flash', { words: { STATE_OFF: String(m.plan.stateOff), STATE_BYTES: String(m.plan.stateBytes) } }));
  b.line(`var NATIVE_KERNELS = { ${kernels.join(', ')} }; // each kernel's offset in the Storage file`);
  b.line('var NATIVE = nativeCpu(NATIVE_KERNELS);');
  b.block('if (NATIVE === "m4" || NATIVE === "m3") {', () => {
    b.comment(
      `in RAM, the context's first ${m.plan.tableOff} bytes (header, descriptors, state); its constants and the kernel stay in the file`,
    );
    b.line(`CB = E.toFlatString(S.read(${jsString(file)}, 0, ${m.plan.tableOff}));`);
    b.line('CB = CB && E.toArrayBuffer(CB);');
    b.line('KO = NATIVE_KERNELS[NATIVE];');
    b.line('NATIVE = nativeFlashLoad(NATIVE);');
  });
  b.line('NATIVE_KERNELS = nativeCpu = nativeFlashLoad = undefined; // their text is not held');
}

/**
 * nativeStepQ(xq) with weights in flash, made only where the kernel runs: x = sat8(xq) into the context's x,
 * then one call with both addresses, read at every step (E.defrag() moves CB; compacting Storage moves the
 * file, and Espruino updates WF: the kernel is then found again at its new address, rarely, so it may allocate).
 */
export function emitFlashStepQ(b: CodeBuilder, NI: number, argumentCheck: () => void): void {
  b.comment('The native step: stepQ where the kernel runs (the same integers as the JavaScript step above), in a scope of its own.');
  b.block(
    'if (NK) stepQ = (function (NK, CB, XC, Y, WF, KO) {',
    () => {
      b.line('var WA = E.getAddressOf(WF, true); // where the file is: the kernel NK is at WA + KO');
      b.block(
        'return function (xq) {',
        () => {
          emitInputCopy(b, NI, argumentCheck);
          b.line('var a = E.getAddressOf(WF, true);');
          b.block('if (a !== WA) {', () => {
            b.line(`if (!a) throw new Error("lstm-mcu model: the weights' Storage file is gone");`);
            b.line('NK = E.nativeCall(a + KO + 1, "int(int,int)");');
            b.line('WA = a;');
          });
          b.line('NK(E.getAddressOf(CB, true), a);');
          b.line('return Y;');
        },
        '};',
      );
    },
    '})(NK, CB, XC, Y, WF, KO);',
  );
  b.line('');
}
