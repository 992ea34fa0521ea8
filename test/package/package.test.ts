/**
 * The package as a new user gets it: `npm pack` (which builds dist/ from the
 * sources), the tarball installed into an empty folder from the local npm
 * cache (the registry only for what the cache lacks), then `npx lstm-mcu demo`
 * on a small model and a script that imports the API and runs train ->
 * quantize -> generate -> simulate. The .d.ts are checked too: a TypeScript
 * file using the API compiles against the installed package.
 *
 * Slow (85 s on a quiet 2-core machine, 3 minutes under a load of 20; the
 * install most of it): the one test of what `files`, `exports` and the build
 * ship.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const require = createRequire(__filename);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command in `cwd`, without the real engines (the vm engines are what a new user has). */
function run(command: string, args: string[], cwd: string): Promise<Run> {
  const env = { ...process.env };
  for (const name of ['ESPRUINO_BIN', 'JERRY_BIN', 'BANGLE2_DIR', 'ESPRUINO_ARMHF_BIN']) delete env[name];
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the API script does: a small sine series, a 4-unit LSTM, both targets, parity on Node's vm. */
const API_SCRIPT = `
import fs from 'node:fs';
import { train, quantize, generate, simulate, bundle, defaultAppRules, parseSources, encodeFloatModel, sha256Hex, TARGETS, TOOL_VERSION } from 'lstm-mcu';

const rows = ['x'];
for (let i = 0; i < 600; i++) rows.push((Math.sin(i / 6) + 0.1 * Math.sin(i / 2.3)).toFixed(4));
fs.writeFileSync('series.csv', rows.join('\\n') + '\\n');

const { model, dataset, backend } = await train({
  data: 'series.csv', features: ['x'], task: 'regression', targets: ['x'], targetMode: 'level',
  window: 8, horizon: 1, split: { train: 0.7, validation: 0.15 }, missing: 'error',
  cell: 'lstm', layers: 1, units: 4, epochs: 2, batchSize: 64, learningRate: 0.01, patience: 5,
  seed: 1, backend: 'auto', quiet: true,
});
const { model: q, report } = quantize(model, dataset, { weightScale: 'per-row', floatModelSha256: sha256Hex(encodeFloatModel(model)) });
const files = generate(q, { targets: [...TARGETS], outDir: 'gen', baseName: 'model', globalName: 'lstmModel', modelSha256: '' });
const sources = files.map((f) => ({ target: f.target, code: f.code, globalName: 'lstmModel' }));
const parity = await simulate(q, sources, { randomSegments: 3, randomSteps: 20, seed: 1, engines: ['vm'] });
const config = { moduleName: 'lstm-model', sources: parseSources('temperature', q), intervalMs: 1000, ...defaultAppRules(q),
  console: true, advertise: false, display: false, resetButton: false };
const app = await bundle(q, { shell: 'espruino', modelSha256: '', generatorVersion: TOOL_VERSION, config, minify: true, appGlobal: 'lstmApp' });
console.log(JSON.stringify({
  backend, units: q.layers[0].units, floatTest: report.metrics.float, int8Test: report.metrics.int8,
  files: files.map((f) => [f.target, f.jsPath, f.code.length]), engines: parity.engines, steps: parity.steps, mismatches: parity.mismatches,
  bundle: { bytes: app.code.length, module: app.code.includes('lstm-model'), selfTest: app.expected.selfTest.length },
}));
`;

/**
 * A TypeScript user of the API: compiles against the .d.ts. TensorFlow.js's
 * own .d.ts do not pass a strict check (the project, too, skips library
 * checks), so a wrong call must fail as well: the stages are typed, not any.
 */
const TYPED_SCRIPT = `
import { generate, simulate, type QuantizedModel, type SimulateResult, type GeneratedFile } from 'lstm-mcu';
export async function check(q: QuantizedModel): Promise<SimulateResult> {
  const files: GeneratedFile[] = generate(q, { targets: ['es5'], outDir: '.', baseName: 'm', globalName: 'm', modelSha256: '' });
  return simulate(q, files.map((f) => ({ target: f.target, code: f.code, globalName: 'm' })), { randomSegments: 1, randomSteps: 5, seed: 1 });
}
`;
const WRONG_TARGET = TYPED_SCRIPT.replace("targets: ['es5']", "targets: ['es6']");

describe('the packed package, installed into an empty folder', () => {
  let tarball: string;
  let files: string[];
  let app: string;

  beforeAll(async () => {
    const t0 = performance.now();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-pack-'));
    const pack = await run('npm', ['pack', '--json', '--pack-destination', dir], root);
    expect(pack.code, pack.stderr).toBe(0);
    const packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(dir, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);
    const t1 = performance.now();
    app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'new-user', private: true, type: 'module' }));
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
    expect(install.code, install.stderr).toBe(0);
    console.log(`npm pack ${((t1 - t0) / 1000).toFixed(1)} s, npm install ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }, 600_000);

  it('holds the command, the compiled code with its .d.ts and run-time files, and no tests, snapshots, fixtures, benches or scripts', () => {
    const stray = files.filter(
      (f) => /(^|\/)(test|tests|bench|scripts|__snapshots__|fixtures|golden)\//.test(f) || /\.test\.|\.ts$/.test(f),
    );
    // .d.ts are the one TypeScript shipped.
    expect(stray.filter((f) => !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => !/^(bin|dist|docs|examples)\//.test(f) && !['package.json', 'README.md'].includes(f))).toEqual([]);
    for (const f of [
      'bin/lstm-mcu.js',
      'dist/cli/main.js',
      'dist/api/index.js',
      'dist/api/index.d.ts',
      'dist/trainer/wasm/recurrent.wasm',
      'dist/core/artifact.proto',
      'dist/importers/onnx.proto',
      'dist/codegen/es5/crc32.js',
      'dist/firmware/es5/lifecycle.js',
      'dist/parity/bangle2-run.cjs',
      'dist/native/lstm-step-m4.bin',
    ])
      expect(files, f).toContain(f);
  });

  it('npx lstm-mcu demo: a small model trained, quantized, generated, exact on the vm engines', async () => {
    const t0 = performance.now();
    const r = await run(
      'npx',
      ['lstm-mcu', 'demo', '--epochs', '1', '--units', '4', '--window', '8', '--out', 'out', '--json', '--quiet'],
      app,
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.log(`npx lstm-mcu demo: ${((performance.now() - t0) / 1000).toFixed(1)} s, parity ${JSON.stringify(summary.parity)}`);
    expect(summary.model.units).toBe(4);
    expect(summary.parity.mismatches).toBe(0);
    expect(summary.parity.engines).toEqual(expect.arrayContaining(['vm', 'vm+E']));
    for (const key of ['float', 'quantized', 'espruino', 'es5'])
      expect(fs.existsSync(path.join(app, summary.artifacts[key])), key).toBe(true);
  }, 600_000);

  it('a script imports the API and runs train -> quantize -> generate -> simulate', async () => {
    fs.writeFileSync(path.join(app, 'api.mjs'), API_SCRIPT);
    const t0 = performance.now();
    const r = await run(process.execPath, ['api.mjs'], app);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.log(`API script: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${JSON.stringify(out)}`);
    expect(out.units).toBe(4);
    expect(Number.isFinite(out.floatTest) && Number.isFinite(out.int8Test)).toBe(true);
    expect(out.files.map((f: [string]) => f[0])).toEqual(['espruino', 'es5']);
    expect(out.engines).toEqual(['vm']);
    expect(out.steps).toBeGreaterThan(0);
    expect(out.mismatches).toBe(0);
    expect(out.bundle.module).toBe(true);
    expect(out.bundle.selfTest).toBeGreaterThan(0);
  }, 600_000);

  it('the .d.ts type a TypeScript user of the API, and refuse a wrong call', async () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const typeRoots = path.join(path.dirname(require.resolve('@types/node/package.json')), '..');
    const check = (file: string, text: string) => {
      fs.writeFileSync(path.join(app, file), text);
      const options = [
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
      ];
      return run(process.execPath, [tsc, ...options, '--typeRoots', typeRoots, '--types', 'node', file], app);
    };
    const typed = await check('typed.ts', TYPED_SCRIPT);
    expect(typed.code, typed.stdout + typed.stderr).toBe(0);
    const wrong = await check('wrong.ts', WRONG_TARGET);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toMatch(/wrong\.ts\(\d+,\d+\): error TS2322: Type '"es6"' is not assignable to type 'Target'/);
  }, 120_000);
});
