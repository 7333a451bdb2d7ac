/**
 * Prometheus metrics (prom-client), one registry per running app so several instances in one
 * process (tests) never mix their series. Names follow the Prometheus conventions: a `latchkey_`
 * prefix, base units (seconds), `_total` for counters. Every label takes values from a bounded set
 * (route templates, error codes, queue names, key ids): never a raw path, user or token.
 * The README lists every series with its type, labels and meaning.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEvent } from '../ports/storage.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    logins: new Counter({ name: 'latchkey_logins_total', help: 'Passkey sign-ins by outcome (success, failure, denied) and reason (an error code; none on success)', labelNames: ['outcome', 'reason'], registers }),
    httpDuration: new Histogram({ name: 'latchkey_http_request_duration_seconds', help: 'HTTP request latency by method, route template and status', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers }),
    ceremonyDuration: new Histogram({ name: 'latchkey_passkey_ceremony_duration_seconds', help: 'WebAuthn ceremony request latency by ceremony (authentication, registration), step (options, verify) and outcome (ok, refused)', labelNames: ['ceremony', 'step', 'outcome'], buckets: LATENCY_BUCKETS, registers }),
    scimRequests: new Counter({ name: 'latchkey_scim_requests_total', help: 'SCIM requests by resource, operation and HTTP status', labelNames: ['resource', 'operation', 'status'], registers }),
    rateLimitRefusals: new Counter({ name: 'latchkey_rate_limit_refusals_total', help: 'Requests refused with 429 by a rate limit, by route template', labelNames: ['route'], registers }),
    storeDuration: new Histogram({ name: 'latchkey_store_operation_duration_seconds', help: 'Storage port call latency by repository and method', labelNames: ['repository', 'method'], buckets: STORE_BUCKETS, registers }),
    storeErrors: new Counter({ name: 'latchkey_store_errors_total', help: 'Storage port calls that threw, by repository, method and kind (conflict, stale, not_found: answers; failure: the store failed)', labelNames: ['repository', 'method', 'kind'], registers }),
    queueJobs: new Gauge({ name: 'latchkey_queue_jobs', help: 'Jobs per queue and state (pending, failed, done), read at scrape time', labelNames: ['queue', 'state'], registers }),
    queueOldestAge: new Gauge({ name: 'latchkey_queue_oldest_pending_age_seconds', help: 'How long the most overdue pending job of a queue has been due (0 when none is due), read at scrape time', labelNames: ['queue'], registers }),
    signingKeyAge: new Gauge({ name: 'latchkey_signing_key_age_seconds', help: 'Age of each ID token signing key by kid and state, read at scrape time', labelNames: ['kid', 'state'], registers }),
    collectErrors: new Counter({ name: 'latchkey_metrics_collect_errors_total', help: 'Scrape-time readings that failed (the store did not answer), by collector', labelNames: ['collector'], registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const REASON = /^[a-z][a-z0-9_.-]{0,47}$/;

/** Sign-in outcomes come from the audit events every sign-in writes, wherever the code lives. */
export function countLogin(metrics: Metrics, event: AuditEvent): void {
  if (!event.action.startsWith('signin.')) return;
  const outcome = event.action.slice('signin.'.length);
  if (!['success', 'failure', 'denied'].includes(outcome)) return;
  const reason = typeof event.detail.reason === 'string' && REASON.test(event.detail.reason) ? event.detail.reason : outcome === 'success' ? 'none' : 'other';
  metrics.logins.inc({ outcome, reason });
}
