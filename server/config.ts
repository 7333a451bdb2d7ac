/**
 * Configuration: read from the environment once, validated, frozen. Every problem is listed at
 * start-up in one message, so an operator fixes them all in one go rather than one per restart.
 * Issuer, WebAuthn RP ID and expected origin all derive from PUBLIC_URL so they cannot disagree.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { FIDO_MDS_ROOT_PEM } from './domain/fido-mds-root.ts';

const durationPattern = /^(\d+)\s*(ms|s|m|h|d)$/;
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "7d", "90m", "30s" -> milliseconds. */
export function parseDuration(text: string): number | null {
  const match = durationPattern.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * unitMs[match[2]];
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like "7d", "12h" or "30m", got "${text}"` });
        return z.NEVER;
      }
      return ms;
    });

const publicUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a URL: "${text}"` });
    return;
  }
  if (!['http:', 'https:'].includes(url.protocol)) ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
  if (url.search || url.hash || url.pathname.replace(/\/+$/, '') !== '') {
    ctx.addIssue({ code: 'custom', message: 'must be an origin such as https://id.example.com, without path, query or fragment' });
  }
});

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: publicUrl.optional(),
  DATA_DIR: z.string().default('./data'),
  STORE: z.enum(['sqlite', 'redis']).default('sqlite'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  REDIS_KEY_PREFIX: z.string().default('latchkey:'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  MAIL_FROM: z.string().default('Latchkey <no-reply@localhost>'),
  ORG_NAME: z.string().default('Latchkey'),
  MAIL_RATE_PER_SECOND: z.coerce.number().positive('must be a positive number of emails per second').max(1000).default(10),
  LATCHKEY_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  COOKIE_KEYS: z
    .string()
    .refine((text) => text.split(',').every((key) => key.trim().length >= 32), 'each comma-separated key must be at least 32 characters')
    .optional(),
  ENROLLMENT_LINK_TTL: duration('7d'),
  SESSION_TTL: duration('8h'),
  EXPIRY_SWEEP_INTERVAL: duration('10m'),
  // A rotated signing key is published this long before it signs (see domain/signing-keys.ts).
  KEY_ACTIVATION_DELAY: duration('1h').refine((ms) => ms >= 10_000, 'must be at least 10s (the JWKS max-age and the time every instance needs to see a new key must fit in it)'),
  SIGNIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0, 'must be 0 (off) or more').default(300),
  SCIM_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0, 'must be 0 (off) or more').default(200),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  // Operations (README "Operations"): start-up wait, store timeouts, retry pacing, shutdown.
  REDIS_WAIT: duration('30s'),
  STORE_TIMEOUT: duration('2s'),
  OKTA_RETRY_BASE: duration('1s'),
  OKTA_RETRY_MAX: duration('15s'),
  MAIL_RETRY_BASE: duration('2s'),
  MAIL_RETRY_MAX: duration('60s'),
  SHUTDOWN_GRACE: duration('8s'),
  // Longer than a load balancer's idle timeout (AWS ALB 60 s, Google Cloud's 600 s), or it reuses a
  // connection this server is closing and answers 502 for a request that never arrived.
  KEEP_ALIVE_TIMEOUT: duration('65s').refine((ms) => ms >= 1000 && ms <= 900_000, 'must be between 1s and 15m'),
  REDIS_SENTINELS: z
    .string()
    .transform((text, ctx) => {
      const nodes = text.split(',').map((entry) => entry.trim()).filter(Boolean);
      const parsed = nodes.map((entry) => /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(entry));
      const bad = nodes.filter((_, i) => !parsed[i] || Number(parsed[i]![2]) < 1 || Number(parsed[i]![2]) > 65535);
      if (nodes.length === 0 || bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `expected a comma-separated host:port list such as "sentinel-1:26379,sentinel-2:26379", got "${bad[0] ?? text}"` });
        return z.NEVER;
      }
      return parsed.map((match) => ({ host: match![1].replace(/^\[|\]$/g, ''), port: Number(match![2]) }));
    })
    .optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^[\w.-]+$/, 'must be the master name the sentinels monitor (letters, digits, ".", "-", "_")').optional(),
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters (it guards GET /metrics)').optional(),
  // The root a FIDO Metadata Service BLOB must chain to (`latchkey metadata import`); default the FIDO root.
  FIDO_MDS_ROOT_CERT: z
    .string()
    .transform((file, ctx) => {
      let pem: string;
      try {
        pem = readFileSync(file, 'utf8');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read "${file}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
        return z.NEVER;
      }
      try {
        if (!new X509Certificate(pem).ca) throw new Error('it is not a CA certificate');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `"${file}" is not a PEM CA certificate (${(error as Error).message})` });
        return z.NEVER;
      }
      return pem;
    })
    .optional(),
});

