/**
 * Redis Sentinel under login load: a primary, a replica and three sentinels (all our own
 * redis-server processes on free ports; quorum 2), Latchkey configured with REDIS_SENTINELS and
 * REDIS_SENTINEL_NAME only. People sign in continuously while SENTINEL FAILOVER promotes the
 * replica; sign-ins resume on the new primary and no person or passkey is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';

const REDIS_SERVER = '/usr/bin/redis-server';
const MASTER = 'latchkey-primary';
const dir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-sentinel-'));
const processes: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function start(args: string[]): void {
  const child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
  processes.push(child);
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ask<T>(port: number, ...command: [string, ...(string | number)[]]): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined); // a process not up yet: until() asks again
  try {
    await client.connect();
    return (await client.call(...command)) as T;
  } finally {
    client.disconnect();
  }
}

describe('Redis Sentinel failover under login load', { timeout: 60_000 }, () => {
  let primary: number;
  let replica: number;
  const sentinels: number[] = [];
  let server: TestServer;

  beforeAll(async () => {
    primary = await freePort();
    replica = await freePort();
    const common = ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir];
    start(['--port', String(primary), ...common]);
    start(['--port', String(replica), ...common, '--replicaof', '127.0.0.1', String(primary)]);
    await until('the replica in sync', async () => (await ask<string>(replica, 'INFO', 'replication')).includes('master_link_status:up'), 10_000);
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      sentinels.push(port);
      const file = path.join(dir, `sentinel-${i}.conf`);
      writeFileSync(file, [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER} 127.0.0.1 ${primary} 2`,
        `sentinel down-after-milliseconds ${MASTER} 1000`,
        `sentinel failover-timeout ${MASTER} 10000`,
        `sentinel parallel-syncs ${MASTER} 1`,
        '',
      ].join('\n'));
      start([file, '--sentinel']);
    }
    await until('sentinels that know the replica and each other', async () => {
      const replicas = await ask<unknown[]>(sentinels[0], 'SENTINEL', 'REPLICAS', MASTER);
      const peers = await ask<unknown[]>(sentinels[0], 'SENTINEL', 'SENTINELS', MASTER);
      return replicas.length === 1 && peers.length === 2;
    }, 20_000);
    server = await startTestServer({
      store: 'redis',
      // No REDIS_URL: the sentinels alone say where the primary is.
      // Continuous sign-ins from one address: measure the failover, not the per-address limiter.
      env: { SIGNIN_RATE_LIMIT_PER_MINUTE: '0', REDIS_URL: '', REDIS_SENTINELS: sentinels.map((port) => `127.0.0.1:${port}`).join(','), REDIS_SENTINEL_NAME: MASTER },
    });
  });

  afterAll(async () => {
    await server?.close();
    for (const child of processes) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps signing people in across a failover, with every person and passkey intact', async () => {
    const okta = await setUpOkta(server);
    const people = [];
    for (const name of ['ada', 'grace', 'linus']) people.push(await enrolledPerson(server, `${name}@example.com`, okta.group.id));
    // Enrolments are on the replica before the failover (replication is asynchronous).
    expect(await ask<number>(primary, 'WAIT', 1, 5000)).toBe(1);

    const results: { at: number; ok: boolean }[] = [];
    let stop = false;
    const load = people.map(async (person) => {
      while (!stop) {
        const ok = await signInOverHttp({ origin: server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator: person.authenticator })
          .then((result) => result.callbackUrl.startsWith(OKTA_CALLBACK) && new URL(result.callbackUrl).searchParams.has('code'))
          .catch(() => false);
        results.push({ at: Date.now(), ok });
      }
    });
    try {
      await until('sign-ins under load', async () => results.filter((r) => r.ok).length >= 3, 15_000);
      expect(await ask<string>(sentinels[0], 'SENTINEL', 'FAILOVER', MASTER)).toBe('OK');
      await until('the replica promoted', async () => (await ask<string[]>(sentinels[1], 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER))[1] === String(replica), 20_000);
      await until('the new primary accepting writes', async () => (await ask<string>(replica, 'INFO', 'replication')).includes('role:master'), 10_000);
      const switched = Date.now();
      await until('sign-ins on the new primary', async () => results.filter((r) => r.at > switched && r.ok).length >= 6, 20_000);
    } finally {
      stop = true;
      await Promise.all(load);
    }
    // Once the failover is over, sign-ins succeed again: the last ones all did.
    expect(results.slice(-3).every((r) => r.ok)).toBe(true);

    // Nothing lost: every person and passkey is on the new primary, and each signs in there.
    expect((await server.services.store.identities.query({ offset: 0, limit: 10, now: Date.now() })).total).toBe(3);
    for (const person of people) {
      expect(await server.services.store.passkeys.listByIdentity(person.identity.id)).toHaveLength(1);
      const again = await signInOverHttp({ origin: server.url, authorizationUrl: authorizationUrl(okta.rp).url, authenticator: person.authenticator });
      expect(again.callbackUrl.startsWith(OKTA_CALLBACK)).toBe(true);
    }
    const failures = results.filter((r) => !r.ok).length;
    console.info(`sentinel failover: ${results.length} sign-ins, ${failures} failed during the switch`);
  });
});
