/**
 * Runs a native kernel blob on bare-metal QEMU (native/harness: mps2-an386 is a
 * Cortex-M4, mps2-an385 a Cortex-M3, mps2-an505 a Cortex-M33 with the DSP
 * extension that runs the M4 blob) over a sequence of int8 inputs, and reads
 * back the state after every step. The harness is built here with
 * arm-none-eabi-gcc; `nativeToolsMissing()` says what is absent when it cannot run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { readNativeState, type NativeContext, type NativeState } from '../native/context.ts';
import { NATIVE_DIR, type NativeCpu } from '../native/toolchain.ts';

/** A CPU the bare-metal tests run a blob on: the blob's own CPUs, and the Cortex-M33 running the M4 blob. */
export type NativeTarget = NativeCpu | 'm33';
export const NATIVE_TARGETS: readonly NativeTarget[] = ['m4', 'm3', 'm33'];
/** The blob each target runs (an ARMv8-M Mainline core with the DSP extension runs the ARMv7E-M code). */
export const TARGET_BLOB: { readonly [T in NativeTarget]: NativeCpu } = { m4: 'm4', m3: 'm3', m33: 'm4' };
export const MACHINE: { readonly [T in NativeTarget]: string } = { m4: 'mps2-an386', m3: 'mps2-an385', m33: 'mps2-an505' };
export const CPU_NAME: { readonly [T in NativeTarget]: string } = { m4: 'cortex-m4', m3: 'cortex-m3', m33: 'cortex-m33' };

/** Where a board's harness is linked: its linker script (native/harness) and its data RAM (harness.c's RAM_AT). */
interface HarnessLayout {
  script: string;
  ramAt: string;
}
const MPS2: HarnessLayout = { script: 'mps2.ld', ramAt: '0x20000000u' };
const AN505: HarnessLayout = { script: 'mps2-an505.ld', ramAt: '0x38000000u' };
const LAYOUT: { readonly [T in NativeTarget]: HarnessLayout } = { m4: MPS2, m3: MPS2, m33: AN505 };

const harnesses = new Map<HarnessLayout, string>();

/** The harness ELF for `target`'s board, built once per process and layout (plain Cortex-M3 code: it runs on every board). */
export function harnessElf(target: NativeTarget): string {
  const layout = LAYOUT[target];
  const built = harnesses.get(layout);
  if (built) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-harness-'));
  const elf = path.join(dir, 'harness.elf');
  const src = path.join(NATIVE_DIR, 'harness');
  const flags = ['-std=c11', '-O2', '-mthumb', '-mcpu=cortex-m3', '-ffreestanding', '-fno-builtin', '-nostdlib', '-Wall', '-Werror'];
  flags.push(`-DRAM_AT=${layout.ramAt}`);
  execFileSync('arm-none-eabi-gcc', [...flags, '-T', path.join(src, layout.script), path.join(src, 'harness.c'), '-o', elf]);
  harnesses.set(layout, elf);
  return elf;
}

export interface NativeRun {
  /** The state after each step. */
  states: NativeState[];
  /** What QEMU printed on stderr (the counting plugin's lines, with `plugin`). */
  log: string;
}

/**
 * Runs `blob` on `target`'s board: the context, then one step per input vector
 * (inputs: steps × I int8 values). `plugin`: a qemu TCG plugin to load (qemu-count).
 */
export function runNative(blob: Uint8Array, ctx: NativeContext, inputs: Int8Array, target: NativeTarget, plugin?: string): NativeRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-native-'));
  try {
    fs.writeFileSync(path.join(dir, 'blob.bin'), blob);
    fs.writeFileSync(path.join(dir, 'ctx.bin'), ctx.bytes);
    fs.writeFileSync(path.join(dir, 'in.bin'), new Uint8Array(inputs.buffer, inputs.byteOffset, inputs.byteLength));
    const args = ['-M', MACHINE[target], '-cpu', CPU_NAME[target], '-nographic', '-monitor', 'none', '-serial', 'none'];
    args.push('-semihosting-config', 'enable=on,target=native', '-kernel', harnessElf(target));
    if (plugin) args.push('-plugin', plugin, '-d', 'plugin');
    const run = spawnSync('qemu-system-arm', args, { cwd: dir, timeout: 120_000, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`qemu ${MACHINE[target]}: exit ${run.status ?? run.signal}: ${run.stderr}`);
    const out = fs.readFileSync(path.join(dir, 'out.bin'));
    const { stateBytes } = ctx.plan;
    const steps = inputs.length / ctx.plan.inputSize;
    if (out.length !== steps * stateBytes)
      throw new Error(`qemu ${MACHINE[target]}: ${out.length} bytes of state, ${steps * stateBytes} expected`);
    const states = Array.from({ length: steps }, (_, t) => readNativeState(ctx.plan, out.subarray(t * stateBytes, (t + 1) * stateBytes)));
    return { states, log: run.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
