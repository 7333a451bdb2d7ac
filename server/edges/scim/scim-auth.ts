/**
 * Bearer-token authentication for every SCIM endpoint (RFC 7644 §2, RFC 6750 §2.1). Rules:
 * - only `Authorization: Bearer <token>` counts (the scheme name is case-insensitive);
 * - missing, malformed, unknown, revoked and expired tokens all get the same 401, with
 *   `WWW-Authenticate: Bearer` and the SCIM error body: the response never says which it was;
 * - the authenticated token is the actor every change is audited under (`scim-token:<id>`).
 */
import type { Middleware } from 'koa';
import type { ScimTokenInfo, ScimTokenService } from '../../domain/scim-tokens.ts';
import { scimActor, type Actor } from '../../domain/actor.ts';
import { scimError } from './scim-errors.ts';

declare module 'koa' {
  interface DefaultState {
    scimToken?: ScimTokenInfo;
    scimActor?: Actor;
  }
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i;

export function bearerAuth(tokens: ScimTokenService): Middleware {
  return async (ctx, next) => {
    const match = BEARER.exec(ctx.get('Authorization'));
    const token = match ? await tokens.authenticate(match[1]) : null;
    if (!token) throw scimError.unauthorized();
    ctx.state.scimToken = token;
    ctx.state.scimActor = scimActor(token.id);
    await next();
  };
}
