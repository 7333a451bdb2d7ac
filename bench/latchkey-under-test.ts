/**
 * A Latchkey server process on a fresh store for a benchmark, plus the same store opened in the
 * benchmark process (as the CLI does) to set up apps, people and tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config.ts';
import { createServices, openStore, type Services } from '../server/bootstrap.ts';
import { dropRedisPrefix, REDIS_URL, type StoreKind } from '../test/support/test-server.ts';
import { freePort, startServerProcess, type ServerProcess } from './server-process.ts';

export interface LatchkeyUnderTest {
  url: string;
  services: Services;
  process: ServerProcess;
  close(): Promise<void>;
}

export async function startLatchkey(store: StoreKind): Promise<LatchkeyUnderTest> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
  const env: Record<string, string> = {
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    DATA_DIR: dataDir,
    STORE: store,
    // One load generator on one address is not abuse: measure the work, not the limiter.
    SIGNIN_RATE_LIMIT_PER_MINUTE: '0',
    SCIM_RATE_LIMIT_PER_SECOND: '0',
    ...(store === 'redis' ? { REDIS_URL, REDIS_KEY_PREFIX: `latchkey-bench:${Date.now()}:` } : {}),
  };
  const config = loadConfig(env);
  // Opened first so the development instance secret exists before the server reads it.
  const services = createServices(config, await openStore(config));
  // The compiled server, as production runs it (`npm start`): run `npm run build:server` first.
  // BENCH_SERVER_SCRIPT runs another build instead (a copy of an older dist/), to compare two.
  const server = await startServerProcess(process.env.BENCH_SERVER_SCRIPT ?? 'dist/server/main.js', env, config.publicUrl);
  return {
    url: config.publicUrl,
    services,
    process: server,
    async close() {
      await server.stop();
      await services.store.close();
      if (store === 'redis') await dropRedisPrefix(config.redisKeyPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
