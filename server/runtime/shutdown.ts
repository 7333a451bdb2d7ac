/**
 * SIGTERM/SIGINT: drain, then exit. Rules:
 * - readiness turns 503 at once, so a load balancer stops sending new requests;
 * - the HTTP server stops accepting connections, closes idle keep-alive ones, and lets every
 *   request in flight finish;
 * - the workers lease nothing new and finish the job they are running, whose outcome releases
 *   its lease, so another instance picks the remaining jobs at once instead of after the lease;
 * - then the store closes and the process exits 0. If that takes longer than SHUTDOWN_GRACE the
 *   process exits 1 anyway, logging what was still running (a job lease then expires by itself).
 * A second signal during the drain exits at once.
 */
import type { Server } from 'node:http';
import type { Logger } from '../logger.ts';

export interface ShutdownPlan {
  server: Server;
  logger: Logger;
  graceMs: number;
  /** Called first (readiness answers 503 from now on). */
  onDraining(): void;
  /** Stop workers; run beside the HTTP drain. */
  stopWorkers: Array<() => Promise<void>>;
  /** After both: close what the requests and workers used (mailer, provider, store). */
  close: Array<() => Promise<void> | void>;
}

export function drainOnSignals(plan: ShutdownPlan): void {
  let draining = false;
  const shutdown = async (signal: string) => {
    if (draining) {
      plan.logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    draining = true;
    const started = Date.now();
    plan.logger.info({ signal, graceMs: plan.graceMs }, 'shutting down: draining requests and jobs');
    plan.onDraining();
    const deadline = setTimeout(() => {
      plan.logger.error({ graceMs: plan.graceMs }, 'shutdown grace expired: exiting with requests or jobs still running');
      process.exit(1);
    }, plan.graceMs);
    deadline.unref();
    const httpDrained = new Promise<void>((resolve) => plan.server.close(() => resolve()));
    plan.server.closeIdleConnections();
    const idleSweep = setInterval(() => plan.server.closeIdleConnections(), 100);
    try {
      await Promise.all([httpDrained, ...plan.stopWorkers.map((stop) => stop())]);
      clearInterval(idleSweep);
      for (const close of plan.close) await close();
      plan.logger.info({ ms: Date.now() - started }, 'shutdown complete');
      process.exit(0);
    } catch (error) {
      plan.logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
