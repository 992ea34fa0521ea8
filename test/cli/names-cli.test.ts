/**
 * Names are data through the whole command line: a CSV whose column names
 * would end a comment or a string literal, or run as code, goes through
 * train, quantize, codegen and bundle; every file parses, runs without
 * running a name, and gives the names back through `info`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as acorn from 'acorn';
import ts from 'typescript';
import { runCli } from '../helpers/run-cli.ts';
import { mulberry32 } from '../../core/prng.ts';

/** Column names made to break out of a comment, a string literal or a declaration file. */
const NAMES = ['temp (in")', 'a\u2028pwned=1;//', "b*/ declare const pwned: 1; /*\\'"];

/** CSV field quoting: the name in double quotes, its quotes doubled. */
const quoted = (s: string) => `"${s.replace(/"/g, '""')}"`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-names-'));
  const rand = mulberry32(3);
  const rows = [NAMES.map(quoted).join(',')];
  for (let t = 0; t < 240; t++) rows.push([Math.sin(t / 4), Math.cos(t / 7), rand()].map((v) => v.toFixed(4)).join(','));
  fs.writeFileSync(path.join(dir, 'names.csv'), rows.join('\n') + '\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('names are data through train, quantize, codegen and bundle', () => {
  it('every file parses, defines only its global, runs no name and keeps the names', async () => {
    const features = NAMES.join(',');
    const steps: string[][] = [
      [
        'train',
        '--data',
        'names.csv',
        '--features',
        features,
        '--target',
        NAMES[0]!,
        '--window',
        '6',
        '--units',
        '4',
        '--epochs',
        '1',
        '--quiet',
      ],
      ['quantize', 'model.float.pb'],
      ['codegen', 'model.q.pb'],
      ['bundle', '--model', 'model.q.pb', '--source', 'function', '--reader', 'reader.js', '--out', 'app.espruino.js'],
      ['bundle', '--model', 'model.q.pb', '--engine', 'jerryscript', '--out', 'app.jerryscript.js'],
    ];
    fs.writeFileSync(path.join(dir, 'reader.js'), 'function readSensor(out) { out[0] = 0; out[1] = 0; out[2] = 0.5; }\n');
    for (const args of steps) {
      const r = await runCli(args, dir);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
    }
    for (const file of ['model.espruino.js', 'model.es5.js', 'app.espruino.js', 'app.jerryscript.js']) {
      const code = fs.readFileSync(path.join(dir, file), 'utf8');
      expect(() => acorn.parse(code, { ecmaVersion: 5 }), file).not.toThrow();
    }
    for (const file of ['model.espruino.js', 'model.es5.js']) {
      const context = vm.createContext({});
      vm.runInContext(fs.readFileSync(path.join(dir, file), 'utf8'), context);
      expect(Object.keys(context), file).toEqual(['lstmModel']);
      expect((context.lstmModel as { info: { featureNames: string[] } }).info.featureNames, file).toEqual(NAMES);
    }
    const dts = fs.readFileSync(path.join(dir, 'model.es5.d.ts'), 'utf8');
    const declared = ts.createSourceFile('model.d.ts', dts, ts.ScriptTarget.ES2020, true).statements.map((s) =>
      s
        .getText()
        .split(/[(:<=]/)[0]!
        .trim(),
    );
    expect(declared).toEqual([
      'export declare function reset',
      'export declare function stepQ',
      'export declare function step',
      'export declare function checksum',
      'export declare const info',
      'export declare const state',
    ]);
    const app = vm.createContext({ print: () => {}, setInterval: () => 1, setWatch: () => 1 });
    vm.runInContext(
      `var lstmModel; ${fs.readFileSync(path.join(dir, 'model.es5.js'), 'utf8')}\n${fs.readFileSync(path.join(dir, 'app.jerryscript.js'), 'utf8')}\nlstmApp.feed([0, 0, 0.5]);`,
      app,
    );
    expect(app.pwned).toBeUndefined();
  }, 180_000);
});
