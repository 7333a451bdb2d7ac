/**
 * Login cost: the complete passkey login against Latchkey (authorize -> login page with its
 * passkey options -> ES256 assertion -> verify -> resume -> code -> token -> userinfo) on each
 * store, the same code flow against a bare oidc-provider (the floor) whose login is finished
 * programmatically, and the login against that provider given only a passkey step and SQLite (the
 * lower bound, passkey-floor.ts). All servers run at once as compiled JavaScript in their own processes and are
 * driven in interleaved rounds, so a slow moment of this shared 2-core machine hits all of them
 * alike. Per target: throughput, latency, the server's CPU per login from /proc/<pid>/stat,
 * redis-server's own CPU per login (a private redis-server, so all of its CPU is ours), store
 * round trips per login (the server's own store timer, /metrics), and RSS idle and at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_ROLE } from '../server/domain/apps.ts';
import type { StoreKind, TestServer } from '../test/support/test-server.ts';
import { setUpOkta, enrolledPerson, authorizationUrl, OKTA_CALLBACK } from '../test/support/okta-fixture.ts';
import { pageData } from '../test/support/http-login.ts';
import { startRedisProcess, type RedisProcess } from '../test/support/redis-process.ts';
import { LeanBrowser, request } from './http-client.ts';
import { SoftAuthenticator } from '../test/support/soft-authenticator.ts';
import { startLatchkey, type LatchkeyUnderTest } from './latchkey-under-test.ts';
import { cpuMsOf, freePort, ioSyscallsOf, residentFilesOf, rssMiBOf, rssPartsOf, startServerProcess } from './server-process.ts';
import { combine, drive, type LoadResult } from './stats.ts';

async function redeem(issuer: string, callbackUrl: string, clientId: string, clientSecret: string): Promise<void> {
  const code = new URL(callbackUrl).searchParams.get('code');
  if (!code) throw new Error(`no code in ${callbackUrl}`);
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const token = await request('POST', `${issuer}/token`, { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK }).toString());
  const tokens = JSON.parse(token.text) as { access_token?: string; id_token?: string };
  if (!tokens.id_token || !tokens.access_token) throw new Error(`token endpoint answered ${token.status}`);
  if (JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url').toString()).alg !== 'RS256') throw new Error('the ID token is not RS256');
  const userinfo = await request('GET', `${issuer}/userinfo`, { authorization: `Bearer ${tokens.access_token}` });
  if (userinfo.status !== 200) throw new Error(`userinfo answered ${userinfo.status}`);
}

/** What the login page's script does: use the embedded options, assert, post, follow the redirect. */
async function passkeyLogin(origin: string, authorizationUrl: string, authenticator: SoftAuthenticator): Promise<string> {
  const browser = new LeanBrowser();
  const page = await browser.follow(authorizationUrl, origin);
  const data = pageData(page.response.text);
  const assertion = authenticator.authenticate(JSON.parse(data.options));
  const verify = await browser.send('POST', `${origin}/interaction/${data.uid}/passkey/verify`, { 'content-type': 'application/json', origin, 'x-csrf-token': data.csrf }, JSON.stringify(assertion));
  const redirect = (JSON.parse(verify.text) as { redirect?: string }).redirect;
  if (!redirect) throw new Error(`login refused: ${verify.text}`);
  return (await browser.follow(redirect, origin)).url;
}

