/**
 * The one JSON body reader for every endpoint that takes JSON (SCIM, admin and dashboard APIs,
 * sign-in and enrollment ceremonies). Rules:
 * - reading is size-capped (@koa/bodyparser / co-body stop at the limit): too large is 413;
 * - strict JSON (an object or array at the top), UTF-8;
 * - nesting deeper than MAX_JSON_DEPTH is refused before any handler sees the value. V8's
 *   JSON.parse copes with 10,000 levels, but JSON.stringify, structuredClone and every recursive
 *   walk after it overflow the stack, which would surface as a 500;
 * - failures are a JsonBodyError with a reason, so each edge answers in its own error format.
 */
import type { Context } from 'koa';
import { bodyParser } from '@koa/bodyparser';

/** Far beyond any legitimate body here (SCIM PATCH values are a few levels deep). */
export const MAX_JSON_DEPTH = 32;

export type JsonBodyFailure = 'too_large' | 'invalid_json' | 'too_deep';

export class JsonBodyError extends Error {
  readonly reason: JsonBodyFailure;
  constructor(reason: JsonBodyFailure, message: string) {
    super(message);
    this.name = 'JsonBodyError';
    this.reason = reason;
  }
}

/** True when `value` nests deeper than `max` arrays/objects. Iterative: never recurses itself. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Reads the request's JSON body into ctx.request.body, or throws JsonBodyError. The caller checks
 * the Content-Type first (each edge words that refusal itself).
 */
export function createJsonBodyReader(options: { limit: string }) {
  const parse = bodyParser({
    enableTypes: ['json'],
    jsonLimit: options.limit,
    jsonStrict: true,
    encoding: 'utf-8',
  });
  return async function readJsonBody(ctx: Context): Promise<unknown> {
    try {
      await parse(ctx, async () => undefined);
    } catch (error) {
      const { status, type } = error as { status?: number; type?: string };
      if (status === 413 || type === 'entity.too.large') throw new JsonBodyError('too_large', `request body is larger than the ${options.limit} this endpoint accepts`);
      throw new JsonBodyError('invalid_json', `request body is not valid JSON: ${(error as Error).message}`);
    }
    if (nestsDeeperThan(ctx.request.body, MAX_JSON_DEPTH)) {
      ctx.request.body = undefined;
      throw new JsonBodyError('too_deep', `request body nests arrays/objects more than ${MAX_JSON_DEPTH} levels deep`);
    }
    return ctx.request.body;
  };
}
