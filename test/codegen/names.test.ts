/**
 * Names are data, never code: feature, target and class names made of any
 * Unicode (every JavaScript line terminator, quotes, backslashes, comment
 * ends, code that would run if it escaped) go through codegen and the app's
 * emitter. The files parse as ES5, define nothing but their global, run on
 * every engine here without running the names, and keep the names readable
 * through info.
 */
import { describe, expect, it } from 'vitest';
import vm from 'node:vm';
import * as acorn from 'acorn';
import ts from 'typescript';
import { randomQuantizedModel, mulberry32 } from '../../parity/random-model.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { emitModule, TARGETS } from '../../codegen/emit-module.ts';
import { emitDts } from '../../codegen/emit-dts.ts';
import { emitApp, type Shell } from '../../firmware/emit-app.ts';
import { parseSources, parseValidRanges, type AppConfig } from '../../firmware/app-config.ts';
import { availableEngines } from '../../parity/engines.ts';
import { buildBundle } from '../../firmware/bundle.ts';
import { wellFormed } from '../../codegen/js-text.ts';
import { BOARD_PRELUDE } from '../helpers/app-driver.ts';

/** Pieces a hostile or careless name is made of: each would end a comment or a literal, or run, if it escaped. */
const PIECES = [
  '\u2028pwned=1;//',
  '\u2029pwned=1;//',
  '\npwned=1;//',
  '\rpwned=1;//',
  '"+(pwned=1)+"',
  "'+(pwned=1)+'",
  '\\"+(pwned=1)//',
  '*/ declare const pwned: 1; /*',
  '*/pwned=1;/*',
  '${pwned=1}',
  '</script>',
  'temp (in")',
  '\\',
  '\u0000\u0007\u001b[31m',
  'é€😀\u0301',
  '\ud800',
  '\t',
  ' ',
];

function randomName(rand: () => number): string {
  let s = '';
  const parts = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < parts; i++) {
    if (rand() < 0.6) s += PIECES[Math.floor(rand() * PIECES.length)];
    else s += String.fromCharCode(1 + Math.floor(rand() * 0xfffe));
  }
  return s;
}

/** A model whose every name is random Unicode; a classifier every third case. */
function namedModel(seed: number): QuantizedModel {
  const rand = mulberry32(seed);
  const classifier = seed % 3 === 0;
  const outputs = classifier ? 3 : 2;
  const q = randomQuantizedModel({ seed, inputSize: 3, units: 4, outputSize: outputs });
  const featureNames = Array.from({ length: 3 }, (_, i) => `${randomName(rand)}#${i}`);
  if (!classifier) return { ...q, featureNames, targetNames: [featureNames[1]!, featureNames[2]!] };
  return {
    ...q,
    featureNames,
    task: 'classification',
    headActivation: 'softmax',
    targetNames: [randomName(rand)],
    classLabels: [0, 1, 2],
    classNames: Array.from({ length: 3 }, (_, i) => `${randomName(rand)}#${i}`),
  };
}

/** The app reads the training means through a reader file: valid readings, so every sample steps. */
function appConfig(q: QuantizedModel): AppConfig {
  return {
    moduleName: 'model',
    sources: parseSources('function', q),
    reader: `function readSensor(out) { ${q.inputNorm.mean.map((m, i) => `out[${i}] = ${m};`).join(' ')} }`,
    intervalMs: 100,
    validRanges: parseValidRanges(undefined, q),
    maxBadRun: 3,
    warmup: 2,
    console: true,
    advertise: true,
    display: true,
    resetButton: true,
    alertAbove: 0.5,
    alertClass: q.task === 'classification' ? 2 : 0,
  };
}

const emitOptions = { globalName: 'lstmModel', modelSha256: 'a'.repeat(64), generatorVersion: '0.0.0-test' };
const SEEDS = Array.from({ length: 24 }, (_, i) => 1000 + i);

/** Runs `code` in a fresh context: the globals it added, and the context. */
function runInVm(code: string, extra: Record<string, unknown> = {}) {
  const context = vm.createContext({ ...extra });
  const before = new Set(Object.keys(context));
  vm.runInContext(code, context);
  return { added: Object.keys(context).filter((k) => !before.has(k)), context };
}

