/**
 * A passkey model's icon as a small PNG for notice mails: mail clients show neither data: URLs
 * nor SVG, so the catalogue's icon (often SVG) is rasterised the way bookmark tile images are
 * (images/tile-icons.ts: librsvg runs no script and loads no external file; DOCTYPE and
 * entities are refused). Drawn once per icon per process.
 */
import { describeAuthenticator } from '../domain/authenticator-catalogue.ts';
import { sanitiseTileIcon } from '../images/tile-icons.ts';

const drawn = new Map<string, Promise<Buffer>>();

export async function authenticatorIconPng(aaguid: string): Promise<Buffer | null> {
  const model = describeAuthenticator(aaguid);
  const icon = model?.iconLight ?? model?.iconDark;
  if (!icon) return null;
  let png = drawn.get(icon);
  if (!png) {
    png = sanitiseTileIcon(icon).then((dataUri) => Buffer.from(dataUri.slice(dataUri.indexOf(',') + 1), 'base64'));
    // A failure is not remembered: the next notice tries again.
    png.catch(() => drawn.delete(icon));
    drawn.set(icon, png);
  }
  return png;
}
