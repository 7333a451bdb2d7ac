/**
 * The server exactly as `npm start` runs it (test/support/server-process.ts): a separate process
 * configured by its environment, observed through its port, its logs and its exit code.
 */
import { describe, expect, it } from 'vitest';
import { runServerUntilExit, startServerProcess } from '../support/server-process.ts';

describe('the server process (npm start)', { timeout: 90_000 }, () => {
  it('starts on a fresh data directory, answers /healthz and /readyz, and exits 0 on SIGTERM', async () => {
    const server = await startServerProcess();
    const listening = server.logs().find((line) => /listening/i.test(String(line.msg)));
    expect(listening).toMatchObject({ level: 30, port: server.port, store: 'sqlite', issuer: server.url });
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready', store: 'sqlite' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.logs().some((line) => String(line.msg).startsWith('shutting down') && line.signal === 'SIGTERM')).toBe(true);
    expect(server.logs().some((line) => line.msg === 'shutdown complete')).toBe(true);
  });

  it('refuses to start on a bad configuration: exit code 78 and every problem listed, one per line', async () => {
    const result = await runServerUntilExit({
      env: {
        PORT: 'eighty',
        STORE: 'mongo',
        PUBLIC_URL: 'https://id.example.com/idp',
        ENROLLMENT_LINK_TTL: 'forever',
        SMTP_URL: 'mail.example.com',
        SIGNIN_RATE_LIMIT_PER_MINUTE: '-1',
      },
    });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    // (A runtime warning from a dependency may come first; the refusal is the block after its header.)
    const lines = result.stderr.trim().split('\n');
    const header = 'Latchkey cannot start, the configuration has 6 problem(s):';
    expect(lines).toContain(header);
    const problems = lines.slice(lines.indexOf(header) + 1).map((line) => line.replace(/^ {2}- /, ''));
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['ENROLLMENT_LINK_TTL', 'PORT', 'PUBLIC_URL', 'SIGNIN_RATE_LIMIT_PER_MINUTE', 'SMTP_URL', 'STORE']);
    expect(problems).toContain('ENROLLMENT_LINK_TTL: expected a duration like "7d", "12h" or "30m", got "forever"');
    expect(problems).toContain('PUBLIC_URL: must be an origin such as https://id.example.com, without path, query or fragment');
    expect(problems).toContain('SIGNIN_RATE_LIMIT_PER_MINUTE: must be 0 (off) or more');
  });

  it('refuses development defaults in production, naming each missing variable', async () => {
    const result = await runServerUntilExit({ env: { NODE_ENV: 'production', PORT: '0' } });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('the configuration has 3 problem(s)');
    for (const variable of ['PUBLIC_URL', 'LATCHKEY_SECRET', 'COOKIE_KEYS']) expect(result.stderr).toMatch(new RegExp(`^  - ${variable}: required in production`, 'm'));
  });
});
