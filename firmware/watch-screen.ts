/**
 * What the Bangle.js app shows: the app, built from the same model and options, run on the
 * Bangle.js 2 firmware (the Web IDE's emulator at BANGLE2_DIR) with fixed readings in place of
 * its sensor — the emulator's sensors give nothing (E.getTemperature() is NaN, the accelerometer
 * reads zeros) — sampled until it shows a forecast and its error; then its screen.
 *
 * The emulator's own Float64Array does not hold a double (parity/watch-float64.ts), and the model
 * keeps its real-valued coefficients in them: the program replaces it with an exact stand-in
 * first, so the numbers on the screen are the app's, computed as on a watch.
 */
import type { QuantizedModel } from '../core/model.ts';
import type { Screen } from '../parity/engines.ts';
import { bangle2Dir, runOnWatch } from '../parity/engines.ts';
import { parseSources, type AppConfig } from './app-config.ts';
import { buildBundle, type BundleOptions } from './bundle.ts';
import { fixedReader } from './fixed-readings.ts';
import { FLOAT64_STANDIN_ES5 } from '../parity/watch-float64.ts';

/** Samples of the wave the readings follow. */
const WAVE_PERIOD = 16;

/**
 * `n` readings that make the app step: feature i at sample t is its training mean +
 * std/2 · sin(2πt/16 + i), a slow wave around what the model was trained on; where a
 * --valid-range leaves that out, the middle of the valid range.
 */
export function screenshotReadings(q: QuantizedModel, config: Pick<AppConfig, 'validRanges'>, n: number): number[][] {
  const { mean, std } = q.inputNorm;
  return Array.from({ length: n }, (_, t) =>
    mean.map((m, i) => {
      const v = m + (std[i] / 2) * Math.sin((2 * Math.PI * t) / WAVE_PERIOD + i);
      const { lo, hi } = config.validRanges[i];
      return v >= lo && v <= hi ? v : (lo + hi) / 2;
    }),
  );
}

/** Samples enough for the screen to show a scored forecast: the warm-up, the horizon, and a few more. */
export function screenshotSamples(q: QuantizedModel, config: Pick<AppConfig, 'warmup'>): number {
  return config.warmup + q.horizon + 4;
}

/**
 * The program the watch runs: the Float64Array stand-in, the weights' Storage file when they live in flash, then the app
 * with `readings` as its sensor and the display on, sampled once per reading, then `after`
 * (more ES5), then END. The app starts a timer as it loads; the driver stops it on the same
 * console line, so no sample runs before the driver's own.
 */
export async function screenProgram(q: QuantizedModel, o: BundleOptions, readings: number[][], after = ''): Promise<string> {
  const config: AppConfig = { ...o.config, sources: parseSources('function', q), reader: fixedReader(readings), display: true };
  const bundle = await buildBundle(q, { ...o, config });
  const driver = `(function () { var t; for (t = 0; t < ${readings.length}; t++) ${o.appGlobal}.sample(); })();`;
  const print = 'typeof print === "function" ? print : console.log';
  return `${FLOAT64_STANDIN_ES5}${bundle.flash ? bundle.flash.writer + '\n' : ''}${stoppedOnLoad(bundle.code, o.appGlobal)}${driver}\n${after}\n(${print})("END");\n`;
}

/**
 * The bundle, with its app's timer stopped on the console line that starts it. The watch runs
 * each line as it is typed, and the timer could sample between lines before a driver stops it.
 */
export function stoppedOnLoad(code: string, appGlobal: string): string {
  return `${code.trimEnd()} ${appGlobal}.stop();\n`;
}

/** The app's screen on the watch after the screenshot readings, or why there is none. */
export async function watchScreen(q: QuantizedModel, o: BundleOptions): Promise<{ screen: Screen } | { why: string }> {
  if (o.shell !== 'espruino') return { why: 'the watch runs the espruino app' };
  if (!bangle2Dir()) return { why: 'BANGLE2_DIR is not set to the Bangle.js 2 emulator' };
  const readings = screenshotReadings(q, o.config, screenshotSamples(q, o.config));
  try {
    const { screen } = await runOnWatch(await screenProgram(q, o, readings));
    return { screen };
  } catch (e) {
    return { why: `the app did not run on the emulator: ${(e as Error).message}` };
  }
}
