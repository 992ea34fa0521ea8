/**
 * The picture in the README of report.html: the demo (`lstm-mcu demo`, its
 * defaults) writes the page, headless Chromium (CHROMIUM_BIN, else
 * /usr/bin/chromium, through playwright-core) opens it, and its top — the
 * printed summary, the losses and the forecasts on the test series — is
 * written to docs/images/report.png.
 *
 *   npm run report-screenshot
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = path.join(root, 'docs/images/report.png');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
/** The sections the picture shows: the page from its top to the end of the last of these. */
const SHOWN_SECTIONS = 2;

if (!fs.existsSync(CHROMIUM)) {
  process.stderr.write(`report-screenshot: no Chromium at ${CHROMIUM}; set CHROMIUM_BIN\n`);
  process.exit(1);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-report-screenshot-'));
try {
  // Run in the work folder with the default --out: the page names its artifacts `out/`, as `npm run demo` does.
  execFileSync(process.execPath, [path.join(root, 'bin/lstm-mcu.js'), 'demo', '--quiet'], { stdio: 'inherit', cwd: work });
  const out = path.join(work, 'out');
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const page = await browser.newPage({ viewport: { width: 1060, height: 1000 } });
    await page.goto(pathToFileURL(path.join(out, 'report.html')).href, { waitUntil: 'load' });
    const bottom = await page.evaluate((n) => {
      const section = document.querySelectorAll('section')[n - 1]!;
      const box = section.getBoundingClientRect();
      return Math.ceil(box.bottom + window.scrollY);
    }, SHOWN_SECTIONS);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    await page.screenshot({ path: target, fullPage: true, clip: { x: 0, y: 0, width: 1060, height: bottom } });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${path.relative(root, target)}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
