/**
 * The README's first command: `lstm-mcu demo` with its defaults, on the
 * built-in real sensor data. It must finish with exact parity on every
 * engine it runs and an int8 test RMSE within 3% of the float model's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';

describe('lstm-mcu demo (defaults, built-in data)', () => {
  it('trains, quantizes, generates and checks parity; int8 within 3% of float', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-demo-'));
    const r = await runCli(['demo', '--out', out, '--json', '--quiet'], os.tmpdir());
    expect(r.code, r.stderr).toBe(0);
    const summary = r.lastJson();
    console.log(
      `demo: rmse float ${summary.metrics.float}, int8 ${summary.metrics.int8}, persistence ${summary.metrics.persistence}; parity ${JSON.stringify(summary.parity)}; ${summary.seconds} s`,
    );
    expect(summary.parity.mismatches).toBe(0);
    expect(summary.parity.steps).toBeGreaterThan(1000);
    expect(summary.parity.engines).toEqual(expect.arrayContaining(['vm', 'vm+E']));
    if (process.env.CI) expect(summary.parity.engines).toContain('duk');
    expect(summary.metrics.name).toBe('rmse');
    expect(summary.metrics.int8).toBeLessThanOrEqual(summary.metrics.float * 1.03);
    for (const key of ['float', 'quantized', 'espruino', 'es5', 'html']) expect(fs.existsSync(summary.artifacts[key]), key).toBe(true);
    expect(summary.artifacts.html).toBe(path.join(out, 'report.html'));
    // The summary printed is the one written.
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toEqual(summary);
  }, 600_000);
});
