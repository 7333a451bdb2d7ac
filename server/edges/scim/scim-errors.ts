/**
 * The one SCIM error factory (RFC 7644 §3.12). Rules:
 * - `status` is a string and `scimType` is one of the RFC's codes; `detail` says what was received
 *   and what was expected, so an admin reading Okta's provisioning log can act on it;
 * - domain errors are translated once, here; anything unexpected still answers in the SCIM error
 *   schema (500 with a request id), never a bare stack or HTML page.
 */
import type { Context } from 'koa';
import { AppError } from '../../domain/errors.ts';
import { StoreError } from '../../ports/storage.ts';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** RFC 7644 Table 9. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType?: ScimType;
  constructor(status: number, detail: string, scimType?: ScimType) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }
}

export const scimError = {
  badRequest: (scimType: ScimType, detail: string) => new ScimError(400, detail, scimType),
  notFound: (detail: string) => new ScimError(404, detail),
  conflict: (detail: string) => new ScimError(409, detail, 'uniqueness'),
  /** Deliberately vague: missing, wrong, revoked and expired tokens must look the same. */
  unauthorized: () => new ScimError(401, 'authentication required: send a valid SCIM bearer token in the Authorization header'),
  methodNotAllowed: (allow: string, detail: string) => Object.assign(new ScimError(405, detail), { allow }),
  tooLarge: (limit: string) => new ScimError(413, `request body is larger than the ${limit} this server accepts`),
};

export function scimErrorBody(error: ScimError) {
  return {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(error.status),
    ...(error.scimType ? { scimType: error.scimType } : {}),
    detail: error.message,
  };
}

/** Writes a SCIM response body with the SCIM media type (RFC 7644 §3.1). */
export function sendScim(ctx: Context, status: number, body?: unknown): void {
  ctx.status = status;
  if (body === undefined) {
    ctx.body = null;
    return;
  }
  ctx.body = body;
  ctx.set('Content-Type', SCIM_CONTENT_TYPE);
}

export function sendScimError(ctx: Context, error: ScimError): void {
  const allow = (error as ScimError & { allow?: string }).allow;
  if (allow) ctx.set('Allow', allow);
  if (error.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="Latchkey SCIM"');
  sendScim(ctx, error.status, scimErrorBody(error));
}

/** AppError / StoreError -> ScimError; null for anything this edge does not understand. */
export function toScimError(error: unknown): ScimError | null {
  if (error instanceof ScimError) return error;
  if (error instanceof AppError) {
    switch (error.code) {
      case 'invalid_input':
        return new ScimError(400, error.message, 'invalidValue');
      case 'not_found':
        return new ScimError(404, error.message);
      case 'conflict':
        return new ScimError(409, error.message, 'uniqueness');
      case 'stale':
        return new ScimError(409, `${error.message}`);
      case 'unauthenticated':
        return scimError.unauthorized();
      case 'forbidden':
        return new ScimError(403, error.message);
      default:
        return new ScimError(400, error.message);
    }
  }
  if (error instanceof StoreError) {
    if (error.code === 'conflict') return new ScimError(409, `a resource with that ${error.field ?? 'value'} already exists`, 'uniqueness');
    if (error.code === 'not_found') return new ScimError(404, 'resource not found');
    return new ScimError(409, 'the resource was changed concurrently; read it again and retry');
  }
  return null;
}
