/**
 * The options `bundle` and `flash` share: the model, where its readings come
 * from, what counts as a bad reading, what the app reports, and where the
 * weights live. Parsed into a Bundle once, so both commands build the very
 * same upload.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { choiceOption, floatOption, intOption } from './common.ts';
import { readQuantizedModel } from '../core/artifact.ts';
import { UserError } from '../core/errors.ts';
import {
  alertClassIndex,
  defaultAppRules,
  parseSources,
  parseValidRanges,
  scoreKind,
  type AppConfig,
  type Source,
} from '../firmware/app-config.ts';
import { buildBundle, type Bundle, type BundleOptions } from '../firmware/bundle.ts';
import type { Shell } from '../firmware/emit-app.ts';
import { checkStorageName } from '../pipeline/codegen.ts';
import { setToolsVerbose } from '../firmware/espruino-tools.ts';
import type { QuantizedModel } from '../core/model.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { DEFAULT_NATIVE, NATIVE_OPTIONS, type NativeOption } from '../codegen/emit-native.ts';

/** Module name the app requires the model under. */
export const MODEL_MODULE = 'lstm-model';
/** Global the app defines. */
export const APP_GLOBAL = 'lstmApp';

/** --source and --reader: where the readings come from on an Espruino board (bundle, flash, record). */
export function addSourceOptions(cmd: Command, order: string): Command {
  return cmd
    .addOption(
      new Option(
        '--source <list>',
        `espruino: where each reading comes from, ${order}: temperature, analog:PIN, accel (x,y,z), mag (x,y,z), or function (readSensor(out) from --reader); default temperature`,
      ),
    )
    .addOption(
      new Option(
        '--reader <file>',
        'with --source function: a JavaScript file defining function readSensor(out) that writes the readings into out',
      ),
    );
}

/** --interval: milliseconds between samples on the board (bundle, flash, record); `default` says what it is. */
export function intervalOption(defaultText: string): Option {
  return new Option('--interval <ms>', `milliseconds between samples (default: ${defaultText})`).argParser(intOption(10, 86_400_000));
}

export function addAppOptions(cmd: Command, shells: readonly Shell[]): Command {
  cmd.requiredOption('--model <path>', 'quantized model (model.q.pb), or a folder holding one (the output of demo)');
  addSourceOptions(cmd, 'in feature order');
  cmd
    .addOption(intervalOption('the sampling period recorded at training, else 1000'))
    .addOption(
      new Option(
        '--valid-range <list>',
        'FEATURE=LOW:HIGH,...: readings outside are bad (counted, not fed to the model); default training mean ± 8 std',
      ),
    )
    .addOption(
      new Option('--max-bad <n>', 'bad samples in a row after which the model state is reset (default: the model window)').argParser(
        intOption(1, 1_000_000),
      ),
    )
    .addOption(
      new Option(
        '--warmup <n>',
        'steps after a reset before a forecast counts: scored, shown, able to alert (default: the model window; the tool evaluates with the default)',
      ).argParser(intOption(1, 1_000_000)),
    )
    .addOption(
      new Option(
        '--alert-above <x>',
        'alert when the score rises above this (forecast error in target units, or the class probability)',
      ).argParser(floatOption(-1e300, 1e300)),
    )
    .addOption(new Option('--alert-class <label>', 'classification: the class whose probability is the score (default: the last class)'))
    .option('--no-console', 'do not print a line per sample')
    .option('--no-advertise', 'do not put results in Bluetooth advertising data')
    .option('--display', 'draw the last result on the screen (Bangle.js, Pixl.js)')
    .option('--no-reset-button', 'do not reset the model when the button is pressed')
    .addOption(
      new Option('--weights <place>', 'espruino: weights in RAM, or in flash (a Storage file the model views in place)')
        .argParser(choiceOption(['ram', 'flash']))
        .default('ram'),
    )
    .addOption(
      new Option(
        '--flash-file <name>',
        'bundle: Storage file of the flash weights (default lstm-w-<CRC-32 of the weights>.bin, the name flash always uses)',
      ),
    )
    .option('--no-minify', 'espruino: upload the code as generated (espruino-tools minifies it by default)')
    .option('--verbose', "show espruino-tools' own log on stderr");
  if (shells.length > 1)
    cmd.addOption(
      new Option('--engine <engine>', 'espruino (sampling app) or jerryscript (the host feeds readings)')
        .argParser(choiceOption(shells))
        .default('espruino'),
    );
  return cmd;
}

/** Sampling period when neither --interval nor the model says one. */
export const DEFAULT_INTERVAL_MS = 1000;

