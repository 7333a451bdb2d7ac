/**
 * The CLI prints links on the server's real public address: the server records its PUBLIC_URL in
 * the store at start, and a CLI run without PUBLIC_URL (and with another PORT) reads it from there.
 * With no server ever started on a store and no PUBLIC_URL, commands that print links refuse with
 * one line instead of guessing http://localhost:3000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../bin/latchkey.js');

async function cli(env: Record<string, string>, ...args: string[]) {
  const { PUBLIC_URL: _ignored, ...inherited } = process.env;
  try {
    const { stdout } = await run(process.execPath, [bin, ...args], { env: { ...inherited, ...env } });
    return { code: 0, json: JSON.parse(stdout), stderr: '' };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, json: null, stderr: failed.stderr };
  }
}

describe('the CLI learns the public URL from the store the server wrote', { timeout: 120_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
  });
  afterAll(async () => server?.close());

  it('prints the console and enrollment links on the running server’s ephemeral port, not PORT’s default', async () => {
    expect(server.url).not.toContain(':3000');
    const { PUBLIC_URL: _dropped, ...env } = server.env;
    const result = await cli({ ...env, PORT: '3000' }, 'admins', 'add', 'first.admin@acme.test');
    expect(result.stderr).toBe('');
    expect(result.json.console_url).toBe(`${server.url}/admin`);
    expect(result.json.enrollment_link.startsWith(`${server.url}/enroll/`)).toBe(true);
  });

  it('refuses with one clear line when no server has recorded its address and PUBLIC_URL is unset', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'latchkey-fresh-'));
    const result = await cli({ NODE_ENV: 'test', STORE: 'sqlite', DATA_DIR: fresh, LOG_LEVEL: 'silent' }, 'admins', 'add', 'first.admin@acme.test');
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/public URL is unknown: start Latchkey once .* or set PUBLIC_URL/);
  });
});
