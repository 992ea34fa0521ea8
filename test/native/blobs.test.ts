/**
 * The committed kernel blobs (native/lstm-step-m4.bin, -m3.bin) are the build of
 * native/lstm-step.c by scripts/build-native.sh: rebuilt here and compared byte for
 * byte when Debian's gcc-arm-none-eabi is present (CI installs it). The build
 * itself refuses relocations that are not PC-relative, any data section, and a
 * compiler without -fwrapv or arithmetic shifts (the source asserts them).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { NATIVE_CPUS, NATIVE_DIR, ROOT, blobPath, nativeToolsMissing } from '../../native/toolchain.ts';

const missing = nativeToolsMissing(['arm-none-eabi-gcc', 'arm-none-eabi-objcopy', 'arm-none-eabi-readelf', 'arm-none-eabi-objdump']);
if (missing) console.log(`native blobs: rebuild skipped: ${missing}`);
const script = path.join(ROOT, 'scripts', 'build-native.sh');

describe.skipIf(missing !== '')('native kernel blobs', () => {
  it('are the build of native/lstm-step.c (scripts/build-native.sh), byte for byte', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-blobs-'));
    execFileSync(script, [out], { encoding: 'utf8' });
    const version = execFileSync('arm-none-eabi-gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    for (const cpu of NATIVE_CPUS) {
      const built = fs.readFileSync(path.join(out, `lstm-step-${cpu}.bin`));
      const committed = fs.readFileSync(blobPath(cpu));
      expect(built.length, `${cpu} built by ${version}`).toBeGreaterThan(0);
      expect(
        Buffer.compare(built, committed),
        `native/lstm-step-${cpu}.bin differs from its build by ${version}: run scripts/build-native.sh`,
      ).toBe(0);
    }
  });

  it('the M4 blob uses the DSP instructions and the M3 blob does not', () => {
    const disassemble = (cpu: 'm4' | 'm3') =>
      execFileSync('arm-none-eabi-objdump', ['-D', '-b', 'binary', '-m', 'arm', '-M', 'force-thumb', blobPath(cpu)], { encoding: 'utf8' });
    expect(disassemble('m4')).toMatch(/\bsmlad\b/);
    expect(disassemble('m4')).toMatch(/\bsxtb16\b/);
    expect(disassemble('m3')).not.toMatch(/\bsmlad\b|\bsxtb16\b/);
  });

  it('refuses to compile without -fwrapv or without optimisation', () => {
    const source = path.join(NATIVE_DIR, 'lstm-step.c');
    const compile = (flags: string[]) =>
      spawnSync(
        'arm-none-eabi-gcc',
        ['-std=c11', '-mthumb', '-mcpu=cortex-m4', '-ffreestanding', '-c', source, '-o', '/dev/null', ...flags],
        {
          encoding: 'utf8',
        },
      );
    expect(compile(['-O2', '-fwrapv']).status).toBe(0);
    const noWrap = compile(['-O2']);
    expect(noWrap.status).not.toBe(0);
    expect(noWrap.stderr).toContain('compile with -fwrapv');
    expect(compile(['-O0', '-fwrapv']).stderr).toContain('build with optimisation');
  });
});
