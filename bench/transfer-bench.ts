/**
 * `npx tsx bench/transfer-bench.ts`: how long backup/restore/migrate take for 10,000 people (each
 * with a passkey and an audit event): SQLite export/import, Redis import/export, and the Redis
 * snapshot script alone (the part that blocks Redis). Uses REDIS at 127.0.0.1:6379 under its own
 * prefix and removes it afterwards. Not part of `npm test` or `npm run bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openSqliteStore } from '../adapters/sqlite/sqlite-store.ts';
import { openRedisStore } from '../adapters/redis/redis-store.ts';
import { dropRedisPrefix } from '../test/support/test-server.ts';
const N = 10_000;
const now = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'measure-'));
const sqlite = await openSqliteStore({ dataDir: dir });
for (let i = 0; i < N; i++) {
  const id = `id-${i}`;
  await sqlite.identities.create({ id, userName: `u${i}@x.test`, email: `u${i}@x.test`, emailVerified: true, source: 'scim', givenName: 'A', familyName: 'B', displayName: null, externalId: `e${i}`, oktaUserId: `00u${i}`, locale: null, active: true, roles: [], attributes: {}, createdAt: now, updatedAt: now, version: 1 });
  await sqlite.passkeys.insert({ id: `cred-${i}`, identityId: id, publicKey: 'pQECAyYgASFYIG'.repeat(6), counter: 0, transports: ['internal'], aaguid: 'x', deviceType: 'multiDevice', backedUp: true, attestationFormat: 'none', attested: false, name: 'k', createdAt: now, lastUsedAt: null });
  await sqlite.audit.append({ id: `ev-${i}`, at: now + i, kind: 'auth', action: 'signin.success', actor: 'x', target: null, outcome: 'success', detail: {} });
}
let t = performance.now();
const items = [];
for await (const item of sqlite.exportAll({ now })) items.push(item);
console.log(`sqlite export ${items.length} records: ${Math.round(performance.now() - t)} ms`);
const prefix = `latchkey-measure:${Date.now()}:`;
const redis = await openRedisStore({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix });
t = performance.now();
await redis.importAll(items);
console.log(`redis import: ${Math.round(performance.now() - t)} ms`);
const probe = new Redis('redis://127.0.0.1:6379');
const keyCount = (await probe.keys(`${prefix}*`)).length;
// The snapshot step alone (what blocks Redis): the same COPY loop the export's script runs.
t = performance.now();
await probe.eval(`local n = 0
for _, key in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do
  redis.call('COPY', key, ARGV[2] .. string.sub(key, #ARGV[1] + 1)); n = n + 1
end
return n`, 0, prefix, `${prefix}tmp:bench-copy:`);
console.log(`redis snapshot script alone (${keyCount} keys): ${Math.round(performance.now() - t)} ms`);
await dropRedisPrefix(`${prefix}tmp:bench-copy:`);
t = performance.now();
let count = 0;
let first = 0;
for await (const _ of redis.exportAll({ now })) { if (count++ === 0) first = performance.now() - t; }
console.log(`redis snapshot + first page: ${Math.round(first)} ms`);
console.log(`redis export ${count} records (${keyCount} keys): ${Math.round(performance.now() - t)} ms`);
t = performance.now();
const target = await openSqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'measure-')) });
await target.importAll(items);
console.log(`sqlite import: ${Math.round(performance.now() - t)} ms`);
await redis.close(); await sqlite.close(); await target.close();
await dropRedisPrefix(prefix);
probe.disconnect();
rmSync(dir, { recursive: true, force: true });
