/**
 * Request bodies for SCIM writes (RFC 7644 §3.1, §3.8). Rules:
 * - `application/scim+json` and `application/json` are both accepted (Okta sends either);
 * - the body is size-capped: a larger one is a 413 in the SCIM error schema, read no further;
 * - malformed JSON, JSON nested deeper than the shared reader allows (json-body.ts), or JSON that
 *   is not an object, is 400 invalidSyntax; handlers only ever see
 *   a parsed plain object in ctx.request.body.
 */
import type { Middleware } from 'koa';
import { createJsonBodyReader, JsonBodyError } from '../../http/json-body.ts';
import { ScimError, scimError } from './scim-errors.ts';

/** Room for a full-list `replace members` of ~10,000 members in one PATCH. */
export const SCIM_BODY_LIMIT = '1mb';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function scimBody(limit = SCIM_BODY_LIMIT): Middleware {
  const read = createJsonBodyReader({ limit });
  return async (ctx, next) => {
    if (!WRITE_METHODS.has(ctx.method)) return next();
    if (!ctx.is('application/scim+json', 'application/json')) {
      throw scimError.badRequest('invalidSyntax', `expected Content-Type application/scim+json or application/json, got "${ctx.get('Content-Type') || 'none'}"`);
    }
    try {
      await read(ctx);
    } catch (error) {
      if (!(error instanceof JsonBodyError)) throw error;
      if (error.reason === 'too_large') throw scimError.tooLarge(limit);
      throw new ScimError(400, error.message, 'invalidSyntax');
    }
    const body = ctx.request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw scimError.badRequest('invalidSyntax', 'request body must be a JSON object');
    }
    await next();
  };
}
