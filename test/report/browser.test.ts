/**
 * report.html in a real browser: a real (small) `demo` run writes it, and
 * headless Chromium (Debian's, through playwright-core; CHROMIUM_BIN, else
 * /usr/bin/chromium) opens it from disk with no console error and no failed
 * request; every chart's SVG has drawn marks. It takes a screenshot. The
 * page `replay` writes (replay.html) is opened the same way. Skipped,
 * saying why, only when no Chromium binary exists (CI installs one).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { runCli } from '../helpers/run-cli.ts';
import { randomQuantizedModel } from '../../parity/random-model.ts';
import { encodeQuantizedModel, writeArtifact } from '../../core/artifact.ts';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`report browser test skipped: no Chromium binary at ${CHROMIUM} (set CHROMIUM_BIN)`);

/** What the page shows in the browser: each chart's title and its drawn data marks, and what went wrong. */
interface Seen {
  charts: { title: string; marks: number; drawn: number }[];
  missing: string[];
  problems: string[];
}

async function openInChromium(file: string, screenshot: string): Promise<Seen> {
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1200 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
    const response = await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    if (!response?.ok()) problems.push(`the page did not load: ${response?.status()}`);
    const seen = await page.evaluate(() => ({
      charts: [...document.querySelectorAll('div.chart > svg')].map((svg) => {
        // Vega's data marks are the children of its role-mark groups (axes, legends and titles have other roles).
        const marks = [...svg.querySelectorAll('g.role-mark > *')] as SVGGraphicsElement[];
        const drawn = marks.filter((m) => {
          const box = m.getBBox();
          return box.width > 0 || box.height > 0;
        });
        const title = svg.querySelector('g.role-title-text text')?.textContent ?? '';
        return { title, marks: marks.length, drawn: drawn.length };
      }),
      missing: [...document.querySelectorAll('p.missing')].map((p) => p.textContent ?? ''),
    }));
    await page.screenshot({ path: screenshot, fullPage: true });
    return { ...seen, problems };
  } finally {
    await browser.close();
  }
}

describe.skipIf(!hasChromium)('report.html in headless Chromium', () => {
  it('a demo run (the built-in data, small): every chart drawn, no console error, no failed request', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-report-'));
    const small = ['--units', '4', '--epochs', '2', '--window', '8', '--backend', 'cpu'];
    const r = await runCli(['demo', ...small, '--out', 'out', '--quiet', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(dir, 'out', 'report.html');
    expect(fs.existsSync(file)).toBe(true);
    const screenshot = path.join(dir, 'report.png');
    const seen = await openInChromium(file, screenshot);
    console.log(`report: ${seen.charts.length} charts, screenshot ${screenshot} (${fs.statSync(screenshot).size} bytes)`);
    expect(seen.problems).toEqual([]);
    // Training 1, forecasts 2, int8 − float 2, ranges 1, memory 2; a regression model has no confusion matrices.
    expect(seen.charts.map((c) => c.title)).toEqual([
      expect.stringMatching(/^Loss per epoch/),
      expect.stringMatching(/^temperature: the test series streamed as the device runs them \(every \d+\w\w of [\d,]+ points drawn\)$/),
      expect.stringMatching(/^temperature, a closer look/),
      expect.stringMatching(/^int8 − float of each output/),
      expect.stringMatching(/^Distribution of int8 − float/),
      expect.stringMatching(/^Float range of each tensor/),
      expect.stringMatching(/^Puck\.js: the model's need/),
      expect.stringMatching(/^The model's arrays in bytes/),
    ]);
    for (const c of seen.charts) expect(c.drawn, c.title).toBeGreaterThan(0);
    expect(seen.missing).toEqual(['Left out: a regression model: no classes to confuse.']);
    expect(fs.statSync(screenshot).size).toBeGreaterThan(20_000);
  }, 600_000);

  it('a replay: readings, forecasts, alerts and the score drawn, no console error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-replay-page-'));
    const q = randomQuantizedModel({ seed: 7, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1 });
    writeArtifact(path.join(dir, 'model.q.pb'), encodeQuantizedModel({ ...q, targetNames: ['x1'], horizon: 2, window: 5 }));
    const rows = Array.from({ length: 120 }, (_, t) => `${250 * t},${[0, 1, 2].map((i) => Math.sin(t * 0.3 + i) * 2 + i).join(',')}`);
    fs.writeFileSync(path.join(dir, 'recording.csv'), ['time,x0,x1,x2', ...rows].join('\n') + '\n');
    const source = ['--source', 'temperature,analog:D3,analog:D4', '--alert-above', '0.05'];
    const r = await runCli(['replay', '--model', 'model.q.pb', '--data', 'recording.csv', ...source, '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const alerts = r.lastJson().alerts as number;
    expect(alerts).toBeGreaterThan(0);
    const seen = await openInChromium(path.join(dir, 'replay.html'), path.join(dir, 'replay.png'));
    expect(seen.problems).toEqual([]);
    expect(seen.charts.map((c) => c.title)).toEqual([
      `Readings and the app's forecasts, ${alerts} alert${alerts === 1 ? '' : 's'} marked`,
      "The app's score, alert above 0.05",
    ]);
    for (const c of seen.charts) expect(c.drawn, c.title).toBeGreaterThan(0);
  }, 300_000);
});
