/**
 * Guards for the JSON endpoints the browser pages call (sign-in and enrollment ceremonies):
 * - body: JSON only, size-capped, parsed once here so handlers never read raw bodies;
 * - CSRF: the Origin header must be ours AND the request must carry the page's CSRF token,
 *   an HMAC of what the page is bound to (interaction uid or enrollment link), so a foreign
 *   page can neither forge the request nor reuse a token from another flow.
 */
import { createHmac } from 'node:crypto';
import type { Middleware } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { AppError } from '../domain/errors.ts';
import { constantTimeEqual } from '../domain/secrets.ts';
import { sendJsonError } from './errors.ts';

export function jsonBody(limit = '64kb'): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: limit, encoding: 'utf-8' });
  return async (ctx, next) => {
    if (!ctx.is('application/json')) {
      sendJsonError(ctx, new AppError('invalid_input', 'expected a JSON body (Content-Type: application/json)'));
      return;
    }
    try {
      await parse(ctx, async () => undefined);
    } catch (error) {
      const status = (error as { status?: number }).status;
      sendJsonError(ctx, new AppError('invalid_input', status === 413 ? `request body is larger than ${limit}` : 'request body is not valid JSON'));
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
