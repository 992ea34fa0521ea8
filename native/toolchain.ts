/**
 * Where the native kernel's files are, and whether the tools that build and run
 * it (Debian's gcc-arm-none-eabi, qemu-system-arm) are on PATH.
 */
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const NATIVE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(NATIVE_DIR, '..');
export type NativeCpu = 'm4' | 'm3';
export const NATIVE_CPUS: readonly NativeCpu[] = ['m4', 'm3'];

/** The committed blob of a CPU (scripts/build-native.sh builds it). */
export const blobPath = (cpu: NativeCpu): string => path.join(NATIVE_DIR, `lstm-step-${cpu}.bin`);

/** Whether `tool` is a command on PATH. */
export const onPath = (tool: string): boolean => spawnSync('sh', ['-c', 'command -v "$0"', tool]).status === 0;

/** The tools that are not on PATH, as one line (empty when all are there). */
export function nativeToolsMissing(tools: readonly string[]): string {
  const missing = tools.filter((t) => !onPath(t));
  return missing.length ? `${missing.join(', ')} not found (Debian: gcc-arm-none-eabi, qemu-system-arm)` : '';
}
