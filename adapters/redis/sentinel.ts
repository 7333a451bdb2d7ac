/**
 * Redis Sentinel mode (REDIS_SENTINELS, REDIS_SENTINEL_NAME): ioredis asks the sentinels for the
 * current primary of `name` and connects to it. On a failover:
 * - failoverDetector subscribes to the sentinels' +switch-master and reconnects at once, instead
 *   of waiting for the old primary's connection to break;
 * - a write that reaches the demoted primary first (now a replica) fails with READONLY:
 *   reconnectOnError reconnects and resends it to the new primary (ioredis returns 2 = resend);
 * - commands issued while reconnecting wait in ioredis's offline queue, so a sign-in in flight
 *   completes on the new primary instead of failing.
 * Replication is asynchronous (Redis's own guarantee): a write acknowledged by the old primary in
 * the last instant before it dies may be missing on the new one.
 */
import { Redis, type RedisOptions } from 'ioredis';

export function sentinelClient(sentinel: { sentinels: { host: string; port: number }[]; name: string }, url: string | null, tuning: RedisOptions = {}): Redis {
  const parsed = url ? new URL(url) : null;
  const db = parsed && parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  return new Redis({
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    username: parsed?.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed?.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isInteger(db) ? db : undefined,
    tls: parsed?.protocol === 'rediss:' ? {} : undefined,
    failoverDetector: true,
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    lazyConnect: true,
    ...tuning,
  });
}
