/**
 * PNG files (pngjs): the one place the project writes and reads them — the watch's screen, the
 * App Loader icon.
 */
import { createRequire } from 'node:module';
import type { PNG as PngClass } from 'pngjs';

/** pngjs, required on the first image: not with this module, so a command's start does not pay for it. */
const pngjs = (): { PNG: typeof PngClass } => createRequire(import.meta.url)('pngjs');

/** `width` x `height` pixels, 4 bytes each (R, G, B, A), rows top to bottom. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** The image as a PNG: 8-bit RGB, or 8-bit grayscale (the mean of R, G, B) when `gray`. Alpha is dropped. */
export function encodePng(image: RgbaImage, o: { gray?: boolean } = {}): Buffer {
  if (image.rgba.length !== image.width * image.height * 4)
    throw new Error(`encodePng: ${image.rgba.length} bytes for ${image.width}x${image.height} RGBA pixels`);
  const png = new (pngjs().PNG)({ width: image.width, height: image.height });
  png.data = Buffer.from(image.rgba);
  // pngjs color types: 0 grayscale, 2 RGB
  return pngjs().PNG.sync.write(png, { colorType: o.gray ? 0 : 2, inputHasAlpha: true });
}

/** A PNG file's pixels as RGBA (any color type pngjs reads). */
export function decodePng(bytes: Uint8Array): RgbaImage {
  const png = pngjs().PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
}
