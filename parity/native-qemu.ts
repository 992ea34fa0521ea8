/**
 * Runs a native kernel blob on bare-metal QEMU (native/harness: mps2-an386 is a
 * Cortex-M4, mps2-an385 a Cortex-M3) over a sequence of int8 inputs, and reads
 * back the state after every step. The harness is built here with
 * arm-none-eabi-gcc; `nativeToolsMissing()` says what is absent when it cannot run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { readNativeState, type NativeContext, type NativeState } from '../native/context.ts';
import { NATIVE_DIR, type NativeCpu } from '../native/toolchain.ts';

export const MACHINE: { readonly [C in NativeCpu]: string } = { m4: 'mps2-an386', m3: 'mps2-an385' };
export const CPU_NAME: { readonly [C in NativeCpu]: string } = { m4: 'cortex-m4', m3: 'cortex-m3' };

let harness: string | undefined;

/** The harness ELF, built once per process (plain Cortex-M3 code: it runs on both boards). */
export function harnessElf(): string {
  if (harness) return harness;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-harness-'));
  const elf = path.join(dir, 'harness.elf');
  const src = path.join(NATIVE_DIR, 'harness');
  const flags = ['-std=c11', '-O2', '-mthumb', '-mcpu=cortex-m3', '-ffreestanding', '-fno-builtin', '-nostdlib', '-Wall', '-Werror'];
  execFileSync('arm-none-eabi-gcc', [...flags, '-T', path.join(src, 'mps2.ld'), path.join(src, 'harness.c'), '-o', elf]);
  harness = elf;
  return elf;
}

export interface NativeRun {
  /** The state after each step. */
  states: NativeState[];
  /** What QEMU printed on stderr (the counting plugin's lines, with `plugin`). */
  log: string;
}

/**
 * Runs `blob` on `cpu`'s board: the context, then one step per input vector
 * (inputs: steps × I int8 values). `plugin`: a qemu TCG plugin to load (qemu-count).
 */
export function runNative(blob: Uint8Array, ctx: NativeContext, inputs: Int8Array, cpu: NativeCpu, plugin?: string): NativeRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-native-'));
  try {
    fs.writeFileSync(path.join(dir, 'blob.bin'), blob);
    fs.writeFileSync(path.join(dir, 'ctx.bin'), ctx.bytes);
    fs.writeFileSync(path.join(dir, 'in.bin'), new Uint8Array(inputs.buffer, inputs.byteOffset, inputs.byteLength));
    const args = ['-M', MACHINE[cpu], '-cpu', CPU_NAME[cpu], '-nographic', '-monitor', 'none', '-serial', 'none'];
    args.push('-semihosting-config', 'enable=on,target=native', '-kernel', harnessElf());
    if (plugin) args.push('-plugin', plugin, '-d', 'plugin');
    const run = spawnSync('qemu-system-arm', args, { cwd: dir, timeout: 120_000, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`qemu ${MACHINE[cpu]}: exit ${run.status ?? run.signal}: ${run.stderr}`);
    const out = fs.readFileSync(path.join(dir, 'out.bin'));
    const { stateBytes } = ctx.plan;
    const steps = inputs.length / ctx.plan.inputSize;
    if (out.length !== steps * stateBytes)
      throw new Error(`qemu ${MACHINE[cpu]}: ${out.length} bytes of state, ${steps * stateBytes} expected`);
    const states = Array.from({ length: steps }, (_, t) => readNativeState(ctx.plan, out.subarray(t * stateBytes, (t + 1) * stateBytes)));
    return { states, log: run.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
