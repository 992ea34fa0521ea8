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
import { emitKernelChoice, type NativeModule } from './emit-native.ts';

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
  // The context is the file's first entry: its constants are at the file's own address.
  emitKernelChoice(b, m, 'E.getAddressOf(WF, true)');
  b.line(`var CB, KO, NATIVE_KERNELS = { ${kernels.join(', ')} }; // each kernel's offset in the Storage file`);
  b.line('var NATIVE = nativeCpu(NATIVE_KERNELS);');
  b.block('if (NATIVE === "m4" || NATIVE === "m3") {', () => {
    b.comment(
      `in RAM, the context's first ${m.plan.tableOff} bytes (header, descriptors, state); its constants and the kernel stay in the file`,
    );
    b.line(`CB = E.toFlatString(S.read(${jsString(file)}, 0, ${m.plan.tableOff}));`);
    b.line('CB = CB && E.toArrayBuffer(CB);');
    b.line('KO = NATIVE_KERNELS[NATIVE];');
    b.comment('the file must be memory-mapped (not where Storage is external flash, as on Bangle.js 2)');
    b.line(
      `NATIVE = !E.getAddressOf(WF, true) ? "js: the weights' Storage file is not memory-mapped on this board, so the kernel cannot read it" : ` +
        'nativeLoad(NATIVE, E.nativeCall(E.getAddressOf(WF, true) + KO + 1, "int(int,int)"));',
    );
  });
  b.line('NATIVE_KERNELS = undefined;');
}

/**
 * In the native step: the call, the file's address read at every step. Compacting Storage moves the file
 * (Espruino updates WF): then the kernel is found again at its new address (rarely, so allocating is allowed there).
 */
export function emitFlashCall(b: CodeBuilder): void {
  b.line('var a = E.getAddressOf(WF, true);');
  b.block('if (a !== WA) {', () => {
    b.line(`if (!a) throw new Error("lstm-mcu model: the weights' Storage file is gone");`);
    b.line('NK = E.nativeCall(a + KO + 1, "int(int,int)");');
    b.line('WA = a;');
  });
  b.line('NK(E.getAddressOf(CB, true), a);');
}
