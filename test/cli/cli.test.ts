/**
 * The command line as a user meets it: help on every command, one-line
 * errors with a non-zero exit for bad flags, files and values, no partial
 * output, and the whole path on a small CSV with a --json summary.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';

const COMMANDS = ['demo', 'train', 'quantize', 'codegen', 'simulate', 'handmade'];
const run = (args: string[]) => runCli(args, tmp);

let tmp = '';
let csv = '';
/** The same series with ';' between fields. */
let semicolonCsv = '';

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-cli-'));
  // A small sensor-like series: two noisy sines and a slow drift, 600 rows.
  const rows = ['t,a,b'];
  for (let t = 0; t < 600; t++) {
    const a = Math.sin(t / 9) + 0.1 * Math.sin(t * 1.7);
    const b = Math.cos(t / 13) + t / 600;
    rows.push(`${t},${a.toFixed(4)},${b.toFixed(4)}`);
  }
  csv = path.join(tmp, 'series.csv');
  fs.writeFileSync(csv, rows.join('\n') + '\n');
  semicolonCsv = path.join(tmp, 'series-semicolon.csv');
  fs.writeFileSync(semicolonCsv, rows.map((r) => r.replaceAll(',', ';')).join('\n') + '\n');
});

/** Every file under the temp dir (to prove that a failing command wrote nothing). */
const filesIn = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).sort();

