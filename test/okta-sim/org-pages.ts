/** The simulated org's HTML: plain, accessible pages under a strict CSP (no script at all). */
import type { ServerResponse } from 'node:http';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (char) => ESCAPES[char]);

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1d21}
header{background:#00297a;color:#fff;padding:12px 24px;font-weight:600}
main{max-width:440px;margin:40px auto;background:#fff;padding:32px;border-radius:8px;box-shadow:0 1px 4px #0002}
main.wide{max-width:760px}
label{display:block;margin:16px 0 4px;font-weight:600}
input{width:100%;box-sizing:border-box;padding:10px;border:1px solid #6e6e78;border-radius:4px;font-size:16px}
button{margin-top:20px;width:100%;padding:12px;background:#00297a;color:#fff;border:0;border-radius:4px;font-size:16px;cursor:pointer}
.error{color:#a4000f;font-weight:600}
.muted{color:#4b4b55}
ul.apps{list-style:none;padding:0;display:flex;gap:12px;flex-wrap:wrap}
ul.apps a{display:block;padding:16px;border:1px solid #6e6e78;border-radius:6px;color:#00297a}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 16px}`;

/** A hash-allowed inline style only; no script, no framing. */
export function sendPage(res: ServerResponse, status: number, title: string, body: string, options: { wide?: boolean } = {}): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'");
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cache-control', 'no-store');
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} - Okta (simulated)</title><style>${STYLE}</style></head>
<body><header>okta <span class="muted" style="color:#cfd8ff">simulated org</span></header>
<main${options.wide ? ' class="wide"' : ''}>${body}</main></body></html>`);
}

export function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  res.statusCode = 302;
  if (cookies.length) res.setHeader('set-cookie', cookies);
  res.setHeader('location', location);
  res.setHeader('cache-control', 'no-store');
  res.end();
}
