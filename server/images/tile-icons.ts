/**
 * Icon images, re-encoded before anyone sees them: bookmark tiles (console) and authenticator icons
 * in security emails (workers). Rules:
 * - PNG, JPEG or SVG only, at most MAX_ICON_BYTES, checked by content (magic bytes), not by name;
 * - every image is re-encoded by sharp to a 128x128 PNG: an SVG is rasterised (by librsvg, which
 *   runs no script and, for a buffer, loads no external file), so what we store and serve is a
 *   plain bitmap that cannot carry script, event handlers or links whatever the upload held;
 * - SVGs with a DOCTYPE or entity declarations are refused before parsing (XXE / billion laughs).
 */
import { AppError } from '../domain/errors.ts';

export const MAX_ICON_BYTES = 256 * 1024;
export const ICON_SIZE = 128;

type IconType = 'png' | 'jpeg' | 'svg';

function detect(bytes: Buffer): IconType | null {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const head = bytes.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/i.test(head)) return 'svg';
  return null;
}

/** Accepts "data:image/...;base64,...", returns a sanitised "data:image/png;base64,..." data URI. */
export async function sanitiseTileIcon(dataUri: string): Promise<string> {
  const match = /^data:(image\/(?:png|jpeg|svg\+xml));base64,([A-Za-z0-9+/=\s]+)$/.exec(dataUri);
  if (!match) throw new AppError('invalid_input', 'the tile image must be a PNG, JPEG or SVG file', { field: 'icon' });
  const bytes = Buffer.from(match[2], 'base64');
  if (bytes.length === 0) throw new AppError('invalid_input', 'the tile image is empty', { field: 'icon' });
  if (bytes.length > MAX_ICON_BYTES) {
    throw new AppError('invalid_input', `the tile image is ${Math.ceil(bytes.length / 1024)} KB; the limit is ${MAX_ICON_BYTES / 1024} KB`, { field: 'icon' });
  }
  if (match[1] === 'image/svg+xml' && /<!DOCTYPE|<!ENTITY/i.test(bytes.toString('utf8'))) {
    throw new AppError('invalid_input', 'SVG files with a DOCTYPE or entity declarations are not accepted', { field: 'icon' });
  }
  const type = detect(bytes);
  if (!type) throw new AppError('invalid_input', 'the file is not a PNG, JPEG or SVG image', { field: 'icon' });
  if (type === 'svg' && /<!DOCTYPE|<!ENTITY/i.test(bytes.toString('utf8'))) {
    throw new AppError('invalid_input', 'SVG files with a DOCTYPE or entity declarations are not accepted', { field: 'icon' });
  }
  // Loaded on the first tile image, not at start: sharp and libvips hold about 23 MiB of RSS that
  // a server which never receives a tile image should not carry.
  const { default: sharp } = await import('sharp');
  let png: Buffer;
  try {
    png = await sharp(bytes, { limitInputPixels: 4096 * 4096, density: 144 })
      .resize(ICON_SIZE, ICON_SIZE, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } })
      .png()
      .toBuffer();
  } catch (error) {
    throw new AppError('invalid_input', `the tile image could not be read: ${(error as Error).message}`, { field: 'icon', cause: error });
  }
  return `data:image/png;base64,${png.toString('base64')}`;
}
