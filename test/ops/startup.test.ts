/**
 * Start-up failures an operator can act on, with the real server process (`npm start`): one line
 * naming the variable and the cause, no stack trace; STORE=redis waits for Redis for REDIS_WAIT;
 * one server per embedded store (DATA_DIR), the CLI beside it allowed, kill -9 leaves no stale lock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort, runServerUntilExit, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { startScript } from '../support/start-script.ts';
import { startRedisProcess, type RedisProcess } from '../support/redis-process.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

/** The lines an operator reads on a refused start (the JSON log lines are not part of the refusal). */
const refusalLines = (stderr: string) => stderr.split('\n').filter((line) => line.trim() && !line.includes('oidc-provider WARNING'));

describe('start-up failures (real server process)', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const tempDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-ops-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const track = (server: ServerProcess) => {
    cleanups.push(() => server.stop('SIGKILL'));
    return server;
  };

  it('a port in use: one line naming PORT and the cause, exit 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as { port: number }).port;
    const result = await runServerUntilExit({ env: { PORT: String(port), DATA_DIR: tempDir() } });
    expect(result.code).toBe(1);
    expect(refusalLines(result.stderr)).toEqual([`Latchkey cannot start: PORT ${port} is already in use by another process`]);
    expect(result.stderr + result.stdout).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('Redis unreachable: waits REDIS_WAIT, then one line naming REDIS_URL and the cause, exit 1', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await runServerUntilExit({ env: { STORE: 'redis', REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}`, REDIS_WAIT: '2s', DATA_DIR: tempDir() } });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(refusalLines(result.stderr)).toEqual([`Latchkey cannot start: REDIS_URL redis://127.0.0.1:${port} did not answer within 2 s (REDIS_WAIT): ECONNREFUSED`]);
    expect(result.stderr + result.stdout).not.toMatch(/\n\s+at |Unhandled error event|hunter2/);
  }, 60_000);

  it('Redis that comes up after Latchkey: start-up waits for it, then serves', async () => {
    const redis: RedisProcess = await startRedisProcess({ start: false });
    cleanups.push(() => redis.stop());
    const starting = startServerProcess({ env: { STORE: 'redis', REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'latchkey-ops-test:', REDIS_WAIT: '30s', DATA_DIR: tempDir() }, timeoutMs: 60_000 });
    // Start Redis only once the server is provably waiting: a stand-in on Redis's port drops the
    // server's first connection attempt (as a Redis not up yet would), then makes way.
    await new Promise<void>((resolve, reject) => {
      const standIn = createServer((socket) => {
        socket.destroy();
        standIn.close(() => resolve());
      });
      standIn.once('error', reject);
      standIn.listen(redis.port, '127.0.0.1');
    });
    await redis.start();
    const server = track(await starting);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await server.stop()).toBe(0);
  }, 90_000);

  it('one server per DATA_DIR: a second is refused with one line, the CLI beside it works, kill -9 leaves no stale lock', async () => {
    const dataDir = tempDir();
    const first = track(await startServerProcess({ env: { DATA_DIR: dataDir } }));

    const second = await runServerUntilExit({ env: { DATA_DIR: dataDir } });
    expect(second.code).toBe(1);
    expect(refusalLines(second.stderr)).toEqual([`Latchkey cannot start: DATA_DIR ${dataDir} is in use by another Latchkey server (pid ${first.child.pid}); stop it first, or use STORE=redis to run several instances`]);

    // The CLI shares the database with the running server.
    const cli = await run(process.execPath, ['bin/latchkey.js', 'identities', 'create', '--username', 'pat@example.com', '--email', 'pat@example.com'], { cwd: root, env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'test' } });
    expect(JSON.parse(cli.stdout)).toMatchObject({ username: 'pat@example.com' });

    expect(await first.stop('SIGKILL')).toBeNull();
    const restarted = track(await startServerProcess({ env: { DATA_DIR: dataDir } }));
    expect((await fetch(`${restarted.url}/readyz`)).status).toBe(200);
  }, 120_000);

  it('the container runs node with the same flags on the same entry as npm start', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'))?.[1];
    const { flags, entry } = startScript();
    expect(JSON.parse(cmd ?? '[]')).toEqual(['node', ...flags, entry]);
    // The old generation grows by half its live size between full GCs (README "Production"): RSS under load stays bounded.
    expect(flags).toContain('--heap-growing-percent=50');
  });
});
