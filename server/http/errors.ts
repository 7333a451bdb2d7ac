/**
 * Translating AppError at the HTTP edges. JSON endpoints answer {error, error_description};
 * pages answer a readable explanation with a request id a person can quote to an admin.
 */
import type { Context, Middleware } from 'koa';
import { randomUUID } from 'node:crypto';
import { AppError, type AppErrorCode } from '../domain/errors.ts';
import { html, renderPage, type Html } from './html.ts';
import type { Logger } from '../logger.ts';
import { maskPath } from '../logger.ts';

const statusByCode: Record<AppErrorCode, number> = {
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  stale: 409,
  forbidden: 403,
  unauthenticated: 401,
  inactive: 403,
  not_assigned: 403,
  link_expired: 410,
  link_spent: 410,
  link_revoked: 410,
  link_invalid: 404,
  challenge_invalid: 400,
  passkey_invalid: 400,
  counter_regression: 400,
  passkey_not_allowed: 403,
  upstream: 502,
  too_large: 413,
};

export function statusOf(error: AppError): number {
  return statusByCode[error.code];
}

declare module 'koa' {
  interface DefaultState {
    requestId: string;
  }
}

/** Request id on every response; one access-log line per request, with secrets masked. */
export function requestContext(logger: Logger): Middleware {
  return async (ctx, next) => {
    const requestId = randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      if (ctx.path !== '/healthz' && ctx.path !== '/readyz') {
        logger.info({ requestId, method: ctx.method, path: maskPath(ctx.path), status: ctx.status, ms: Math.round(performance.now() - started) }, 'request');
      }
    }
  };
}

export function sendJsonError(ctx: Context, error: AppError): void {
  ctx.status = statusOf(error);
  ctx.body = { error: error.code, error_description: error.message, ...(error.field ? { field: error.field } : {}) };
}

export function renderErrorPage(ctx: Context, orgName: string, status: number, title: string, message: string, next?: Html): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = renderPage({
    title,
    orgName,
    body: html`<h1>${title}</h1><p class="lead">${message}</p>${next ?? html``}<p class="muted">If you need help, contact your administrator and quote request id <code>${ctx.state.requestId ?? ''}</code>.</p>`,
  });
}

/**
 * The store cannot answer (Redis down, disk full): 503 with Retry-After and, for a person, a
 * page that says to try again in a moment. Nothing was half-done: every write is one atomic store
 * call, so trying again is safe, and the same request succeeds once the store is back.
 */
export function renderStoreUnavailable(ctx: Context, orgName: string): void {
  ctx.set('Retry-After', '5');
  if (ctx.accepts('html', 'json') === 'html') {
    renderErrorPage(ctx, orgName, 503, 'Please try again in a moment', 'Sign-in is briefly unavailable while the service reconnects to its storage. Nothing you did was lost: wait a few seconds, then reload this page or go back and try again.');
  } else {
    ctx.status = 503;
    ctx.body = { error: 'temporarily_unavailable', error_description: 'the service cannot reach its storage; try again in a moment', request_id: ctx.state.requestId };
  }
}

/** Last resort: anything unexpected is a generic 500 that reveals nothing, logged with its id. */
export function errorBoundary(logger: Logger, orgName: string, options: { storeUnavailable?: (error: unknown) => boolean } = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (options.storeUnavailable?.(error) || options.storeUnavailable?.((error as { cause?: unknown })?.cause)) {
        logger.warn({ requestId: ctx.state.requestId, err: error }, 'store unavailable');
        renderStoreUnavailable(ctx, orgName);
        return;
      }
      if (error instanceof AppError) {
        if (ctx.accepts('html', 'json') === 'html' && ctx.method === 'GET') renderErrorPage(ctx, orgName, statusOf(error), 'Something is not right', error.message);
        else sendJsonError(ctx, error);
        return;
      }
      const status = (error as { status?: number; expose?: boolean }).status;
      if (status && status < 500 && (error as { expose?: boolean }).expose) {
        ctx.status = status;
        ctx.body = { error: 'invalid_request', error_description: (error as Error).message };
        return;
      }
      logger.error({ requestId: ctx.state.requestId, err: error }, 'unhandled error');
      if (ctx.accepts('html', 'json') === 'html' && ctx.method === 'GET') {
        renderErrorPage(ctx, orgName, 500, 'Something went wrong', 'An unexpected error occurred. Please try again.');
      } else {
        ctx.status = 500;
        ctx.body = { error: 'server_error', error_description: 'an unexpected error occurred', request_id: ctx.state.requestId };
      }
    }
  };
}
