/**
 * A Latchkey server process (compiled, as `npm start` runs it) on a fresh store for a benchmark,
 * plus the same store opened in the benchmark process (as the CLI does) to set up apps, people
 * and tokens. /metrics is on (METRICS_TOKEN) so a benchmark can count store round trips.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config.ts';
import { createServices, openStore, type Services } from '../server/bootstrap.ts';
import { dropRedisPrefix, REDIS_URL, type StoreKind } from '../test/support/test-server.ts';
import { startScript } from '../test/support/start-script.ts';
import { freePort, startServerProcess, type ServerProcess } from './server-process.ts';
import { request } from './http-client.ts';

export interface LatchkeyUnderTest {
  url: string;
  services: Services;
  process: ServerProcess;
  /** Store calls so far by "repository.method", from the server's own store timer (/metrics). */
  storeCalls(): Promise<Map<string, number>>;
  /** V8 heap sizes now, in MiB, from the server's own default metrics (heap total, new and old space, external). */
  heap(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const STORE_CALLS = /^latchkey_store_operation_duration_seconds_count\{repository="([^"]+)",method="([^"]+)"\} (\d+)/gm;

export async function startLatchkey(store: StoreKind, options: { redisUrl?: string; script?: string; flags?: string[] } = {}): Promise<LatchkeyUnderTest> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
  const metricsToken = randomBytes(24).toString('base64url');
  const env: Record<string, string> = {
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    DATA_DIR: dataDir,
    STORE: store,
    METRICS_TOKEN: metricsToken,
    // One load generator on one address is not abuse: measure the work, not the limiter.
    SIGNIN_RATE_LIMIT_PER_MINUTE: '0',
    SCIM_RATE_LIMIT_PER_SECOND: '0',
    ...(store === 'redis' ? { REDIS_URL: options.redisUrl ?? REDIS_URL, REDIS_KEY_PREFIX: `latchkey-bench:${Date.now()}:` } : {}),
  };
  const config = loadConfig(env);
  // Opened first so the development instance secret exists before the server reads it.
  const services = createServices(config, await openStore(config));
  // The compiled server, as production runs it (`npm start`, with its node flags): run
  // `npm run build:server` first. BENCH_SERVER_SCRIPT runs another build instead (a copy of an
  // older dist/), to compare two; it gets today's start flags too. options.flags come after them.
  const { flags, entry } = startScript();
  const server = await startServerProcess(options.script ?? process.env.BENCH_SERVER_SCRIPT ?? entry, env, config.publicUrl, '/readyz', [...flags, ...(options.flags ?? [])]);
  return {
    url: config.publicUrl,
    services,
    process: server,
    async storeCalls() {
      const response = await request('GET', `${config.publicUrl}/metrics`, { authorization: `Bearer ${metricsToken}` });
      if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
      const calls = new Map<string, number>();
      for (const [, repository, method, count] of response.text.matchAll(STORE_CALLS)) calls.set(`${repository}.${method}`, Number(count));
      return calls;
    },
    async heap() {
      const response = await request('GET', `${config.publicUrl}/metrics`, { authorization: `Bearer ${metricsToken}` });
      const mib = (pattern: RegExp) => Math.round(Number(pattern.exec(response.text)?.[1] ?? NaN) / 2 ** 20);
      return {
        heapTotal: mib(/^nodejs_heap_size_total_bytes (\S+)/m),
        newSpace: mib(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)/m),
        oldSpace: mib(/^nodejs_heap_space_size_total_bytes\{space="old"\} (\S+)/m),
        external: mib(/^nodejs_external_memory_bytes (\S+)/m),
      };
    },
    async close() {
      await server.stop();
      await services.store.close();
      if (store === 'redis' && !options.redisUrl) await dropRedisPrefix(config.redisKeyPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
