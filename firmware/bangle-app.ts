/**
 * A Bangle.js App Loader app folder around a bundle: metadata.json (the
 * loader's manifest), app.js (the bundle), app-icon.js (the launcher icon as
 * an Espruino image) and app.png (the loader's icon), plus the weights file
 * when the weights live in flash, and screenshot.png (what the watch shows
 * running the app) when one was taken.
 */
import { encodePng, type RgbaImage } from '../core/png.ts';
import type { Bundle } from './bundle.ts';

/** App Loader ids: lowercase letters and digits, at most 10 (Storage names are `<id>.app.js`). */
export const BANGLE_ID = /^[a-z][a-z0-9]{0,9}$/;

const SIZE = 48;

/** The icon: a 1-bit 48x48 picture of a series and a forecast dot. true = ink. */
function iconPixels(): boolean[][] {
  const px = Array.from({ length: SIZE }, () => new Array<boolean>(SIZE).fill(false));
  const set = (x: number, y: number) => {
    if (x >= 0 && x < SIZE && y >= 0 && y < SIZE) px[y][x] = true;
  };
  // frame
  for (let i = 4; i < SIZE - 4; i++) {
    set(i, 4);
    set(i, SIZE - 5);
    set(4, i);
    set(SIZE - 5, i);
  }
  // a wave for the readings, two pixels thick
  for (let x = 8; x < 34; x++) {
    const y = Math.round(24 + 9 * Math.sin((x - 8) / 4));
    set(x, y);
    set(x, y + 1);
  }
  // the forecast: a filled dot after the wave
  for (let dy = -3; dy <= 3; dy++)
    for (let dx = -3; dx <= 3; dx++) if (dx * dx + dy * dy <= 9) set(39 + dx, 24 + Math.round(9 * Math.sin(26 / 4)) + dy);
  return px;
}

/** Espruino image string: [width, height, bpp] then the rows, 1 bit a pixel, most significant bit first. */
function espruinoImage(px: boolean[][]): Uint8Array {
  const out = new Uint8Array(3 + (SIZE * SIZE) / 8);
  out.set([SIZE, SIZE, 1]);
  px.flat().forEach((on, i) => {
    if (on) out[3 + (i >> 3)] |= 0x80 >> (i & 7);
  });
  return out;
}

/** The icon as pixels: ink black on white. */
function iconImage(px: boolean[][]): RgbaImage {
  const rgba = new Uint8Array(SIZE * SIZE * 4);
  px.flat().forEach((on, i) => rgba.set(on ? [0, 0, 0, 255] : [255, 255, 255, 255], 4 * i));
  return { width: SIZE, height: SIZE, rgba };
}

export interface BangleAppFiles {
  /** file name in the folder -> contents */
  files: Record<string, string | Uint8Array>;
}

export interface BangleAppOptions {
  id: string;
  name: string;
  description: string;
  version: string;
  /** The app's screen as a PNG (firmware/watch-screen.ts), listed as the App Loader's screenshot. */
  screenshot?: Uint8Array;
}

export function bangleApp(bundle: Bundle, o: BangleAppOptions): BangleAppFiles {
  const px = iconPixels();
  const storage: { name: string; url: string; evaluate?: boolean }[] = [
    { name: `${o.id}.app.js`, url: 'app.js' },
    { name: `${o.id}.img`, url: 'app-icon.js', evaluate: true },
  ];
  const files: Record<string, string | Uint8Array> = {
    'app.js': bundle.code,
    'app-icon.js': `atob(${JSON.stringify(Buffer.from(espruinoImage(px)).toString('base64'))})\n`,
    'app.png': encodePng(iconImage(px), { gray: true }),
  };
  if (o.screenshot) files['screenshot.png'] = o.screenshot;
  if (bundle.flash) {
    storage.push({ name: bundle.flash.file, url: bundle.flash.file });
    files[bundle.flash.file] = bundle.flash.bytes;
  }
  const metadata = {
    id: o.id,
    name: o.name,
    shortName: o.name.slice(0, 12),
    version: o.version,
    description: o.description,
    icon: 'app.png',
    ...(o.screenshot ? { screenshots: [{ url: 'screenshot.png' }] } : {}),
    type: 'app',
    tags: 'tool,sensor',
    supports: ['BANGLEJS', 'BANGLEJS2'],
    allow_emulator: true,
    storage,
  };
  files['metadata.json'] = JSON.stringify(metadata, null, 2) + '\n';
  return { files };
}
