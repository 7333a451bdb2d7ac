/**
 * GET /metrics (Prometheus text format) and the request observer that feeds it.
 * - Guarded by a bearer token (METRICS_TOKEN, compared in constant time): Prometheus sends it with
 *   `authorization: { credentials: … }`. Without METRICS_TOKEN the route does not exist (404):
 *   metrics are never public by default. 401 + WWW-Authenticate (RFC 6750 §3) for a missing or
 *   wrong token.
 * - Labels are route templates (`/scim/v2/Users/:id`), never raw paths, so ids cannot explode
 *   the number of series; a path no route claims is labelled `(other)`.
 * - Queue depth, queue age and key ages are read from the store at scrape time: every instance
 *   reports the shared queues, so sum() across instances over-counts; use max() for those.
 */
import type { Context, Middleware, Next } from 'koa';
import type { Services } from '../../bootstrap.ts';
import type { Logger } from '../../logger.ts';
import { constantTimeEqual } from '../../domain/secrets.ts';
import { OIDC_ROUTES } from '../../http/endpoints.ts';

const FIXED_ROUTES = new Set<string>([...Object.values(OIDC_ROUTES), '/.well-known/openid-configuration', '/healthz', '/readyz', '/metrics']);
const SCIM_PREFIX = '/scim/v2/';
const SCIM_OPERATIONS: Record<string, [withId: string, withoutId: string]> = {
  GET: ['get', 'list'],
  POST: ['create', 'create'],
  PUT: ['replace', 'replace'],
  PATCH: ['patch', 'patch'],
  DELETE: ['delete', 'delete'],
};
const CEREMONIES: Record<string, [ceremony: string, step: string]> = {
  '/interaction/:uid/passkey/options': ['authentication', 'options'],
  '/interaction/:uid/passkey/verify': ['authentication', 'verify'],
  '/enroll/:token/options': ['registration', 'options'],
  '/enroll/:token/verify': ['registration', 'verify'],
};

export function routeTemplate(ctx: Context): string {
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (FIXED_ROUTES.has(ctx.path)) return ctx.path;
  if (ctx.path.startsWith('/assets/')) return '/assets/*';
  return '(other)';
}

function scimLabels(ctx: Context): { resource: string; operation: string } {
  const [resource = 'unknown', id] = ctx.path.slice(SCIM_PREFIX.length).split('/');
  const known = ['Users', 'Groups', 'ServiceProviderConfig', 'ResourceTypes', 'Schemas', 'Bulk', 'Me', '.search'].includes(resource) ? resource : 'unknown';
  const [withId, withoutId] = SCIM_OPERATIONS[ctx.method] ?? ['other', 'other'];
  const operation = ctx.method === 'POST' && (id === '.search' || resource === '.search') ? 'search' : id ? withId : withoutId;
  return { resource: known, operation };
}

export function createMetricsEdge(deps: { services: Services; logger: Logger; queues: string[] }) {
  const { services, logger, queues } = deps;
  const { metrics, store, config } = services;

  // Scrape-time readings. A failing store must not fail the scrape: the store error counters
  // are what shows the outage, so a reading that throws is counted and its series left as is.
  async function reading(collector: string, read: () => Promise<void>) {
    try {
      await read();
    } catch (error) {
      metrics.collectErrors.inc({ collector });
      logger.warn({ err: error, collector }, 'metrics reading failed');
    }
  }
  async function readStore() {
    const now = services.clock.now();
    await Promise.all([
      ...queues.map((queue) =>
        reading('queues', async () => {
          const [counts, due] = await Promise.all([store.jobs.counts(queue), store.jobs.oldestDue(queue)]);
          for (const [state, n] of Object.entries(counts)) metrics.queueJobs.set({ queue, state }, n);
          metrics.queueOldestAge.set({ queue }, due === null ? 0 : Math.max(0, now - due) / 1000);
        }),
      ),
      reading('signing_keys', async () => {
        const keys = await services.signingKeys.list();
        metrics.signingKeyAge.reset();
        for (const key of keys) metrics.signingKeyAge.set({ kid: key.kid, state: key.status }, Math.max(0, now - key.createdAt) / 1000);
      }),
    ]);
  }

  const observe: Middleware = async (ctx: Context, next: Next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const route = routeTemplate(ctx);
      const status = String(ctx.status);
      metrics.httpDuration.observe({ method: ctx.method, route, status }, seconds);
      if (ctx.status === 429) metrics.rateLimitRefusals.inc({ route });
      const ceremony = CEREMONIES[route];
      if (ceremony) metrics.ceremonyDuration.observe({ ceremony: ceremony[0], step: ceremony[1], outcome: ctx.status < 400 ? 'ok' : 'refused' }, seconds);
      if (ctx.path.startsWith(SCIM_PREFIX)) metrics.scimRequests.inc({ ...scimLabels(ctx), status });
    }
  };

  const token = config.metricsToken;
  const routes: Middleware = async (ctx: Context, next: Next) => {
    if (ctx.path !== '/metrics' || token === null) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    const presented = /^Bearer (.+)$/i.exec(ctx.get('authorization'))?.[1]?.trim() ?? '';
    if (!constantTimeEqual(presented, token)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `Bearer realm="latchkey-metrics"${presented ? ', error="invalid_token"' : ''}`);
      ctx.body = { error: 'invalid_token', error_description: presented ? 'the metrics token is wrong' : 'send the metrics token as Authorization: Bearer <METRICS_TOKEN>' };
      return;
    }
    await readStore();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };

  return { observe, routes };
}
