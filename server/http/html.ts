/**
 * Server-rendered page shell. Dynamic values are escaped here, once; data for the page's script
 * travels in data-* attributes (no inline script, so the CSP can forbid it).
 */
import { BRAND_MARK_SVG } from './brand-mark.ts';

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}

/** Tagged template that escapes every interpolation unless it is already Html. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((value, index) => {
    const rendered = Array.isArray(value)
      ? value.map((item) => (item instanceof Html ? item.value : escapeHtml(item))).join('')
      : value instanceof Html
        ? value.value
        : escapeHtml(value);
    out += rendered + strings[index + 1];
  });
  return new Html(out);
}

export interface PageOptions {
  title: string;
  orgName: string;
  body: Html;
  script?: string;
  data?: Record<string, string>;
  /** "card": a centred card with the brand (sign-in, enrollment, errors); "app": a full-page app shell. */
  layout?: 'card' | 'app';
  stylesheet?: string;
}

export function renderPage(options: PageOptions): string {
  const data = Object.entries(options.data ?? {})
    .map(([key, value]) => ` data-${key}="${escapeHtml(value)}"`)
    .join('');
  const content =
    options.layout === 'app'
      ? options.body.value
      : `<main class="card">
<header class="brand"><span class="logo">${BRAND_MARK_SVG}</span> ${escapeHtml(options.orgName)}</header>
${options.body.value}
</main>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(options.title)} · ${escapeHtml(options.orgName)}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/${escapeHtml(options.stylesheet ?? 'latchkey')}.css">
${options.script ? `<script type="module" src="/assets/${escapeHtml(options.script)}.js"></script>` : ''}
</head>
<body${data}>
${content}
</body>
</html>`;
}