describe('help', () => {
  it.each(COMMANDS)('%s --help', async (cmd) => {
    const r = await run([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: lstm-mcu ${cmd}`);
  });
});

describe('bad input gives one line, a non-zero exit and no files', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['train', '--unknown-flag'], /unknown option '--unknown-flag'/],
    ['non-integer units', ['train', '--data', 'x.csv', '--units', 'abc'], /--units.*expected an integer from 1 to 512, got 'abc'/],
    ['zero window', ['demo', '--window', '0'], /--window.*expected an integer from 1/],
    ['bad split', ['demo', '--split', '0.9,0.2'], /--split.*sum below 1/],
    ['missing data file', ['train', '--data', 'nope.csv', '--features', 'a', '--target', 'a'], /nope\.csv/],
    ['missing column', ['train', '--data', '@CSV', '--features', 'a,zzz', '--target', 'a', '--epochs', '1'], /zzz/],
    ['no target', ['train', '--data', '@CSV', '--features', 'a'], /--target .* or --label/],
    ['missing model', ['quantize', 'missing.pb'], /missing\.pb: no such file/],
    ['not an artifact', ['codegen', '@CSV'], /series\.csv: .*(not an lstm-mcu|artifact)/i],
    ['unknown engine', ['simulate', 'x.pb', '--engines', 'v8'], /unknown engine v8/],
    ['bad global name', ['codegen', 'x.pb', '--global', '1abc'], /--global '1abc' is not a JavaScript identifier/],
    [
      'reserved global name',
      ['codegen', 'x.pb', '--global', 'if'],
      /--global 'if' is a reserved word or a global the module or the board reads/,
    ],
    ['global name the module reads', ['codegen', 'x.pb', '--global', 'Math'], /--global 'Math' is a reserved word/],
    [
      'a host step for the espruino module',
      ['codegen', 'x.pb', '--target', 'espruino', '--native', 'host'],
      /--native host is for the es5 target \(a JerryScript host's lstmNativeStep\), not --target espruino/,
    ],
    ['bad cell', ['train', '--cell', 'tcn'], /--cell.*expected one of lstm, peephole, cifg, gru, gru-reset-after, rnn/],
    ['handmade not JSON', ['handmade', '@CSV'], /series\.csv: not valid JSON/],
    [
      'empty group',
      ['demo', '--data', '@CSV', '--features', 'a', '--target', 'a', '--group', ''],
      /--group: expected a column name, got an empty string/,
    ],
    [
      'interval and time',
      ['train', '--data', '@CSV', '--features', 'a', '--target', 'a', '--interval', '1000', '--time', 't'],
      /--interval and --time both give the sampling period/,
    ],
    ['bad deploy', ['quantize', 'x.pb', '--deploy', 'sometimes'], /--deploy.*expected one of auto, stream, window/],
    [
      'model written over its data',
      ['train', '--data', '@CSV', '--features', 'a', '--target', 'a', '--out', '@CSV'],
      /--out '.*series\.csv' is the same file as the input --data: give them different names/,
    ],
    [
      'report over the model it reads',
      ['quantize', 'x.pb', '--report', 'x.pb'],
      /--report 'x\.pb' is the same file as the input float model/,
    ],
    [
      'two outputs in one file',
      ['quantize', 'x.pb', '--out', 'same.pb', '--report', 'same.pb'],
      /--report 'same\.pb' is the same file as --out/,
    ],
    ['bad delimiter', ['train', '--delimiter', '|'], /--delimiter.*expected ',', ';' or tab, got '\|'/],
    [
      'a semicolon CSV read with commas',
      ['train', '--data', '@SEMI', '--features', 'a', '--target', 'a'],
      /unknown column 'a'; available columns: 't;a;b' \(the header is one column holding ';': pass --delimiter ';'\)/,
    ],
    ['report and JSON both on stdout', ['quantize', 'x.pb', '--report', '-', '--json'], /--report - and --json both write to stdout/],
    [
      'clock periods for another cell',
      ['train', '--data', '@CSV', '--features', 'a', '--target', 'a', '--clock-periods', '1,2'],
      /--clock-periods is for --cell clockwork \(the cell is lstm\)/,
    ],
    [
      'clock periods not integers',
      ['train', '--clock-periods', '1,x'],
      /--clock-periods.*expected comma-separated integers from 1 to 32767/,
    ],
    [
      'clock periods and a clock base',
      ['train', '--data', '@CSV', '--features', 'a', '--target', 'a', '--cell', 'clockwork', '--clock-periods', '1,2', '--clock-base', '3'],
      /--clock-periods gives the periods itself: leave out --clock-base and --clock-modules/,
    ],
    [
      'clockwork units that do not split into its modules',
      ['train', '--data', '@CSV', '--features', 'a', '--target', 'a', '--cell', 'clockwork', '--units', '6'],
      /--cell clockwork: 6 units do not split into 4 modules of equal size \(one per clock period\)/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const before = filesIn(tmp);
    const r = await run(args.map((a) => (a === '@CSV' ? csv : a === '@SEMI' ? semicolonCsv : a)));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    const errorLines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('(run with --help'));
    expect(errorLines.length, r.stderr).toBe(1);
    expect(filesIn(tmp)).toEqual(before);
  });
});

describe('--delimiter', () => {
  it("train reads a ';' CSV, and quantize re-reads it with the delimiter the model recorded", async () => {
    const args = ['--features', 'a,b', '--target', 'a', '--window', '8', '--units', '4', '--epochs', '1', '--quiet'];
    const train = await run(['train', '--data', semicolonCsv, '--delimiter', ';', ...args, '--out', 'semi.float.pb', '--json']);
    expect(train.code, train.stderr).toBe(0);
    // the same windows as the comma file: the same data read the same way
    const comma = await run(['train', '--data', csv, ...args, '--out', 'comma.float.pb', '--json']);
    expect(train.lastJson().windows).toEqual(comma.lastJson().windows);
    const quant = await run(['quantize', 'semi.float.pb', '--out', 'semi.q.pb', '--no-report', '--json']);
    expect(quant.code, quant.stderr).toBe(0);
  });
});

describe('train -> quantize -> codegen -> simulate on a small CSV', () => {
  it('writes every artifact, reports metrics and exact parity as JSON', async () => {
    const train = await run([
      'train',
      '--data',
      csv,
      '--features',
      'a,b',
      '--target',
      'a',
      '--window',
      '8',
      '--units',
      '4',
      '--epochs',
      '3',
      '--batch-size',
      '32',
      '--interval',
      '60000',
      '--out',
      'm.float.pb',
      '--json',
      '--quiet',
    ]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.lastJson()).toMatchObject({ command: 'train', artifact: 'm.float.pb', metrics: { name: 'rmse' } });
    // train says what the int8 model would deliver, streamed, against its baselines, and how it would run.
    const t = train.lastJson();
    expect(t.streamed).toMatchObject({ task: 'regression', split: 'test', series: 1 });
    expect(t.streamed.baselines[0].name).toBe('persistence');
    expect(t.streamed.beats).toBe(t.streamed.baselines.every((b: { value: number }) => t.streamed.int8 < b.value));
    expect(['stream', 'window']).toContain(t.deployment.deployment);
    expect(t.epochs.kept).toBeGreaterThanOrEqual(1);
    // report.html beside the model: the losses of every epoch run, drawn.
    const trained = fs.readFileSync(path.join(tmp, 'report.html'), 'utf8');
    expect(trained).toContain('<h1>lstm-mcu train: report</h1>');
    expect(trained).toMatch(/Loss per epoch \(epoch \d+ kept: the best validation loss\)/);

    const quant = await run(['quantize', 'm.float.pb', '--out', 'm.q.pb', '--report', 'report.json', '--json']);
    expect(quant.code, quant.stderr).toBe(0);
    // quantize's report.html: a float artifact keeps no training history, said in one line.
    const quantized = fs.readFileSync(path.join(tmp, 'report.html'), 'utf8');
    expect(quantized).toContain('<h1>lstm-mcu quantize: report</h1>');
    expect(quantized).toContain('Left out: quantize reads a float artifact, which keeps no training history (train and demo draw it).');
    const q = quant.lastJson();
    expect(q.metrics.name).toBe('rmse');
    expect(Number.isFinite(q.metrics.float) && Number.isFinite(q.metrics.int8)).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(tmp, 'report.json'), 'utf8'));
    expect(report.tensorErrors.map((e: { name: string }) => e.name)).toContain('cell');
    // --report -: stdout is the report alone (the lines go to stderr); --no-report writes none
    const toStdout = await run(['quantize', 'm.float.pb', '--out', 'm2.q.pb', '--report', '-']);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(JSON.parse(toStdout.stdout).metrics).toEqual(report.metrics);
    expect(toStdout.stderr).toMatch(/^wrote m2\.q\.pb$/m);
    fs.rmSync(path.join(tmp, 'report.html'));
    const before = filesIn(tmp);
    const none = await run(['quantize', 'm.float.pb', '--out', 'm2.q.pb', '--no-report', '--json', '--quiet']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr, 'quantize --quiet prints no progress').toBe('');
    expect(none.lastJson().report).toBeNull();
    expect(filesIn(tmp)).toEqual(before);

    // The sampling period given at training is the bundle's default; the data path is stored whole.
    fs.writeFileSync(path.join(tmp, 'reader.js'), 'function readSensor(out) { out[0] = 0; out[1] = 0; }\n');
    const bundle = await run([
      'bundle',
      '--model',
      'm.q.pb',
      '--source',
      'function',
      '--reader',
      'reader.js',
      '--no-minify',
      '--out',
      'app.js',
    ]);
    expect(bundle.code, bundle.stderr).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'app.js'), 'utf8')).toContain('setInterval(sample, 60000)');
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'report.json'), 'utf8')).streamed.split).toBe('test');

    // a Storage file named like the module would overwrite it with binary weights: refused, nothing written
    const clash = await run(['codegen', 'm.q.pb', '--out-dir', 'clash', '--weights', 'flash', '--flash-file', 'model.espruino.js']);
    expect(clash.code).toBe(1);
    expect(clash.stderr.trim()).toMatch(
      /^lstm-mcu codegen: error: --flash-file '.*model\.espruino\.js' is the same file as the espruino module/,
    );
    expect(fs.existsSync(path.join(tmp, 'clash'))).toBe(false);
    const gen = await run(['codegen', 'm.q.pb', '--out-dir', 'gen', '--json']);
    expect(gen.code, gen.stderr).toBe(0);
    for (const f of ['model.espruino.js', 'model.es5.js', 'model.espruino.d.ts', 'model.es5.d.ts'])
      expect(fs.existsSync(path.join(tmp, 'gen', f))).toBe(true);

    // one target that cannot be written (the last one, a folder): the files of the model there before stay, all of them
    const stale = path.join(tmp, 'stale');
    fs.mkdirSync(path.join(stale, 'model.es5.d.ts'), { recursive: true });
    const old = ['model.espruino.js', 'model.espruino.d.ts', 'model.es5.js'].map((f) => {
      fs.writeFileSync(path.join(stale, f), `// the previous model's ${f}\n`);
      return fs.readFileSync(path.join(stale, f), 'utf8');
    });
    const cut = await run(['codegen', 'm.q.pb', '--out-dir', 'stale']);
    expect(cut.code).toBe(1);
    expect(cut.stderr.trim().split('\n').at(-1)).toMatch(/^lstm-mcu codegen: error: cannot write .*model\.es5\.d\.ts: it is a directory$/);
    expect(['model.espruino.js', 'model.espruino.d.ts', 'model.es5.js'].map((f) => fs.readFileSync(path.join(stale, f), 'utf8'))).toEqual(
      old,
    );
    expect(fs.readdirSync(stale).sort()).toEqual(['model.es5.d.ts', 'model.es5.js', 'model.espruino.d.ts', 'model.espruino.js']);

    // simulate on every engine here, the real interpreters too when they are set
    const sim = await runCli(['simulate', 'm.q.pb', '--code', 'gen/model.espruino.js,gen/model.es5.js', '--windows', '20', '--json'], tmp, {
      realEngines: true,
    });
    expect(sim.code, sim.stdout + sim.stderr).toBe(0);
    const p = sim.lastJson().parity;
    expect(p.mismatches).toBe(0);
    expect(p.engines).toContain('vm');
    if (process.env.ESPRUINO_BIN) expect(p.engines).toContain('espruino');
    if (process.env.JERRY_BIN) expect(p.engines).toContain('jerry');
    // 20 test windows, the test series from its first reading (up to --streams 500 steps), 20 random sequences of 50.
    const streamed = sim.lastJson().streamed;
    expect(streamed.series).toBe(1);
    expect(p.steps).toBe(20 * 8 + Math.min(500, streamed.readings) + 20 * 50);

    // Engines not asked for are neither run nor reported; progress goes to stderr.
    const vmOnly = await run([
      'simulate',
      'm.q.pb',
      '--engines',
      'vm',
      '--windows',
      '2',
      '--streams',
      '10',
      '--random-segments',
      '1',
      '--json',
    ]);
    expect(vmOnly.code, vmOnly.stderr).toBe(0);
    expect(vmOnly.lastJson().parity).toMatchObject({ engines: ['vm'], skipped: [] });
    expect(vmOnly.stderr).toMatch(/simulate: 1\/2 espruino on vm/);
    // The model finds its CSV from another directory (the path is stored whole).
    const rel = await runCli(
      [
        'train',
        '--data',
        'series.csv',
        '--features',
        'a',
        '--target',
        'a',
        '--window',
        '4',
        '--units',
        '2',
        '--epochs',
        '1',
        '--out',
        'rel.float.pb',
        '--quiet',
      ],
      tmp,
    );
    expect(rel.code, rel.stderr).toBe(0);
    const elsewhere = await runCli(
      ['quantize', path.join(tmp, 'rel.float.pb'), '--out', path.join(tmp, 'rel.q.pb'), '--report', path.join(tmp, 'rel.json')],
      os.tmpdir(),
    );
    expect(elsewhere.code, elsewhere.stderr).toBe(0);

    // A generated file from another model is refused.
    const other = await run([
      'train',
      '--data',
      csv,
      '--features',
      'a,b',
      '--target',
      'b',
      '--window',
      '8',
      '--units',
      '3',
      '--epochs',
      '1',
      '--out',
      'other.float.pb',
      '--quiet',
    ]);
    expect(other.code).toBe(0);
    expect((await run(['quantize', 'other.float.pb', '--out', 'other.q.pb', '--report', 'other.json'])).code).toBe(0);
    const wrong = await run(['simulate', 'other.q.pb', '--code', 'gen/model.es5.js']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/generated from another model/);
  });

  it('classification from a label column: accuracy float vs int8, exact parity', async () => {
    const rows = ['a,b,state'];
    for (let t = 0; t < 600; t++) {
      const a = Math.sin(t / 7);
      rows.push(`${a.toFixed(4)},${Math.cos(t / 5).toFixed(4)},${a > 0.3 ? 2 : a < -0.3 ? 0 : 1}`);
    }
    fs.writeFileSync(path.join(tmp, 'classes.csv'), rows.join('\n') + '\n');
    // A classifier of a, b on this CSV; each run adds its own options.
    const classifier = [
      'train',
      '--data',
      'classes.csv',
      '--features',
      'a,b',
      '--label',
      'state',
      '--horizon',
      '0',
      '--window',
      '6',
      '--units',
      '6',
    ];
    const train = await run([...classifier, '--epochs', '4', '--batch-size', '32', '--out', 'c.float.pb', '--json', '--quiet']);
    expect(train.code, train.stderr).toBe(0);
    expect(train.lastJson().metrics.name).toBe('accuracy');
    const quant = await run(['quantize', 'c.float.pb', '--out', 'c.q.pb', '--report', 'c.json', '--json']);
    expect(quant.code, quant.stderr).toBe(0);
    const m = quant.lastJson().metrics;
    expect(m.name).toBe('accuracy');
    expect(m.float).toBeGreaterThan(0.5); // three classes: chance is 1/3
    expect(m.int8).toBeGreaterThan(0.5);
    // Streamed, against the majority class and the previous label, per class and as a confusion matrix.
    expect(quant.stdout).toMatch(/^baselines +majority class \(\d\) [\d.]+, previous label [\d.]+: the model (beats|does NOT beat)/m);
    expect(quant.stdout).toMatch(/^per class +0: precision \S+ recall \S+ \(\d+\); 1: .*; 2: /m);
    expect(quant.stdout).toMatch(/^confusion +rows true, columns predicted: \[\d+ \d+ \d+\] \[\d+ \d+ \d+\] \[\d+ \d+ \d+\]$/m);
    const s = quant.lastJson().streamed;
    expect(s.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(s.points);
    const weighted = await run([...classifier, '--epochs', '1', '--class-weights', 'balanced', '--out', 'cw.float.pb', '--quiet']);
    expect(weighted.code, weighted.stderr).toBe(0);
    const refused = await run([
      'train',
      '--data',
      'classes.csv',
      '--features',
      'a',
      '--target',
      'b',
      '--epochs',
      '1',
      '--class-weights',
      'balanced',
      '--out',
      'cw2.float.pb',
      '--quiet',
    ]);
    expect(refused.stderr).toMatch(/--class-weights is for classification/);
    const sim = await run(['simulate', 'c.q.pb', '--windows', '20', '--json']);
    expect(sim.code, sim.stdout + sim.stderr).toBe(0);
    expect(sim.lastJson().parity.mismatches).toBe(0);
  });

  it('text class labels reach the model, the generated module, the app and --alert-class', async () => {
    const rows = ['a,b,weather'];
    for (let t = 0; t < 600; t++) {
      const a = Math.sin(t / 7);
      rows.push(`${a.toFixed(4)},${Math.cos(t / 5).toFixed(4)},${a > 0.3 ? 'sun' : a < -0.3 ? '"rain, heavy"' : 'cloud'}`);
    }
    fs.writeFileSync(path.join(tmp, 'weather.csv'), rows.join('\n') + '\n');
    const train = await run([
      'train',
      '--data',
      'weather.csv',
      '--features',
      'a,b',
      '--label',
      'weather',
      '--horizon',
      '0',
      '--window',
      '6',
      '--units',
      '6',
      '--epochs',
      '2',
      '--out',
      'w.float.pb',
      '--json',
      '--quiet',
    ]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/^per class +cloud: precision \S+ recall \S+ \(\d+\); rain, heavy: .*; sun: /m);
    expect((await run(['quantize', 'w.float.pb', '--out', 'w.q.pb', '--report', 'w.json'])).code).toBe(0);
    const gen = await run(['codegen', 'w.q.pb', '--out-dir', 'wgen', '--target', 'es5']);
    expect(gen.code, gen.stderr).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'wgen', 'model.es5.d.ts'), 'utf8')).toMatch(
      /"classLabels": \[\s*"cloud",\s*"rain, heavy",\s*"sun"\s*\]/,
    );
    fs.writeFileSync(path.join(tmp, 'wreader.js'), 'function readSensor(out) { out[0] = 0; out[1] = 0; }\n');
    const bundle = await run([
      'bundle',
      '--model',
      'w.q.pb',
      '--source',
      'function',
      '--reader',
      'wreader.js',
      '--alert-class',
      'rain, heavy',
      '--alert-above',
      '0.5',
      '--no-minify',
      '--out',
      'wapp.js',
    ]);
    expect(bundle.code, bundle.stderr).toBe(0);
    const app = fs.readFileSync(path.join(tmp, 'wapp.js'), 'utf8');
    expect(app).toContain('var LABELS = ["cloud", "rain, heavy", "sun"];');
    expect(app).toContain('// score: probability of class rain, heavy');
    const wrong = await run([
      'bundle',
      '--model',
      'w.q.pb',
      '--source',
      'function',
      '--reader',
      'wreader.js',
      '--alert-class',
      'snow',
      '--out',
      'wapp2.js',
    ]);
    expect(wrong.stderr).toMatch(/--alert-class 'snow': the model's classes are cloud, rain, heavy, sun/);
  });

  it('--layers 2 --cell cifg: a stacked model through every command, per-layer report, exact parity', async () => {
    const train = await run([
      'train',
      '--data',
      csv,
      '--features',
      'a,b',
      '--target',
      'a',
      '--window',
      '8',
      '--cell',
      'cifg',
      '--layers',
      '2',
      '--units',
      '4',
      '--epochs',
      '2',
      '--batch-size',
      '32',
      '--out',
      's.float.pb',
      '--json',
      '--quiet',
    ]);
    expect(train.code, train.stderr).toBe(0);
    const quant = await run(['quantize', 's.float.pb', '--out', 's.q.pb', '--report', 's.json', '--json']);
    expect(quant.code, quant.stderr).toBe(0);
    expect(quant.lastJson().scheme.layers.map((l: { cell: string }) => l.cell)).toEqual(['cifg', 'cifg']);
    const report = JSON.parse(fs.readFileSync(path.join(tmp, 's.json'), 'utf8'));
    const names = report.tensorErrors.map((e: { name: string }) => e.name);
    for (const n of ['layer0.cell', 'layer1.cell', 'layer1.gate.forget', 'layer1.hidden']) expect(names).toContain(n);
    const gen = await run(['codegen', 's.q.pb', '--out-dir', 'sgen', '--json']);
    expect(gen.code, gen.stderr).toBe(0);
    const sim = await run(['simulate', 's.q.pb', '--code', 'sgen/model.espruino.js,sgen/model.es5.js', '--windows', '10', '--json']);
    expect(sim.code, sim.stdout + sim.stderr).toBe(0);
    expect(sim.lastJson().parity.mismatches).toBe(0);
    expect((await run(['train', '--layers', '0'])).stderr).toMatch(/--layers.*expected an integer from 1 to 8/);
  });

  it('--head sigmoid on two classes: one logit, accuracy float vs int8, exact parity; wrong heads are refused', async () => {
    const rows = ['a,b,flag'];
    for (let t = 0; t < 600; t++) {
      const a = Math.sin(t / 7);
      rows.push(`${a.toFixed(4)},${Math.cos(t / 5).toFixed(4)},${a > 0.2 ? 1 : 0}`);
    }
    fs.writeFileSync(path.join(tmp, 'flags.csv'), rows.join('\n') + '\n');
    const common = [
      '--data',
      'flags.csv',
      '--features',
      'a,b',
      '--label',
      'flag',
      '--horizon',
      '0',
      '--window',
      '6',
      '--units',
      '6',
      '--epochs',
      '4',
      '--batch-size',
      '32',
      '--quiet',
    ];
    const train = await run(['train', ...common, '--head', 'sigmoid', '--out', 'f.float.pb']);
    expect(train.code, train.stderr).toBe(0);
    const quant = await run(['quantize', 'f.float.pb', '--out', 'f.q.pb', '--report', 'f.json', '--json']);
    expect(quant.code, quant.stderr).toBe(0);
    const m = quant.lastJson().metrics;
    expect(m.name).toBe('accuracy');
    expect(m.float).toBeGreaterThan(0.75);
    expect(m.int8).toBeGreaterThan(0.75);
    const gen = await run(['codegen', 'f.q.pb', '--out-dir', 'fgen']);
    expect(gen.code, gen.stderr).toBe(0);
    const info = fs.readFileSync(path.join(tmp, 'fgen', 'model.es5.d.ts'), 'utf8');
    expect(info).toContain('"headActivation": "sigmoid"');
    expect(info).toContain('"outputSize": 1');
    const sim = await run(['simulate', 'f.q.pb', '--code', 'fgen/model.es5.js', '--windows', '10', '--json']);
    expect(sim.lastJson().parity.mismatches).toBe(0);
    fs.writeFileSync(
      path.join(tmp, 'three.csv'),
      rows.map((r, t) => (t === 0 ? 'a,b,state' : `${r.split(',').slice(0, 2).join(',')},${t % 3}`)).join('\n') + '\n',
    );
    const threeClasses = await run([
      'train',
      '--data',
      'three.csv',
      '--features',
      'a,b',
      '--label',
      'state',
      '--horizon',
      '0',
      '--window',
      '6',
      '--head',
      'sigmoid',
      '--epochs',
      '1',
      '--out',
      'x.pb',
    ]);
    expect(threeClasses.code).not.toBe(0);
    expect(threeClasses.stderr).toMatch(/a sigmoid head needs exactly two classes; the label column has 3 \(0, 1, 2\): use --head softmax/);
    const regression = await run([
      'train',
      '--data',
      csv,
      '--features',
      'a',
      '--target',
      'a',
      '--head',
      'softmax',
      '--epochs',
      '1',
      '--out',
      'x.pb',
    ]);
    expect(regression.stderr).toMatch(/a softmax head is for classification \(--label\); regression targets use the linear head/);
    expect(fs.existsSync(path.join(tmp, 'x.pb'))).toBe(false);
  });

  it('--sequence many-to-many: a flag for every reading, accuracy over every step, exact parity', async () => {
    const rows = ['a,b,flag'];
    for (let t = 0; t < 500; t++) {
      const a = Math.sin(t / 6);
      rows.push(`${a.toFixed(4)},${Math.cos(t / 4).toFixed(4)},${a > 0.5 ? 1 : 0}`);
    }
    fs.writeFileSync(path.join(tmp, 'perstep.csv'), rows.join('\n') + '\n');
    const train = await run([
      'train',
      '--data',
      'perstep.csv',
      '--features',
      'a,b',
      '--label',
      'flag',
      '--horizon',
      '0',
      '--window',
      '8',
      '--sequence',
      'many-to-many',
      '--head',
      'sigmoid',
      '--units',
      '6',
      '--epochs',
      '4',
      '--batch-size',
      '32',
      '--out',
      'p.float.pb',
      '--quiet',
      '--json',
    ]);
    expect(train.code, train.stderr).toBe(0);
    const quant = await run(['quantize', 'p.float.pb', '--out', 'p.q.pb', '--report', 'p.json', '--json']);
    expect(quant.code, quant.stderr).toBe(0);
    const m = quant.lastJson().metrics;
    expect(m.float).toBeGreaterThan(0.8);
    expect(m.int8).toBeGreaterThan(0.8);
    expect((await run(['codegen', 'p.q.pb', '--out-dir', 'pgen'])).code).toBe(0);
    const sim = await run(['simulate', 'p.q.pb', '--code', 'pgen/model.es5.js', '--windows', '10', '--json']);
    expect(sim.lastJson().parity.mismatches).toBe(0);
    const bad = await run([
      'train',
      '--data',
      'perstep.csv',
      '--features',
      'a,b',
      '--label',
      'flag',
      '--horizon',
      '0',
      '--window',
      '8',
      '--sequence',
      'many-to-many',
      '--bidirectional',
      '--epochs',
      '1',
      '--out',
      'x.pb',
    ]);
    expect(bad.stderr).toMatch(/--sequence many-to-many needs a streaming model/);
  });

  it('--sequence one-to-many: the generated module forecasts by feeding back; a target that is not a feature is refused', async () => {
    const train = await run([
      'train',
      '--data',
      csv,
      '--features',
      'a,b',
      '--target',
      'a',
      '--window',
      '8',
      '--sequence',
      'one-to-many',
      '--units',
      '4',
      '--epochs',
      '2',
      '--batch-size',
      '32',
      '--out',
      'o.float.pb',
      '--quiet',
    ]);
    expect(train.code, train.stderr).toBe(0);
    const quant = await run(['quantize', 'o.float.pb', '--out', 'o.q.pb', '--report', 'o.json', '--json']);
    expect(quant.code, quant.stderr).toBe(0);
    // Multi-step forecasts, fed back as on the device, scored against the readings that followed.
    const f = quant.lastJson().forecast;
    expect(f.steps).toBe(5);
    expect(f.windows).toBeGreaterThan(10);
    for (const v of [f.float, f.int8, f.persistence]) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect((await run(['codegen', 'o.q.pb', '--out-dir', 'ogen'])).code).toBe(0);
    const code = fs.readFileSync(path.join(tmp, 'ogen', 'model.es5.js'), 'utf8');
    expect(code).toContain('function forecast(n, out)');
    expect(code).toContain('feedback: output 0 -> a');
    expect(fs.readFileSync(path.join(tmp, 'ogen', 'model.es5.d.ts'), 'utf8')).toContain('export declare function forecast(n: number');
    const bad = await run([
      'train',
      '--data',
      csv,
      '--features',
      'b',
      '--target',
      'a',
      '--window',
      '8',
      '--sequence',
      'one-to-many',
      '--epochs',
      '1',
      '--out',
      'x.pb',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--sequence one-to-many feeds each forecast back as an input: target a must also be a feature/);
  });

  it('--bidirectional sum: a window model through every command, exact parity', async () => {
    const train = await run([
      'train',
      '--data',
      csv,
      '--features',
      'a,b',
      '--target',
      'a',
      '--window',
      '6',
      '--cell',
      'gru',
      '--bidirectional',
      'sum',
      '--units',
      '4',
      '--epochs',
      '2',
      '--batch-size',
      '32',
      '--out',
      'b.float.pb',
      '--quiet',
    ]);
    expect(train.code, train.stderr).toBe(0);
    expect((await run(['quantize', 'b.float.pb', '--out', 'b.q.pb', '--report', 'b.json'])).code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(tmp, 'b.json'), 'utf8'));
    expect(report.calibration.map((r: { name: string }) => r.name)).toContain('backward.gate.reset.preactivation');
    const gen = await run(['codegen', 'b.q.pb', '--out-dir', 'bgen']);
    expect(gen.code, gen.stderr).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'bgen', 'model.es5.js'), 'utf8')).toContain('bidirectional (sum) GRU');
    const sim = await run(['simulate', 'b.q.pb', '--code', 'bgen/model.espruino.js,bgen/model.es5.js', '--windows', '8', '--json']);
    expect(sim.code, sim.stdout + sim.stderr).toBe(0);
    expect(sim.lastJson().parity.mismatches).toBe(0);
    expect((await run(['train', '--bidirectional', 'avg'])).stderr).toMatch(/--bidirectional.*expected one of concat, sum/);
  });

  it('handmade: the memory LSTM from JSON, its example exact on every engine', async () => {
    const example = path.resolve(__dirname, '../../examples/seed-004-memory.json');
    const r = await run(['handmade', example, '--out-dir', 'hm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = r.lastJson();
    expect(s.mismatches).toBe(0);
    expect(s.example.device.map((y: number[]) => Math.round(y[0]))).toEqual([0, 0, 0, 0, 0, 7, 0, 0, 6]);
    for (const f of ['model.float.pb', 'model.q.pb', 'model.espruino.js', 'model.es5.js'])
      expect(fs.existsSync(path.join(tmp, 'hm', f))).toBe(true);
    // Its float model has no training data to calibrate on: quantize says so in one line.
    const q = await run(['quantize', 'hm/model.float.pb', '--out', 'hm/again.q.pb']);
    expect(q.code).not.toBe(0);
    expect(q.stderr).toMatch(/a hand-written model has no training data/);
    expect(fs.existsSync(path.join(tmp, 'hm', 'again.q.pb'))).toBe(false);
    // simulate asked for test windows it cannot have: it says why and checks the random sequences.
    const sim = await run(['simulate', 'hm/model.q.pb', '--windows', '5', '--random-segments', '2', '--steps', '10', '--engines', 'vm']);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toMatch(/windows: none replayed \(.*a hand-written model has no training data/);
    expect(sim.stdout).toMatch(/parity: exact on vm \(20 steps each\)/);
  });

  it('refuses an output path that cannot be written, leaving nothing behind', async () => {
    fs.writeFileSync(path.join(tmp, 'afile'), 'x');
    const r = await run([
      'train',
      '--data',
      csv,
      '--features',
      'a',
      '--target',
      'a',
      '--window',
      '4',
      '--units',
      '2',
      '--epochs',
      '1',
      '--out',
      'afile/m.pb',
      '--quiet',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot write afile\/m\.pb/);
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('a reader that closes early', () => {
  it('ends the output quietly (exit 0, no stack trace) where a plain process dies of EPIPE', async () => {
    const { execFile } = await import('node:child_process');
    const script = (quiet: boolean) =>
      `${quiet ? `import { endQuietlyOnEpipe } from ${JSON.stringify(path.resolve(__dirname, '../../cli/quiet-epipe.ts'))}; endQuietlyOnEpipe();` : ''} process.stdout.write('line\\n'.repeat(200000));`;
    const pipeToHead = (quiet: boolean) =>
      new Promise<{ stderr: string; status: string }>((resolve) => {
        const cmd = `"${process.execPath}" --import tsx -e '${script(quiet).replace(/'/g, `'\\''`)}' | head -1 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`;
        execFile('bash', ['-c', cmd], { encoding: 'utf8' }, (_e, _out, stderr) =>
          resolve({ stderr, status: /status (\d+)/.exec(stderr)?.[1] ?? '?' }),
        );
      });
    const plain = await pipeToHead(false);
    expect(plain.stderr).toMatch(/EPIPE/);
    const quiet = await pipeToHead(true);
    expect(quiet.status).toBe('0');
    expect(quiet.stderr).not.toMatch(/EPIPE|Error/);
  });
});
