import type { Context, Middleware } from 'koa';

/**
 * Every response refuses framing and sniffing; every HTML page gets a strict CSP: scripts and
 * styles only from our own origin, no inline script, no plugins, no base-tag tricks.
 * The policy is set before the handlers run so oidc-provider can add the hash of the one inline
 * script it needs (its form_post auto-submit page); that page may also post to the client's
 * redirect URI, so its origin is added to form-action there and nowhere else.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const NON_HTML_POLICY = "default-src 'none'; frame-ancestors 'none'";

function formPostTarget(ctx: Context): string | null {
  const params = (ctx as unknown as { oidc?: { params?: { response_mode?: unknown; redirect_uri?: unknown } } }).oidc?.params;
  if (params?.response_mode !== 'form_post' || typeof params.redirect_uri !== 'string') return null;
  try {
    return new URL(params.redirect_uri).origin;
  } catch {
    return null;
  }
}

export function securityHeaders(options: { hsts: boolean }): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    try {
      await next();
    } finally {
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
      ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
      if (options.hsts) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
      if (ctx.response.is('html')) {
        const target = formPostTarget(ctx);
        const policy = ctx.response.get('Content-Security-Policy') || CONTENT_SECURITY_POLICY;
        ctx.set('Content-Security-Policy', target ? policy.replace("form-action 'self'", `form-action 'self' ${target}`) : policy);
        ctx.set('Cache-Control', 'no-store');
      } else {
        ctx.set('Content-Security-Policy', NON_HTML_POLICY);
      }
    }
  };
}
