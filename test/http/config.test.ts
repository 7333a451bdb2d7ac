import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../../server/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('configuration', () => {
  it('derives issuer, RP ID and origin from PUBLIC_URL', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://id.example.com/', PORT: '8080' });
    expect(config).toMatchObject({ issuer: 'https://id.example.com', rpId: 'id.example.com', origin: 'https://id.example.com', port: 8080, store: 'sqlite' });
    expect(loadConfig({}).publicUrl).toBe('http://localhost:3000');
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({ PORT: 'eighty', STORE: 'mongo', PUBLIC_URL: 'https://id.example.com/idp', ENROLLMENT_LINK_TTL: 'forever', SMTP_URL: 'mail.example.com' });
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/STORE/);
    expect(problems.join('\n')).toMatch(/PUBLIC_URL: must be an origin/);
    expect(problems.join('\n')).toMatch(/ENROLLMENT_LINK_TTL: expected a duration/);
    expect(problems.join('\n')).toMatch(/SMTP_URL/);
  });

  it('validates EXPIRY_SWEEP_INTERVAL as a duration (default 10 minutes)', () => {
    expect(loadConfig({}).expirySweepIntervalMs).toBe(10 * 60_000);
    expect(loadConfig({ EXPIRY_SWEEP_INTERVAL: '30s' }).expirySweepIntervalMs).toBe(30_000);
    expect(problemsOf({ EXPIRY_SWEEP_INTERVAL: 'often' })).toEqual(['EXPIRY_SWEEP_INTERVAL: expected a duration like "7d", "12h" or "30m", got "often"']);
    expect(problemsOf({ EXPIRY_SWEEP_INTERVAL: '0s' })).toEqual(['EXPIRY_SWEEP_INTERVAL: expected a duration like "7d", "12h" or "30m", got "0s"']);
  });

  it('requires REDIS_URL with STORE=redis', () => {
    expect(problemsOf({ STORE: 'redis' })).toEqual(['REDIS_URL: required when STORE=redis (or REDIS_SENTINELS with REDIS_SENTINEL_NAME)']);
  });

  it('takes Redis Sentinel instead of REDIS_URL, and names what is wrong with it', () => {
    const config = loadConfig({ STORE: 'redis', REDIS_SENTINELS: 's1:26379, 10.0.0.2:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'mymaster' });
    expect(config.redisSentinels).toEqual([{ host: 's1', port: 26379 }, { host: '10.0.0.2', port: 26380 }, { host: '::1', port: 26381 }]);
    expect(config.redisSentinelName).toBe('mymaster');
    expect(problemsOf({ STORE: 'redis', REDIS_SENTINELS: 's1:26379' })).toEqual(['REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master name the sentinels monitor)']);
    expect(problemsOf({ REDIS_SENTINEL_NAME: 'mymaster' })).toEqual(['REDIS_SENTINELS: required with REDIS_SENTINEL_NAME (comma-separated host:port of the sentinels)']);
    expect(problemsOf({ REDIS_SENTINELS: 's1:26379,s2', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      'REDIS_SENTINELS: expected a comma-separated host:port list such as "sentinel-1:26379,sentinel-2:26379", got "s2"',
    ]);
    expect(problemsOf({ REDIS_SENTINELS: 's1:99999', REDIS_SENTINEL_NAME: 'a b' })).toHaveLength(2);
  });

  it('refuses development defaults in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['COOKIE_KEYS', 'LATCHKEY_SECRET', 'PUBLIC_URL']);
    expect(problemsOf({ NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com', LATCHKEY_SECRET: 'x'.repeat(40), COOKIE_KEYS: 'short' })).toEqual([
      'COOKIE_KEYS: each comma-separated key must be at least 32 characters',
    ]);
  });

  it('validates KEY_ACTIVATION_DELAY: a duration of at least 10 s, 1 h by default', () => {
    expect(loadConfig({}).keyActivationDelayMs).toBe(3_600_000);
    expect(loadConfig({ KEY_ACTIVATION_DELAY: '15m' }).keyActivationDelayMs).toBe(900_000);
    expect(problemsOf({ KEY_ACTIVATION_DELAY: '5s' })).toEqual([expect.stringMatching(/^KEY_ACTIVATION_DELAY: must be at least 10s/)]);
    expect(problemsOf({ KEY_ACTIVATION_DELAY: 'later' })).toEqual([expect.stringMatching(/^KEY_ACTIVATION_DELAY: expected a duration/)]);
  });

  it('validates KEEP_ALIVE_TIMEOUT: between 1 s and 15 min, 65 s by default (past a balancer\'s 60 s)', () => {
    expect(loadConfig({}).keepAliveTimeoutMs).toBe(65_000);
    expect(loadConfig({ KEEP_ALIVE_TIMEOUT: '620s' }).keepAliveTimeoutMs).toBe(620_000);
    expect(problemsOf({ KEEP_ALIVE_TIMEOUT: '500ms' })).toEqual([expect.stringMatching(/^KEEP_ALIVE_TIMEOUT: must be between 1s and 15m/)]);
    expect(problemsOf({ KEEP_ALIVE_TIMEOUT: 'forever' })).toEqual([expect.stringMatching(/^KEEP_ALIVE_TIMEOUT: expected a duration/)]);
  });

  it('parses durations', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('soon')).toBeNull();
  });
});
