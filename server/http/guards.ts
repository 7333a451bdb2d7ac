/**
 * Guards for the JSON endpoints the browser pages call (sign-in and enrollment ceremonies):
 * - body: JSON only, size-capped (413) and depth-capped (400) by the shared reader in json-body.ts,
 *   parsed once here so handlers never read raw bodies;
 * - CSRF: the Origin header must be ours AND the request must carry the page's CSRF token,
 *   an HMAC of what the page is bound to (interaction uid or enrollment link), so a foreign
 *   page can neither forge the request nor reuse a token from another flow.
 */
import { createHmac } from 'node:crypto';
import type { Middleware } from 'koa';
import { AppError } from '../domain/errors.ts';
import { constantTimeEqual } from '../domain/secrets.ts';
import { sendJsonError } from './errors.ts';
import { createJsonBodyReader, JsonBodyError } from './json-body.ts';

export function jsonBody(limit = '64kb'): Middleware {
  const read = createJsonBodyReader({ limit });
  return async (ctx, next) => {
    if (!ctx.is('application/json')) {
      sendJsonError(ctx, new AppError('invalid_input', 'expected a JSON body (Content-Type: application/json)'));
      return;
    }
    try {
      await read(ctx);
    } catch (error) {
      if (!(error instanceof JsonBodyError)) throw error;
      sendJsonError(ctx, new AppError(error.reason === 'too_large' ? 'too_large' : 'invalid_input', error.message));
      return;
    }
    await next();
  };
}

export function createCsrf(secret: string, origin: string) {
  const tokenFor = (binding: string) => createHmac('sha256', secret).update(`csrf:${binding}`).digest('base64url');

  const protect = (bindingOf: (ctx: Parameters<Middleware>[0]) => string): Middleware => async (ctx, next) => {
    const requestOrigin = ctx.get('Origin');
    if (requestOrigin !== origin) {
      sendJsonError(ctx, new AppError('forbidden', `cross-origin request refused (Origin "${requestOrigin || 'none'}" is not ${origin})`));
      return;
    }
    const token = ctx.get('X-CSRF-Token');
    if (!token || !constantTimeEqual(token, tokenFor(bindingOf(ctx)))) {
      sendJsonError(ctx, new AppError('forbidden', 'missing or invalid CSRF token; reload the page and try again'));
      return;
    }
    await next();
  };

  return { tokenFor, protect };
}
