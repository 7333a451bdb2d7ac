/**
 * Latchkey's mark, a key in a rounded square, as SVG: it draws the same everywhere (an emoji
 * renders as an empty box where no emoji font is installed). Also served as the favicon.
 */
export const BRAND_MARK_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32" aria-hidden="true" focusable="false">' +
  '<rect width="32" height="32" rx="8" fill="#2f5bea"/>' +
  '<circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="2.6"/>' +
  '<path d="M17 16h9v4M22.5 16v3" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>' +
  '</svg>';
