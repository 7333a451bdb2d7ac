/**
 * Liveness and readiness (README "Operations"). Rules:
 * - GET /healthz: the process answers HTTP. It never touches the store: restarting a process
 *   does not fix a full disk or a Redis outage, so a liveness probe must not fail for them;
 * - GET /readyz: 200 only when the store just wrote a value and read it back (and, on SQLite,
 *   the disk has room), within READY_TIMEOUT_MS; 503 otherwise, and 503 while shutting down,
 *   so a load balancer sends traffic only where a sign-in can succeed. It always answers within
 *   a second, whatever the store does, and concurrent probes share one store round trip;
 * - the reason is in the body and logged when readiness changes, not on every probe.
 */
import Router from '@koa/router';
import type { Store } from '../ports/storage.ts';
import type { Logger } from '../logger.ts';

export const READY_TIMEOUT_MS = 900;

export interface HealthOptions {
  store: Pick<Store, 'ping' | 'kind'>;
  logger: Logger;
  /** True once a shutdown started. */
  draining?: () => boolean;
  timeoutMs?: number;
  /** Facts for the operator added to a ready answer (e.g. a stale metadata BLOB); they never make it fail. */
  details?: () => Record<string, unknown>;
}

/** `reason` is logged in full; the public body only says which kind (no paths or hosts). */
export type Readiness = { ready: true } | { ready: false; kind: 'timeout' | 'store_error' | 'shutting_down'; reason: string };

export function createReadinessProbe(options: HealthOptions) {
  const timeoutMs = options.timeoutMs ?? READY_TIMEOUT_MS;
  let inFlight: Promise<Readiness> | null = null;
  let last: Readiness | null = null;

  async function probeOnce(): Promise<Readiness> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, kind: 'timeout', reason: `store did not answer within ${timeoutMs} ms` }), timeoutMs);
    });
    const probe = options.store.ping().then(
      (): Readiness => ({ ready: true }),
      (error: unknown): Readiness => ({ ready: false, kind: 'store_error', reason: (error as Error).message || String(error) }),
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  return async function check(): Promise<Readiness> {
    if (options.draining?.()) return { ready: false, kind: 'shutting_down', reason: 'shutting down' };
    inFlight ??= probeOnce().finally(() => {
      inFlight = null;
    });
    const result = await inFlight;
    if (last?.ready !== result.ready) {
      if (result.ready) options.logger.info({ store: options.store.kind }, 'store ready');
      else options.logger.warn({ store: options.store.kind, reason: result.reason }, 'store not ready');
    }
    last = result;
    return result;
  };
}

export function createHealthRoutes(options: HealthOptions) {
  const readiness = createReadinessProbe(options);
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const result = await readiness();
    if (result.ready) {
      ctx.body = { status: 'ready', store: options.store.kind, ...options.details?.() };
    } else {
      ctx.status = 503;
      ctx.body = { status: result.kind === 'shutting_down' ? 'draining' : 'unavailable', store: options.store.kind, reason: result.kind };
    }
  });
  return router.routes();
}
