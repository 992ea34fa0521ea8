/**
 * The picture in the README of the watch's screen: the demo model (`lstm-mcu demo`), bundled as
 * a Bangle.js app (`lstm-mcu bundle --bangle-app`), whose screenshot.png — the app's screen on
 * the Bangle.js 2 firmware in the emulator at BANGLE2_DIR — is copied to docs/images/.
 *
 *   BANGLE2_DIR=... npm run screenshot
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = path.join(root, 'docs/images/watch-screen.png');
/** The demo's inputs as a watch would read them: humidity from an analog sensor, temperature from the chip. */
const READER = [
  '// humidity (%) from an analog humidity sensor on D3 (0..1 -> 0..100 %), temperature from the chip',
  'function readSensor(out) { out[0] = analogRead(D3) * 100; out[1] = E.getTemperature(); }',
  '',
].join('\n');

if (!process.env.BANGLE2_DIR) {
  process.stderr.write('screenshot: BANGLE2_DIR is not set to the Bangle.js 2 emulator (../shared/engines/bangle2)\n');
  process.exit(1);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-screenshot-'));
try {
  const cli = (args: string[]) => execFileSync(process.execPath, [path.join(root, 'bin/lstm-mcu.js'), ...args], { stdio: 'inherit' });
  cli(['demo', '--out', path.join(work, 'demo'), '--quiet']);
  fs.writeFileSync(path.join(work, 'reader.js'), READER);
  const app = path.join(work, 'app');
  const bundle = ['--model', path.join(work, 'demo'), '--source', 'function', '--reader', path.join(work, 'reader.js')];
  cli(['bundle', ...bundle, '--out', path.join(work, 'app.js'), '--bangle-app', app]);
  const shot = path.join(app, 'screenshot.png');
  if (!fs.existsSync(shot)) throw new Error('bundle wrote no screenshot.png (its stderr says why)');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(shot, target);
  console.log(`wrote ${path.relative(root, target)}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