/** A server under load: how to run one login, whose CPU to read, and what it can tell about itself. */
interface LoginTarget {
  name: string;
  pid: number;
  /** A private redis-server this target alone uses. */
  redisPid?: number;
  login(index: number): Promise<void>;
  /** Store calls so far by "repository.method" (Latchkey only). */
  storeCalls?(): Promise<Map<string, number>>;
  /** V8 heap sizes in MiB (Latchkey only). */
  heap?(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface LoginBenchRow {
  name: string;
  load: LoadResult;
  cpuMsPerLogin: number;
  redisCpuMsPerLogin: number | null;
  storeCallsPerLogin: number | null;
  /** The server's read and write system calls per login (ioSyscallsOf). */
  syscallsPerLogin: { reads: number; writes: number };
  /** Store calls per login by "repository.method", most frequent first. */
  storeCallBreakdown: [string, number][];
  rssIdleMiB: number;
  rssAfterMiB: number;
  /** RSS after by kind: anonymous (V8 heap, SQLite's page cache) and file-backed or shared (code, memory-mapped database pages). */
  rssAfterParts: { anon: number; file: number };
}

const bareAuthorization = (issuer: string) =>
  `${issuer}/authorize?${new URLSearchParams({ client_id: 'bare', redirect_uri: OKTA_CALLBACK, response_type: 'code', scope: 'openid email profile', state: randomUUID(), nonce: randomUUID() })}`;

async function floorTarget(): Promise<LoginTarget> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const clientSecret = randomBytes(32).toString('base64url');
  const child = await startServerProcess('dist/bench/bare-provider-main.js', { PORT: String(port), REDIRECT_URI: OKTA_CALLBACK, CLIENT_SECRET: clientSecret }, issuer, '/.well-known/openid-configuration');
  return {
    name: 'bare oidc-provider (floor)',
    pid: child.pid,
    async login() {
      const done = await new LeanBrowser().follow(bareAuthorization(issuer), issuer);
      if (!done.url.startsWith(OKTA_CALLBACK)) throw new Error(`bare provider stopped at ${done.url}`);
      await redeem(issuer, done.url, 'bare', clientSecret);
    },
    close: () => child.stop(),
  };
}

/**
 * The bare provider with a passkey step and SQLite (passkey-floor.ts): what the issue's required
 * parts cost on their own, the lowest a passkey login on this library can go. Its people enroll
 * through its own registration ceremony first.
 */
async function passkeyFloorTarget(people: number): Promise<LoginTarget> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const clientSecret = randomBytes(32).toString('base64url');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-floor-'));
  const child = await startServerProcess('dist/bench/passkey-floor-main.js', { PORT: String(port), REDIRECT_URI: OKTA_CALLBACK, CLIENT_SECRET: clientSecret, DATA_DIR: dataDir }, issuer, '/.well-known/openid-configuration');
  const close = async () => {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const authenticators: SoftAuthenticator[] = [];
  try {
    for (let index = 0; index < people; index++) {
      const authenticator = new SoftAuthenticator({ origin: issuer, counterStep: 0 });
      const options = await request('POST', `${issuer}/enroll/person-${index}/options`, {});
      const enrolled = await request('POST', `${issuer}/enroll/person-${index}`, { 'content-type': 'application/json' }, JSON.stringify(await authenticator.register(JSON.parse(options.text))));
      if (enrolled.status !== 200) throw new Error(`passkey floor enrollment answered ${enrolled.status}: ${enrolled.text}`);
      authenticators.push(authenticator);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    name: 'oidc-provider + passkey step + SQLite (lower bound)',
    pid: child.pid,
    async login(index) {
      const callbackUrl = await passkeyLogin(issuer, bareAuthorization(issuer), authenticators[index % people]);
      if (!callbackUrl.startsWith(OKTA_CALLBACK)) throw new Error(`passkey floor stopped at ${callbackUrl}`);
      await redeem(issuer, callbackUrl, 'bare', clientSecret);
    },
    close,
  };
}

/**
 * Writes `count` people straight to the store (as a big directory would hold), 50 at a time (within
 * the store timeout on a busy machine). The first is an admin, as in any deployment in use.
 */
async function fillIdentities(latchkey: LatchkeyUnderTest, count: number): Promise<void> {
  const now = Date.now();
  for (let start = 0; start < count; start += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - start) }, (_, offset) => {
      const userName = `filler${start + offset}@bench.example.com`;
      return latchkey.services.store.identities.create({
        id: randomUUID(), userName, email: userName, emailVerified: true, source: 'cli', givenName: 'Filler', familyName: 'Person', displayName: null,
        externalId: null, oktaUserId: null, locale: null, active: true, roles: start + offset === 0 ? [ADMIN_ROLE] : [], attributes: {}, createdAt: now, updatedAt: now, version: 1,
      });
    }));
  }
}