/** The sampling period `train` recorded (--interval or --time), if any. */
export function recordedInterval(q: QuantizedModel): number | undefined {
  try {
    const v = (JSON.parse(q.provenance.options) as { intervalMs?: unknown }).intervalMs;
    return typeof v === 'number' && Number.isInteger(v) && v >= 10 && v <= 86_400_000 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** --model: a file, or a folder with model.q.pb in it. */
export function modelPath(p: string): string {
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    const inside = path.join(p, 'model.q.pb');
    if (!fs.existsSync(inside))
      throw new UserError(`${p}: no model.q.pb in this folder (pass the quantized model file, or the folder demo wrote)`);
    return inside;
  }
  return p;
}

export interface AppInputs {
  q: QuantizedModel;
  sha256: string;
  shell: Shell;
  config: AppConfig;
  /** Weights in flash: in Storage file `file`, or without one under the per-model name. */
  flash?: { file?: string };
  minify: boolean;
  /** The model's native step (bundle --native): the espruino module's kernels, or the JerryScript host's. */
  native: NativeOption;
}

/** The --native values each engine takes; the first is its default. */
const ENGINE_NATIVE: { readonly [S in Shell]: readonly NativeOption[] } = {
  espruino: [DEFAULT_NATIVE, ...NATIVE_OPTIONS.filter((n) => n !== DEFAULT_NATIVE && n !== 'host')],
  // off first: a host without lstmNativeStep would hold the context besides the JavaScript step's weights.
  jerryscript: ['off', 'host'],
};

/** bundle --native: what the app's model holds; off by default on JerryScript (the host must register the kernel). */
export function nativeOption(): Option {
  return new Option(
    '--native <kernels>',
    "the model's native step. espruino: auto (default: m4 and m3 kernels, chosen by the board at load), m4, m3, or off; " +
      'jerryscript: off (default) or host: the model calls lstmNativeStep, which the host must register (lstm_app.c built with LSTM_APP_NATIVE, firmware/jerryscript/HOST_API.md); in a host without it the model holds its weights twice',
  ).argParser(choiceOption<NativeOption>([...NATIVE_OPTIONS]));
}

/** The engine's --native: its default when not given; a value for the other engine is refused. */
export function engineNative(shell: Shell, asked: NativeOption | undefined): NativeOption {
  const allowed = ENGINE_NATIVE[shell];
  if (asked === undefined) return allowed[0]!;
  if (!allowed.includes(asked))
    throw new UserError(
      `--native ${asked} is not for --engine ${shell}: it takes ${allowed.join(', ')} (${asked === 'host' ? "host is a JerryScript host's lstmNativeStep" : 'auto, m4 and m3 are Espruino kernels called through E.nativeCall'})`,
    );
  return asked;
}

/** Options -> the model and the app's configuration, every value checked. */
export function appInputs(o: Record<string, any>): AppInputs {
  setToolsVerbose(Boolean(o.verbose));
  const { model: q, sha256 } = readQuantizedModel(modelPath(o.model));
  const shell: Shell = o.engine ?? 'espruino';
  const native = engineNative(shell, o.native);
  if (shell !== 'espruino') {
    if (o.weights === 'flash') throw new UserError('--weights flash is for Espruino (its Storage); JerryScript keeps the weights in RAM');
    if (o.source !== undefined || o.reader !== undefined)
      throw new UserError('--source and --reader are for Espruino: on JerryScript the host feeds the readings (lstmApp.feed(x))');
  }
  const sources = shell === 'espruino' ? parseSources(o.source ?? 'temperature', q) : [];
  const reader = readerFor(sources, o.reader);
  const score = scoreKind(q);
  if (o.alertAbove !== undefined && score.kind === 'none') throw new UserError(`--alert-above: this model has no score: ${score.why}`);
  if (o.flashFile !== undefined && o.weights !== 'flash') throw new UserError('--flash-file goes with --weights flash');
  if (o.flashFile !== undefined) checkStorageName(o.flashFile);
  const config: AppConfig = {
    moduleName: MODEL_MODULE,
    sources,
    ...(reader !== undefined ? { reader } : {}),
    intervalMs: o.interval ?? recordedInterval(q) ?? DEFAULT_INTERVAL_MS,
    ...defaultAppRules(q),
    validRanges: parseValidRanges(o.validRange, q),
    ...(o.maxBad !== undefined ? { maxBadRun: o.maxBad } : {}),
    ...(o.warmup !== undefined ? { warmup: o.warmup } : {}),
    console: o.console !== false,
    advertise: o.advertise !== false,
    display: Boolean(o.display),
    resetButton: o.resetButton !== false,
    ...(o.alertAbove !== undefined ? { alertAbove: o.alertAbove } : {}),
    alertClass: alertClassIndex(q, o.alertClass),
  };
  return {
    q,
    sha256,
    shell,
    config,
    ...(o.weights === 'flash' ? { flash: o.flashFile !== undefined ? { file: o.flashFile } : {} } : {}),
    minify: o.minify !== false,
    native,
  };
}

/** The --reader file's text when the sources read through it; --source function and --reader go together. */
export function readerFor(sources: readonly Source[], file: string | undefined): string | undefined {
  const usesReader = sources.some((s) => s.kind === 'function');
  if (usesReader && file === undefined) throw new UserError('--source function needs --reader <file> defining readSensor(out)');
  if (!usesReader && file !== undefined) throw new UserError('--reader goes with --source function');
  if (file === undefined) return undefined;
  let reader: string;
  try {
    reader = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`--reader ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!/function\s+readSensor\s*\(/.test(reader)) throw new UserError(`--reader ${file}: the file must define function readSensor(out)`);
  return reader;
}

/** What buildBundle needs besides the model. */
export function bundleOptions(i: AppInputs): BundleOptions {
  return {
    shell: i.shell,
    modelSha256: i.sha256,
    generatorVersion: TOOL_VERSION,
    config: i.config,
    ...(i.flash !== undefined ? { flash: i.flash } : {}),
    minify: i.minify,
    appGlobal: APP_GLOBAL,
    native: i.native,
  };
}

export function bundleFrom(i: AppInputs): Promise<Bundle> {
  return buildBundle(i.q, bundleOptions(i));
}
