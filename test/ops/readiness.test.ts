/**
 * /readyz tells the truth and never hangs, and a person mid-login sees "try again in a moment"
 * instead of a hang (issue 13, item 2): a private redis-server killed and restarted under a running
 * Latchkey; an SQLite DATA_DIR on a small tmpfs filled to the last byte (root only: it mounts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { startRedisProcess } from '../support/redis-process.ts';
import { authorizationUrl, enrolledPerson, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { browse, CookieJar, follow, signInOverHttp } from '../support/http-login.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

async function readyWithin(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await fetch(`${url}/readyz`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`not ready again within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('readiness and store outages', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('Redis killed mid-login: /readyz says 503 within 1 s, the login page says try again (503, CSP), and both recover by themselves', async () => {
    const persistDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-redis-'));
    cleanups.push(() => rmSync(persistDir, { recursive: true, force: true }));
    const redis = await startRedisProcess({ persistDir });
    cleanups.push(() => redis.stop());
    const server: TestServer = await startTestServer({ store: 'redis', env: { REDIS_URL: redis.url, STORE_TIMEOUT: '1s' } });
    cleanups.push(() => server.close());
    const { rp, group } = await setUpOkta(server);
    const { authenticator } = await enrolledPerson(server, 'pat@example.com', group.id);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    const jar = new CookieJar();
    const landing = await follow(jar, authorizationUrl(rp).url, server.url);
    expect(landing.url).toContain('/interaction/');
    expect(landing.response.status).toBe(200);

    await redis.stop('SIGKILL');
    const ready = await timed(() => fetch(`${server.url}/readyz`));
    expect(ready.value.status).toBe(503);
    expect(await ready.value.json()).toMatchObject({ status: 'unavailable', store: 'redis' });
    expect(ready.ms).toBeLessThan(1_000);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    const page = await timed(() => browse(jar, landing.url, { headers: { accept: 'text/html' } }));
    expect(page.value.status).toBe(503);
    expect(page.value.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.value.headers.get('content-security-policy')).toMatch(/default-src/);
    expect(page.value.headers.get('retry-after')).toBe('5');
    expect(await page.value.text()).toMatch(/try again in a moment/i);
    expect(page.ms).toBeLessThan(3_000);

    await redis.start();
    await readyWithin(server.url, 10_000);
    // The same sign-in goes on where it stopped.
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: landing.url, authenticator, jar });
    expect(login.verify.status).toBe(200);
    expect(login.callbackUrl.startsWith(OKTA_CALLBACK)).toBe(true);
    expect(new URL(login.callbackUrl).searchParams.get('code')).toBeTruthy();
  }, 120_000);

  it.skipIf(process.getuid?.() !== 0)('SQLite disk full: /readyz says 503 within 1 s; freeing space makes it ready again', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dataDir]);
    cleanups.push(() => {
      execFileSync('umount', ['-l', dataDir]);
      rmSync(dataDir, { recursive: true, force: true });
    });
    const server = await startTestServer({ store: 'sqlite', dataDir });
    cleanups.push(() => server.close());
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    const filler = path.join(dataDir, 'filler');
    const fd = openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(64 * 1024);
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    const ready = await timed(() => fetch(`${server.url}/readyz`));
    expect(ready.value.status).toBe(503);
    expect(await ready.value.json()).toMatchObject({ status: 'unavailable', store: 'sqlite', reason: 'store_error' });
    expect(ready.ms).toBeLessThan(1_000);
    // A write that needs new pages really fails: the probe is not crying wolf.
    await expect(server.services.identities.create({ userName: 'big@example.com', email: 'big@example.com', displayName: 'x'.repeat(200_000) }, CLI_ACTOR)).rejects.toThrow();

    rmSync(filler);
    await readyWithin(server.url, 5_000);
  }, 60_000);
});
