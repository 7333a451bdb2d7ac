/**
 * Starts a real Latchkey (real store, real HTTP server on an ephemeral loopback port) for a test.
 * The port is bound first so PUBLIC_URL (issuer, RP ID, origin) can name it.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { loadConfig } from '../../server/config.ts';
import { cookieKeysFor, createServices, openStore, type Services } from '../../server/bootstrap.ts';
import { createApp } from '../../server/app.ts';
import { createLogger, type Logger } from '../../server/logger.ts';
import type { Clock } from '../../server/ports/clock.ts';

export type StoreKind = 'sqlite' | 'redis';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestServer {
  url: string;
  services: Services;
  app: Awaited<ReturnType<typeof createApp>>;
  dataDir: string;
  env: Record<string, string>;
  server: Server;
  close(): Promise<void>;
}

export async function startTestServer(options: { store?: StoreKind; env?: Record<string, string>; clock?: Clock; dataDir?: string; keepData?: boolean; logger?: Logger } = {}): Promise<TestServer> {
  const kind = options.store ?? 'sqlite';
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'latchkey-test-'));
  const prefix = `latchkey-test:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}:`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    DATA_DIR: dataDir,
    STORE: kind,
    LOG_LEVEL: 'silent',
    ...(kind === 'redis' ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const store = await openStore(config);
  const services = createServices(config, store, options.clock);
  const cookieKeys = await cookieKeysFor(config, store);
  const app = await createApp({ services, cookieKeys, logger: options.logger ?? createLogger(config.logLevel) });
  server.on('request', app.app.callback());
  return {
    url: config.publicUrl,
    services,
    app,
    dataDir,
    env,
    server,
    async close() {
      app.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      if (kind === 'redis' && !options.keepData) await dropRedisPrefix(config.redisKeyPrefix);
      if (!options.dataDir && !options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Calls `visit` with every batch of keys under a Redis key prefix (SCAN, never KEYS); stops when it returns true. */
async function scanPrefix(redis: Redis, prefix: string, visit: (keys: string[]) => Promise<boolean | void>): Promise<boolean> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length && (await visit(keys))) return true;
  } while (cursor !== '0');
  return false;
}

export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    await scanPrefix(redis, prefix, async (keys) => void (await redis.unlink(...keys)));
  } finally {
    redis.disconnect();
  }
}

/** Test stores both ways: every suite that says it runs on both stores loops over this. */
export const STORE_KINDS: StoreKind[] = ['sqlite', 'redis'];

/** Whether `text` appears in any key name or value under a Redis key prefix (every data type read). */
export async function redisHolds(prefix: string, text: string): Promise<boolean> {
  const redis = new Redis(REDIS_URL);
  const holds = async (key: string) => {
    if (key.includes(text)) return true;
    const type = await redis.type(key);
    const values: string[] =
      type === 'string' ? [(await redis.get(key)) ?? '']
      : type === 'hash' ? Object.entries(await redis.hgetall(key)).flat()
      : type === 'set' ? await redis.smembers(key)
      : type === 'zset' ? await redis.zrange(key, 0, -1)
      : type === 'list' ? await redis.lrange(key, 0, -1)
      : type === 'stream' ? (await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields])
      : [];
    return values.some((value) => value.includes(text));
  };
  try {
    return await scanPrefix(redis, prefix, async (keys) => {
      for (const key of keys) if (await holds(key)) return true;
      return false;
    });
  } finally {
    redis.disconnect();
  }
}