describe('names are data, never code', () => {
  it.each(SEEDS)(
    'random names (seed %i): the module parses as ES5 on both targets, defines only its global and keeps the names',
    (seed) => {
      const q = namedModel(seed);
      for (const target of TARGETS) {
        const code = emitModule(q, { ...emitOptions, target });
        expect(() => acorn.parse(code, { ecmaVersion: 5 }), target).not.toThrow();
        const { added, context } = runInVm(code);
        expect(added, target).toEqual(['lstmModel']);
        const info = (context.lstmModel as { info: { featureNames: string[]; targetNames: string[]; classLabels: unknown[] } }).info;
        // a lone surrogate is not a character: it reads back as U+FFFD, as from any UTF-8 file
        expect(info.featureNames, target).toEqual(q.featureNames.map(wellFormed));
        expect(info.targetNames, target).toEqual(q.targetNames.map(wellFormed));
        if (q.classNames) expect(info.classLabels, target).toEqual(q.classNames.map(wellFormed));
      }
    },
  );

  it.each(SEEDS)('random names (seed %i): the declaration file declares only the API, with the names as its info types', (seed) => {
    const q = namedModel(seed);
    const plain = emitDts({ ...q, featureNames: ['a', 'b', 'c'] }, { ...emitOptions, target: 'es5' });
    const dts = emitDts(q, { ...emitOptions, target: 'es5' });
    const parsed = (text: string) => ts.createSourceFile('model.d.ts', text, ts.ScriptTarget.ES2020, true);
    const declared = (text: string) => parsed(text).statements.map((s) => s.getText().split(/[(:<=]/)[0]);
    expect(declared(dts)).toEqual(declared(plain));
    const transpiled = ts.transpileModule(dts, { reportDiagnostics: true, fileName: 'model.ts' });
    expect(transpiled.diagnostics ?? []).toEqual([]);
  });

  it.each(SEEDS.slice(0, 8))('random names (seed %i): the app parses as ES5 in both shells and runs without running a name', (seed) => {
    const q = namedModel(seed);
    for (const shell of ['espruino', 'jerryscript'] as Shell[]) {
      const app = emitApp(q, appConfig(q), { ...emitOptions, shell, modelExpression: 'lstmModel', globalName: 'lstmApp' });
      expect(() => acorn.parse(app, { ecmaVersion: 5 }), shell).not.toThrow();
      const module = emitModule(q, { ...emitOptions, target: 'es5' });
      const printed: string[] = [];
      const board = {
        setInterval: () => 1,
        console: { log: (s: string) => printed.push(s) },
      };
      const { added, context } = runInVm(`${module}\n${app}`, board);
      expect(added.sort(), shell).toEqual(['lstmApp', 'lstmModel']);
      const api = context.lstmApp as { sample?: () => void; feed: (x: number[]) => unknown };
      if (shell === 'espruino') {
        for (let t = 0; t < 4; t++) api.sample!();
        expect(printed[0], 'the start line names the features as they are').toBe(
          `lstm-mcu app started: ${q.featureNames.map(wellFormed).join(', ')} every 100 ms`,
        );
      } else api.feed([20, 0.5, 0.5]);
      expect(context.pwned, shell).toBeUndefined();
    }
  });

  const { engines } = availableEngines();
  it.each(engines.map((e) => e.name))('on %s, no name runs and the module steps', async (name) => {
    const engine = engines.find((e) => e.name === name)!;
    for (const seed of SEEDS.slice(0, 6)) {
      const q = namedModel(seed);
      const target = name === 'espruino' || name === 'vm+E' ? 'espruino' : 'es5';
      const code = emitModule(q, { ...emitOptions, target });
      const driver = `var out = typeof print === "function" ? print : function (s) { console.log(s); };
lstmModel.step([0.1, 0.2, 0.3]);
out("pwned " + (typeof pwned) + " names " + lstmModel.info.featureNames.length + " " + lstmModel.info.targetNames.length);`;
      const lines = await engine.run(`${code}\n${driver}`);
      expect(
        lines.filter((l) => l.startsWith('pwned')),
        `${name} seed ${seed}`,
      ).toEqual([`pwned undefined names 3 ${q.targetNames.length}`]);
    }
  });

  it.each(engines.map((e) => e.name))(
    'on %s, the bundle (minified and not) of a model with random names samples without running a name',
    async (name) => {
      const engine = engines.find((e) => e.name === name)!;
      for (const seed of SEEDS.slice(0, 3)) {
        const q = namedModel(seed);
        for (const minify of [true, false]) {
          const shell = name === 'jerry' || name === 'duk' ? 'jerryscript' : 'espruino';
          const b = await buildBundle(q, {
            shell,
            modelSha256: 'a'.repeat(64),
            generatorVersion: 'test',
            config: appConfig(q),
            minify,
            appGlobal: 'lstmApp',
          });
          expect(() => acorn.parse(b.code, { ecmaVersion: 5 }), `seed ${seed}`).not.toThrow();
          const [m0, m1, m2] = q.inputNorm.mean;
          const driver =
            shell === 'espruino'
              ? 'for (var t = 0; t < 4; t++) lstmApp.sample(); lstmApp.stop();'
              : `for (var t = 0; t < 4; t++) lstmApp.feed([${m0}, ${m1}, ${m2}]);`;
          const print = 'var out = typeof print === "function" ? print : function (s) { console.log(s); };';
          const lines = await engine.run(
            `${BOARD_PRELUDE}${b.code}\n${driver}\n${print}\nout("steps " + lstmApp.stats.steps + " pwned " + typeof pwned);`,
          );
          expect(
            lines.filter((l) => l.startsWith('steps')),
            `${name} seed ${seed} minify ${minify}`,
          ).toEqual(['steps 4 pwned undefined']);
        }
      }
    },
  );
});
