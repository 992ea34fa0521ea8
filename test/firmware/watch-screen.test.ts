/**
 * The Bangle.js app's screen on the watch's firmware (BANGLE2_DIR): after the screenshot
 * readings it shows the forecast and error the app computed — the host's numbers, bit for bit —
 * drawn as the firmware draws that text. A screen showing any other number fails.
 */
import { describe, expect, it } from 'vitest';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import type { QuantizedModel } from '../../core/model.ts';
import { bangle2Dir, runOnWatch, type Screen } from '../../parity/engines.ts';
import { NUMBER_TOKEN_ES5, tokenNumber } from '../../parity/number-tokens.ts';
import { fixedDigits } from '../../core/format.ts';
import { parseSources, parseValidRanges, type AppConfig } from '../../firmware/app-config.ts';
import type { BundleOptions } from '../../firmware/bundle.ts';
import { screenProgram, screenshotReadings, screenshotSamples } from '../../firmware/watch-screen.ts';
import { AppReplay } from '../../firmware/app-replay.ts';
import { Simulator } from '../../reference/simulator.ts';

/** A 3-input LSTM forecasting its input x1 two steps ahead, read from the accelerometer. */
function forecastModel(): QuantizedModel {
  const q = randomQuantizedModel({ seed: 7, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1 });
  return { ...q, targetNames: ['x1'], horizon: 2, window: 5 };
}

function options(q: QuantizedModel): BundleOptions {
  const config: AppConfig = {
    moduleName: 'lstm-model',
    sources: parseSources('accel', q),
    intervalMs: 1000,
    validRanges: parseValidRanges(undefined, q),
    maxBadRun: 5,
    warmup: 5,
    console: true,
    advertise: true,
    display: true,
    resetButton: true,
    alertClass: 0,
  };
  return { shell: 'espruino', modelSha256: 'test', generatorVersion: 'test', config, minify: true, appGlobal: 'lstmApp' };
}

/** `text` drawn on a cleared screen by the firmware's Graphics, in the font, size and place the app uses. */
async function drawnOnWatch(text: string): Promise<Screen> {
  const program = [
    `var s = ${JSON.stringify(text)};`,
    'g.clear(); g.setFontAlign(0, 0); g.setFont("6x8", 2);',
    'if (g.stringWidth(s) > g.getWidth()) g.setFont("6x8", 1);',
    'g.drawString(s, g.getWidth() / 2, g.getHeight() / 2); g.flip();',
    'print("END");',
  ].join('\n');
  return (await runOnWatch(program)).screen;
}

/** Pixels that are not the background (white). */
const inked = (s: Screen) => s.rgba.filter((v, i) => i % 4 === 0 && v === 0).length;
const same = (a: Screen, b: Screen) => Buffer.from(a.rgba).equals(Buffer.from(b.rgba));

describe.skipIf(!bangle2Dir())("the app's screen on the Bangle.js 2 firmware", () => {
  it("shows the forecast and error the app computed, which are the host's; another number would show", async () => {
    const q = forecastModel();
    const o = options(q);
    const readings = screenshotReadings(q, o.config, screenshotSamples(q, o.config));
    const report = `${NUMBER_TOKEN_ES5}\nprint("Y " + numberToken(lstmApp.outputs[0]) + " " + numberToken(lstmApp.stats.score) + " " + lstmApp.stats.steps);`;
    const { lines, screen } = await runOnWatch(await screenProgram(q, o, readings, report));
    const [, y, score, steps] = lines
      .find((l) => l.startsWith('Y '))!
      .trim()
      .split(' ');
    const forecast = tokenNumber(y);
    const error = tokenNumber(score);
    // the app's numbers are the host's: its rules around the simulator, on the same readings
    const host = new AppReplay(q, o.config, new Simulator(q));
    for (const r of readings) host.feed(r);
    expect(Number(steps)).toBe(readings.length);
    expect(forecast).toBe(host.outputs[0]);
    expect(error).toBe(host.stats.score);
    expect(Number.isNaN(error)).toBe(false);
    // the screen is that text as the firmware draws it
    const text = `x1=\n${fixedDigits(forecast, 4)}\nerror=\n${fixedDigits(error, 4)}`;
    expect(inked(screen)).toBeGreaterThan(200);
    expect(same(screen, await drawnOnWatch(text))).toBe(true);
    // a forecast one unit off in its last digit is another screen
    const last = Number(text.split('\n')[1].slice(-1));
    const wrong = text.replace(/^(x1=\n.*)\d$/m, `$1${(last + 1) % 10}`);
    expect(wrong).not.toBe(text);
    expect(same(screen, await drawnOnWatch(wrong))).toBe(false);
  });
});
