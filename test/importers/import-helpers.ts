/**
 * What the import tests share: the imported network's outputs as the
 * framework gives them, the largest difference, the CSV the models are
 * imported with, and an imported model's way through quantize, codegen and
 * simulate (int8 budget, exact parity).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { ImportedNetwork } from '../../importers/onnx-import.ts';
import { floatPredictWindow } from '../../reference/float-reference.ts';
import { runCli } from '../helpers/run-cli.ts';

/** The network's outputs on [batch][steps][features] inputs, with the head's activation applied (log-softmax: log of softmax). */
export function predict(net: ImportedNetwork, inputs: number[][][]): number[][] {
  return inputs.map((seq) => {
    const y = Array.from(floatPredictWindow(net.layers, net.head, seq.flat(), 0, seq.length));
    if (net.headActivation === 'sigmoid') return y.map((v) => 1 / (1 + Math.exp(-v)));
    if (net.headActivation === 'softmax') {
      const m = Math.max(...y);
      const e = y.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    }
    return y;
  });
}

export const worst = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, k) => Math.abs(v - b[i][k]))));

/** Parity runs of imported models: 40 test windows and 4 random sequences of 30 steps, on every engine found. */
export const SHORT_PARITY = ['--windows', '40', '--random-segments', '4', '--steps', '30'];

/** A CSV for the imported models in `dir`: three features, a two-class and a three-class label. */
export function writeSeriesCsv(dir: string): string {
  const csv = path.join(dir, 'series.csv');
  const rows = ['x0,x1,x2,two,three'];
  let seed = 9;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2;
  for (let t = 0; t < 500; t++) {
    const a = Math.sin(t / 7) + noise();
    const b = Math.cos(t / 11) + noise();
    const c = 0.5 * a * b + noise();
    rows.push(`${a.toFixed(4)},${b.toFixed(4)},${c.toFixed(4)},${a > 0.2 ? 1 : 0},${a > 0.5 ? 2 : a > -0.5 ? 1 : 0}`);
  }
  fs.writeFileSync(csv, rows.join('\n') + '\n');
  return csv;
}

/**
 * `import` (with `args` after the model and data), `quantize`, `codegen` and `simulate` in `out`: each succeeds, the
 * int8 metric is within the 3% budget, parity is exact (on ESPRUINO_BIN and JERRY_BIN too with `realEngines`). Returns import's stdout and quantize's metrics.
 */
export async function throughPipeline(
  model: string,
  csv: string,
  args: string[],
  out: string,
  dir: string,
  o: { realEngines?: boolean } = {},
) {
  const imp = await runCli(['import', model, '--data', csv, ...args, '--out', path.join(out, 'model.float.pb'), '--json'], dir);
  expect(imp.code, imp.stderr).toBe(0);
  // report.html beside the imported model: no training history of a model trained elsewhere, said in one line.
  const page = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  expect(page).toContain('<h1>lstm-mcu import: report</h1>');
  expect(page).toContain('Left out: an imported model was trained elsewhere: no training history here.');
  const q = await runCli(
    ['quantize', path.join(out, 'model.float.pb'), '--out', path.join(out, 'model.q.pb'), '--report', path.join(out, 'r.json'), '--json'],
    dir,
  );
  expect(q.code, q.stderr).toBe(0);
  const m = q.lastJson().metrics;
  if (m.name === 'rmse') expect(Math.abs(m.relativeChange)).toBeLessThan(0.03);
  else expect(m.float - m.int8).toBeLessThanOrEqual(0.03);
  const c = await runCli(['codegen', path.join(out, 'model.q.pb'), '--out-dir', out], dir);
  expect(c.code, c.stderr).toBe(0);
  const code = `${path.join(out, 'model.espruino.js')},${path.join(out, 'model.es5.js')}`;
  const s = await runCli(['simulate', path.join(out, 'model.q.pb'), '--code', code, ...SHORT_PARITY, '--json'], dir, o);
  expect(s.code, s.stderr).toBe(0);
  expect(s.lastJson().parity.mismatches).toBe(0);
  return { stdout: imp.stdout, importJson: imp.lastJson(), metrics: m, parityEngines: s.lastJson().parity.engines as string[] };
}

/** An import that must fail: exit 1, one line on stderr matching `message`, no file written. */
export async function refuseImport(model: string, csv: string, args: string[], message: RegExp, dir: string): Promise<void> {
  const out = path.join(dir, `refused-${Math.random().toString(36).slice(2)}.pb`);
  const r = await runCli(['import', model, '--data', csv, '--window', '7', ...args, '--out', out], dir);
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(fs.existsSync(out)).toBe(false);
}
