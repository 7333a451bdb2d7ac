/** The brand mark in the console and dashboard headers: the server's SVG, never an emoji. */
import { BRAND_MARK_SVG } from '../../server/http/brand-mark.ts';

export function BrandMark() {
  return <span class="brand-mark" aria-hidden="true" dangerouslySetInnerHTML={{ __html: BRAND_MARK_SVG }} />;
}
