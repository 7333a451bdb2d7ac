/**
 * The test run's own setup: a Redis is started when none answers, and a missing Chromium stops the
 * run with one line naming the install command, instead of a half-run suite.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { MissingPrerequisite, ensureChromium, ensureRedis, redisAnswers } from './prerequisites.ts';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('npm test prerequisites', () => {
  it('starts a private redis-server when nothing answers at REDIS_URL, and stops it afterwards', async () => {
    const dead = `redis://127.0.0.1:${await closedPort()}`;
    expect(await redisAnswers(dead)).toBe(false);
    const redis = await ensureRedis({ url: dead });
    expect(redis.started).toBe(true);
    expect(redis.url).not.toBe(dead);
    expect(await redisAnswers(redis.url)).toBe(true);
    await redis.stop();
    expect(await redisAnswers(redis.url)).toBe(false);
  });

  it('uses a Redis that answers and never stops it', async () => {
    const own = await ensureRedis({ url: `redis://127.0.0.1:${await closedPort()}` });
    try {
      const reused = await ensureRedis({ url: own.url });
      expect(reused).toMatchObject({ url: own.url, started: false });
      await reused.stop();
      expect(await redisAnswers(own.url)).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('names the install command in one line when Chromium is missing and cannot be installed', () => {
    const env = { PATH: mkdtempSync(path.join(os.tmpdir(), 'no-chromium-')) };
    const missing = () => ensureChromium({ env, candidates: ['/nonexistent/chromium'], allowInstall: false });
    expect(missing).toThrow(MissingPrerequisite);
    expect(missing).toThrow("npm test needs Chromium for its browser tests and found none; install it with 'sudo apt-get install -y chromium' (or set CHROMIUM_PATH)");
  });

  it('finds Chromium on PATH when it is not at a well-known path', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chromium-on-path-'));
    writeFileSync(path.join(dir, 'chromium'), '#!/bin/sh\n', { mode: 0o755 });
    expect(ensureChromium({ env: { PATH: dir }, candidates: [], allowInstall: false })).toBe(path.join(dir, 'chromium'));
  });

  it('refuses a CHROMIUM_PATH that does not exist, naming it', () => {
    expect(() => ensureChromium({ env: { CHROMIUM_PATH: '/nonexistent/chromium' }, allowInstall: false })).toThrow('CHROMIUM_PATH is /nonexistent/chromium, which does not exist');
  });

  it('accepts CHROMIUM_PATH pointing at a file', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'chromium-')), 'chromium');
    writeFileSync(file, '');
    expect(ensureChromium({ env: { CHROMIUM_PATH: file }, allowInstall: false })).toBe(file);
  });
});