async function latchkeyTarget(store: StoreKind, options: { identities: number; people: number; script?: string; flags?: string[] }): Promise<{ target: LoginTarget; rssIdleMiB: number; redis: RedisProcess | null }> {
  const redis = store === 'redis' ? await startRedisProcess() : null;
  const latchkey = await startLatchkey(store, { redisUrl: redis?.url, script: options.script, flags: options.flags });
  const server = { url: latchkey.url, services: latchkey.services } as TestServer;
  let rssIdleMiB: number;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  const authenticators: SoftAuthenticator[] = [];
  try {
    // Idle: started, nothing asked of it yet but readiness.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rssIdleMiB = rssMiBOf(latchkey.process.pid);
    // The fixtures need only the URL and the services of a server.
    okta = await setUpOkta(server);
    for (let index = 0; index < options.people; index++) {
      const person = await enrolledPerson(server, `bench${index}@example.com`, okta.group.id);
      authenticators.push(person.authenticator);
    }
    // Synced passkeys report a zero counter; using it keeps concurrent logins of one person valid.
    for (const authenticator of authenticators) (authenticator as unknown as { counterStep: number }).counterStep = 0;
    await fillIdentities(latchkey, options.identities);
  } catch (error) {
    await latchkey.close();
    await redis?.stop('SIGTERM');
    throw error;
  }
  return {
    rssIdleMiB,
    redis,
    target: {
      name: `Latchkey, ${store === 'sqlite' ? 'SQLite' : 'Redis'}${options.script || options.flags?.length ? ` (${[options.script, ...(options.flags ?? [])].filter(Boolean).join(' ')})` : ''}`,
      pid: latchkey.process.pid,
      redisPid: redis?.pid ?? undefined,
      async login(index) {
        const { url } = authorizationUrl(okta.rp);
        const callbackUrl = await passkeyLogin(latchkey.url, url, authenticators[index % options.people]);
        if (!callbackUrl.startsWith(OKTA_CALLBACK)) throw new Error(`login ended at ${callbackUrl}`);
        await redeem(latchkey.url, callbackUrl, okta.app.id, okta.clientSecret);
      },
      storeCalls: () => latchkey.storeCalls(),
      heap: () => latchkey.heap(),
      async close() {
        await latchkey.close();
        await redis?.stop('SIGTERM');
      },
    },
  };
}

const totalOf = (calls: Map<string, number>) => [...calls.values()].reduce((sum, count) => sum + count, 0);

/** `after - before - overhead`, per key. */
function callsBetween(before: Map<string, number>, after: Map<string, number>, overhead: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, count] of after) {
    const calls = count - (before.get(key) ?? 0) - (overhead.get(key) ?? 0);
    if (calls > 0) delta.set(key, calls);
  }
  return delta;
}

/**
 * Floor, Latchkey on SQLite and Latchkey on Redis, started together and driven in `rounds`
 * interleaved rounds of logins/rounds each (the order rotates every round). BENCH_COMPARE_SCRIPT
 * (another build's main.js, e.g. a copy of an older dist/) adds that build on the stores listed in
 * BENCH_COMPARE_STORES (default sqlite) as more targets in the same rounds: a before/after in one run.
 * BENCH_COMPARE_FLAGS (node flags for those targets only, e.g. "--max-semi-space-size=4") compares
 * flags instead, or as well ("a b|c": one target with a and b, one with c); without
 * BENCH_COMPARE_SCRIPT the compared build is this one.
 */