/** Rules across variables, checked on the raw environment so they are listed even when a field is invalid. */
function crossFieldProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (env.STORE === 'redis' && !env.REDIS_URL && !env.REDIS_SENTINELS) problems.push('REDIS_URL: required when STORE=redis (or REDIS_SENTINELS with REDIS_SENTINEL_NAME)');
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master name the sentinels monitor)');
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) problems.push('REDIS_SENTINELS: required with REDIS_SENTINEL_NAME (comma-separated host:port of the sentinels)');
  if (env.NODE_ENV === 'production') {
    // Development defaults are generated per machine; in production they would differ between
    // instances (breaking sessions) or be lost with the container.
    if (!env.PUBLIC_URL) problems.push('PUBLIC_URL: required in production');
    if (!env.LATCHKEY_SECRET) problems.push('LATCHKEY_SECRET: required in production (encrypts keys and secrets at rest)');
    if (!env.COOKIE_KEYS) problems.push('COOKIE_KEYS: required in production (comma-separated, each at least 32 characters)');
  }
  return problems;
}

export interface Config {
  env: 'production' | 'development' | 'test';
  port: number;
  publicUrl: string;
  issuer: string;
  rpId: string;
  origin: string;
  dataDir: string;
  store: 'sqlite' | 'redis';
  redisUrl: string | null;
  redisKeyPrefix: string;
  /** Sentinel mode: the sentinels to ask for the current primary of redisSentinelName. */
  redisSentinels: { host: string; port: number }[] | null;
  redisSentinelName: string | null;
  smtpUrl: string | null;
  mailFrom: string;
  orgName: string;
  mailRatePerSecond: number;
  instanceSecret: string | null;
  cookieKeys: string[] | null;
  enrollmentLinkTtlMs: number;
  sessionTtlMs: number;
  /** How often the server deletes expired sessions, codes and challenges from the store (they are invisible at once regardless). */
  expirySweepIntervalMs: number;
  /** How long a rotated signing key is published before it signs. */
  keyActivationDelayMs: number;
  logLevel: string;
  trustProxy: boolean;
  /** Passkey ceremony requests per client IP and minute (0: off). */
  signinRateLimitPerMinute: number;
  /** SCIM requests per bearer token and second (0: off). */
  scimRateLimitPerSecond: number;
  /** With STORE=redis: how long start-up waits for Redis before giving up. */
  redisWaitMs: number;
  /** Longest a single store command may take before it fails (Redis commandTimeout, readiness probe). */
  storeTimeoutMs: number;
  /** First retry delay, and the cap while the upstream is down (job-runner.ts). */
  oktaRetry: { baseMs: number; maxMs: number };
  mailRetry: { baseMs: number; maxMs: number };
  /** SIGTERM: how long in-flight requests and running jobs may take before the process exits anyway. */
  shutdownGraceMs: number;
  /** How long an idle keep-alive connection stays open (http.Server keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /** Bearer token for GET /metrics; null: /metrics is not served. */
  metricsToken: string | null;
  /** PEM of the root a FIDO MDS3 BLOB must chain to: FIDO_MDS_ROOT_CERT, else GlobalSign Root CA - R3. */
  fidoMdsRootPem: string;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Readonly<Config> {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`)),
    ...crossFieldProblems(cleaned),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const env = parsed.data;
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  const url = new URL(publicUrl);
  return Object.freeze({
    env: env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development',
    port: env.PORT,
    publicUrl,
    issuer: publicUrl,
    rpId: url.hostname,
    origin: url.origin,
    dataDir: path.resolve(env.DATA_DIR),
    store: env.STORE,
    redisUrl: env.REDIS_URL ?? null,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    redisSentinels: env.REDIS_SENTINELS ?? null,
    redisSentinelName: env.REDIS_SENTINEL_NAME ?? null,
    smtpUrl: env.SMTP_URL ?? null,
    mailFrom: env.MAIL_FROM,
    orgName: env.ORG_NAME,
    mailRatePerSecond: env.MAIL_RATE_PER_SECOND,
    instanceSecret: env.LATCHKEY_SECRET ?? null,
    cookieKeys: env.COOKIE_KEYS ? env.COOKIE_KEYS.split(',').map((key) => key.trim()) : null,
    enrollmentLinkTtlMs: env.ENROLLMENT_LINK_TTL,
    sessionTtlMs: env.SESSION_TTL,
    expirySweepIntervalMs: env.EXPIRY_SWEEP_INTERVAL,
    keyActivationDelayMs: env.KEY_ACTIVATION_DELAY,
    logLevel: env.LOG_LEVEL,
    trustProxy: env.TRUST_PROXY === 'true',
    signinRateLimitPerMinute: env.SIGNIN_RATE_LIMIT_PER_MINUTE,
    scimRateLimitPerSecond: env.SCIM_RATE_LIMIT_PER_SECOND,
    redisWaitMs: env.REDIS_WAIT,
    storeTimeoutMs: env.STORE_TIMEOUT,
    oktaRetry: { baseMs: env.OKTA_RETRY_BASE, maxMs: env.OKTA_RETRY_MAX },
    mailRetry: { baseMs: env.MAIL_RETRY_BASE, maxMs: env.MAIL_RETRY_MAX },
    shutdownGraceMs: env.SHUTDOWN_GRACE,
    keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT,
    metricsToken: env.METRICS_TOKEN ?? null,
    fidoMdsRootPem: env.FIDO_MDS_ROOT_CERT ?? FIDO_MDS_ROOT_PEM,
  } satisfies Config);
}
