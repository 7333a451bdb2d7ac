import type { Middleware } from 'koa';

/**
 * Every response refuses framing and sniffing; every HTML page gets a strict CSP: scripts and
 * styles only from our own origin, no inline script, no plugins, no base-tag tricks.
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

export function securityHeaders(options: { hsts: boolean }): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
      ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
      if (options.hsts) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
      const type = String(ctx.response.get('Content-Type') || '');
      if (type.includes('text/html') || ctx.response.is('html')) {
        ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
        ctx.set('Cache-Control', 'no-store');
      } else {
        ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      }
    }
  };
}