export async function benchLogins(options: { logins: number; concurrency: number; rounds: number; identities: number; people?: number }): Promise<LoginBenchRow[]> {
  const floor = await floorTarget();
  let passkeyFloor: LoginTarget | null = null;
  let sqlite: Awaited<ReturnType<typeof latchkeyTarget>> | null = null;
  let redis: Awaited<ReturnType<typeof latchkeyTarget>>;
  let floorIdle: number;
  let passkeyFloorIdle: number;
  try {
    passkeyFloor = await passkeyFloorTarget(options.people ?? 64);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    floorIdle = rssMiBOf(floor.pid);
    passkeyFloorIdle = rssMiBOf(passkeyFloor.pid);
    sqlite = await latchkeyTarget('sqlite', { identities: options.identities, people: options.people ?? 64 });
    redis = await latchkeyTarget('redis', { identities: options.identities, people: options.people ?? 64 });
  } catch (error) {
    await floor.close();
    await passkeyFloor?.close();
    await sqlite?.target.close();
    throw error;
  }
  const targets = [
    { target: floor, rssIdleMiB: floorIdle },
    { target: passkeyFloor, rssIdleMiB: passkeyFloorIdle },
    { target: sqlite.target, rssIdleMiB: sqlite.rssIdleMiB },
    { target: redis.target, rssIdleMiB: redis.rssIdleMiB },
  ];
  const compareScript = process.env.BENCH_COMPARE_SCRIPT;
  // "a b|c" compares two sets of flags: "a b" and "c", each on its own targets (with every script).
  const flagSets = process.env.BENCH_COMPARE_FLAGS?.split('|').map((set) => set.split(' ').filter(Boolean)) ?? [undefined];
  // "a.js|b.js" compares two other builds.
  const scripts = compareScript?.split('|') ?? [undefined];
  for (const [script, compareFlags] of compareScript || process.env.BENCH_COMPARE_FLAGS ? scripts.flatMap((script) => flagSets.map((flags) => [script, flags] as const)) : []) {
    for (const store of (process.env.BENCH_COMPARE_STORES ?? 'sqlite').split(',') as StoreKind[]) {
      const other = await latchkeyTarget(store, { identities: options.identities, people: options.people ?? 64, script, flags: compareFlags }).catch(async (error) => {
        for (const { target } of targets) await target.close();
        throw error;
      });
      targets.push({ target: other.target, rssIdleMiB: other.rssIdleMiB });
    }
  }
  try {
    const measured = targets.map(() => ({ rounds: [] as LoadResult[], cpuMs: 0, redisCpuMs: 0, calls: new Map<string, number>(), reads: 0, writes: 0 }));
    // The metrics scrape makes store calls of its own (queue gauges, key ages): measured once, subtracted.
    const scrapeCost = await Promise.all(targets.map(async ({ target }) => {
      if (!target.storeCalls) return new Map<string, number>();
      const first = await target.storeCalls();
      return callsBetween(first, await target.storeCalls(), new Map());
    }));
    for (const { target } of targets) await drive(Math.min(100, options.logins), options.concurrency, (index) => target.login(index)); // warm-up
    const perRound = Math.ceil(options.logins / options.rounds);
    for (let round = 0; round < options.rounds; round++) {
      for (let turn = 0; turn < targets.length; turn++) {
        const index = (round + turn) % targets.length;
        const { target } = targets[index];
        const callsBefore = target.storeCalls ? await target.storeCalls() : null;
        const cpuBefore = cpuMsOf(target.pid);
        const syscallsBefore = ioSyscallsOf(target.pid);
        const redisBefore = target.redisPid ? cpuMsOf(target.redisPid) : 0;
        const result = await drive(perRound, options.concurrency, (login) => target.login(login));
        measured[index].cpuMs += cpuMsOf(target.pid) - cpuBefore;
        const syscallsAfter = ioSyscallsOf(target.pid);
        measured[index].reads += syscallsAfter.reads - syscallsBefore.reads;
        measured[index].writes += syscallsAfter.writes - syscallsBefore.writes;
        if (target.redisPid) measured[index].redisCpuMs += cpuMsOf(target.redisPid) - redisBefore;
        measured[index].rounds.push(result);
        if (callsBefore && target.storeCalls) {
          for (const [key, count] of callsBetween(callsBefore, await target.storeCalls(), scrapeCost[index])) {
            measured[index].calls.set(key, (measured[index].calls.get(key) ?? 0) + count);
          }
        }
        console.log(`round ${round + 1}/${options.rounds} ${target.name}: ${result.perSecond.toFixed(0)} logins/s${result.errors ? `, ${result.errors} errors (${result.firstError})` : ''}`);
      }
    }
    for (const { target } of targets) if (target.heap) console.log(`${target.name}: V8 heap after (MiB)`, await target.heap(), 'resident files (MiB)', residentFilesOf(target.pid));
    // With BENCH_SERVER_FLAGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=…": a snapshot (after a
    // full GC) of each Latchkey server, and its heap again: what is live, not garbage awaiting a GC.
    if (process.env.BENCH_HEAP_SNAPSHOT) {
      for (const { target } of targets) if (target.heap) process.kill(target.pid, 'SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 8000));
      for (const { target } of targets) if (target.heap) console.log(`${target.name}: V8 heap after a snapshot's full GC (MiB)`, await target.heap(), `RSS ${rssMiBOf(target.pid).toFixed(0)} MiB`);
    }
    return targets.map(({ target, rssIdleMiB }, index) => {
      const { rounds, cpuMs, redisCpuMs, calls, reads, writes } = measured[index];
      const load = combine(rounds);
      const logins = load.count + load.errors;
      return {
        name: target.name,
        load,
        cpuMsPerLogin: cpuMs / logins,
        redisCpuMsPerLogin: target.redisPid ? redisCpuMs / logins : null,
        storeCallsPerLogin: target.storeCalls ? totalOf(calls) / logins : null,
        syscallsPerLogin: { reads: reads / logins, writes: writes / logins },
        storeCallBreakdown: [...calls].map(([key, count]): [string, number] => [key, count / logins]).sort((a, b) => b[1] - a[1]),
        rssIdleMiB,
        rssAfterMiB: rssMiBOf(target.pid),
        rssAfterParts: rssPartsOf(target.pid),
      };
    });
  } finally {
    for (const { target } of targets) await target.close();
  }
}
