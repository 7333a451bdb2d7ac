/**
 * Request rate limits (rate-limiter-flexible, fixed window per key). Limits are per instance:
 * with N instances behind a balancer a client gets up to N times the budget, which still caps
 * abuse and keeps the store out of the shared path. A limit of 0 turns a limiter off.
 */
import type { Context, Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface RateLimit {
  /** Resolves when allowed; otherwise returns the whole seconds to wait (what Retry-After says). */
  consume(key: string): Promise<number | null>;
}

export function createRateLimit(points: number, durationSeconds: number): RateLimit {
  if (points <= 0) return { consume: async () => null };
  const limiter = new RateLimiterMemory({ points, duration: durationSeconds });
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return null;
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw rejection;
      }
    },
  };
}

/** For the browser's JSON endpoints: 429 with Retry-After and the usual {error, error_description}. */
export function limitRequests(limit: RateLimit, keyOf: (ctx: Context) => string): Middleware {
  return async (ctx, next) => {
    const wait = await limit.consume(keyOf(ctx));
    if (wait !== null) {
      ctx.status = 429;
      ctx.set('Retry-After', String(wait));
      ctx.body = { error: 'rate_limited', error_description: `Too many attempts. Wait ${wait} seconds and try again.` };
      return;
    }
    await next();
  };
}
