/**
 * Resource versions as ETags (RFC 7644 §3.14, RFC 7232). Rules:
 * - a resource's `meta.version` and its `ETag` header are the weak ETag W/"<record version>";
 *   the record version moves on every write, so the tag changes exactly when the resource does;
 * - If-Match on PUT, PATCH and DELETE: the write happens only against that version (compared
 *   weakly: W/ is ignored, as SCIM versions are weak), else 412; `*` matches any existing resource;
 * - If-None-Match on GET by id: a matching tag answers 304 with no body.
 */
import type { Context } from 'koa';
import { isAppError } from '../../domain/errors.ts';
import { ScimError } from './scim-errors.ts';

export const etagOf = (version: number): string => `W/"${version}"`;

function tagsOf(header: string): string[] {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '')
    .map((tag) => (tag.startsWith('W/') ? tag.slice(2) : tag));
}

function matches(header: string, version: number): boolean {
  const tags = tagsOf(header);
  return tags.includes('*') || tags.includes(`"${version}"`);
}

/** The version an If-Match asks for (undefined when none was sent); 412 when it is not current. */
export function requireIfMatch(ctx: Context, current: { version: number }, what: string): number | undefined {
  const header = ctx.get('If-Match');
  if (!header) return undefined;
  if (!matches(header, current.version)) {
    throw new ScimError(412, `${what} is at version ${etagOf(current.version)}, not ${header}: read it again and retry (RFC 7644 §3.14)`);
  }
  return current.version;
}

/** True (and the response set to 304) when If-None-Match names the current version. */
export function notModified(ctx: Context, version: number): boolean {
  const header = ctx.get('If-None-Match');
  if (!header || !matches(header, version)) return false;
  ctx.status = 304;
  ctx.set('ETag', etagOf(version));
  ctx.body = null;
  return true;
}

/**
 * Runs a read-modify-write, again from a fresh read when someone else wrote in between (the
 * domain refuses a write whose version moved on). Without If-Match, applying the request to the
 * newer state is what the client asked for; with If-Match (`pinned`) the client asked for that
 * version only, so a lost race is 412 like any other mismatch.
 */
export async function retryOnStale<T>(work: () => Promise<T>, pinned: () => boolean, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (!isAppError(error, 'stale')) throw error;
      if (pinned()) throw new ScimError(412, 'the resource changed while this request was applied; read it again and retry (RFC 7644 §3.14)');
      if (attempt >= attempts) throw error;
    }
  }
}
