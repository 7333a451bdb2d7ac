/**
 * `latchkey backup` / `restore` / `migrate` as an operator runs them (separate CLI processes beside
 * a running server), proven by what matters: in the restored or migrated store, a person signs in
 * with the passkey they enrolled before, and the ID token is signed with the same key.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import * as oidc from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { dropRedisPrefix, REDIS_URL, startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, enrolledPerson, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { signInOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import type { ExportItem } from '../../server/ports/store-export.ts';
import { openRedisStore } from '../../adapters/redis/redis-store.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { openSqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import { SCIM_TOKENS_TOPIC } from '../../server/domain/scim-tokens.ts';
import { CHANGE_DELIVERY_MS } from '../../server/ports/storage.ts';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../bin/latchkey.js');
const SECRET = randomBytes(32).toString('base64url');
const work = mkdtempSync(path.join(os.tmpdir(), 'latchkey-backup-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; json: any; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    return { code: 0, json: JSON.parse(stdout), stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, json: null, stderr: failed.stderr };
  }
}

/** The same passkey (private key, credential id, counter), presented on another server's origin. */
function samePasskeyOn(original: SoftAuthenticator, origin: string): SoftAuthenticator {
  const moved = new SoftAuthenticator({ origin });
  for (const [id, credential] of original.credentials) moved.credentials.set(id, credential);
  return moved;
}

async function signInWithTokens(server: TestServer, appId: string, clientSecret: string, authenticator: SoftAuthenticator) {
  const rp = await oidc.discovery(new URL(server.url), appId, { client_secret: clientSecret }, oidc.ClientSecretBasic(clientSecret), { execute: [oidc.allowInsecureRequests] });
  const request = authorizationUrl(rp);
  const result = await signInOverHttp({ origin: server.url, authorizationUrl: request.url, authenticator });
  expect(result.callbackUrl.startsWith(OKTA_CALLBACK), JSON.stringify(result.verify.body)).toBe(true);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(result.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state, idTokenExpected: true });
  return { claims: tokens.claims()!, kid: decodeProtectedHeader(tokens.id_token!).kid };
}

async function exportOf(server: TestServer): Promise<ExportItem[]> {
  const items: ExportItem[] = [];
  for await (const item of server.services.store.exportAll({ now: Date.now() })) items.push(item);
  return items;
}

describe.each(STORE_KINDS)('backup and restore on %s', { timeout: 180_000 }, (store) => {
  it('backs up a live server, restores into a fresh store, and the same passkey signs in there', async () => {
    const source = await startTestServer({ store, env: { LATCHKEY_SECRET: SECRET } });
    const restoredDir = mkdtempSync(path.join(work, 'restored-'));
    const restoredPrefix = `latchkey-test:restored:${randomBytes(6).toString('hex')}:`;
    let target: TestServer | undefined;
    try {
      const okta = await setUpOkta(source);
      const alice = await enrolledPerson(source, 'alice@example.com', okta.group.id);
      const before = await signInWithTokens(source, okta.app.id, okta.clientSecret, alice.authenticator);

      const file = path.join(work, `${store}-backup.jsonl.gz`);
      const backup = await cli(source.env, 'backup', file);
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.json).toMatchObject({ store, instance_secret_included: false, counts: { identities: 1, passkeys: 1, signingKeys: 1 } });
      const text = gunzipSync(readFileSync(file)).toString('utf8');
      // Sealed values stay sealed, and the instance secret is nowhere in the file.
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(okta.clientSecret);
      expect(text).not.toContain('"d":');

      const targetEnv = { ...source.env, DATA_DIR: restoredDir, REDIS_KEY_PREFIX: restoredPrefix };
      const otherSecret = await cli({ ...targetEnv, LATCHKEY_SECRET: randomBytes(32).toString('base64url') }, 'restore', file);
      expect(otherSecret.code).toBe(1);
      expect(otherSecret.stderr).toMatch(/sealed with a different instance secret/);

      const restore = await cli(targetEnv, 'restore', file);
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.json).toMatchObject({ store, from: store, counts: backup.json.counts });

      const again = await cli(targetEnv, 'restore', file);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^latchkey: the target \w+ store is not empty; .*--force/);
      // A server beside the store (here: one more connection to it) hears that its remembered
      // SCIM tokens are void: the restore may have removed or revoked them.
      const beside = store === 'sqlite' ? await openSqliteStore({ dataDir: restoredDir }) : await openRedisStore({ url: REDIS_URL, keyPrefix: restoredPrefix });
      try {
        let heard = 0;
        beside.changes.subscribe(SCIM_TOKENS_TOPIC, () => heard++);
        // A Redis subscriber calls its listeners once when its subscription becomes active.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const heardBefore = heard;
        const forced = await cli(targetEnv, 'restore', file, '--force');
        expect(forced.code, forced.stderr).toBe(0);
        const deadline = Date.now() + CHANGE_DELIVERY_MS + 1_000;
        while (heard === heardBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(heard).toBeGreaterThan(heardBefore);
      } finally {
        await beside.close();
      }

      target = await startTestServer({ store, dataDir: restoredDir, env: { LATCHKEY_SECRET: SECRET, REDIS_KEY_PREFIX: restoredPrefix } });
      const after = await signInWithTokens(target, okta.app.id, okta.clientSecret, samePasskeyOn(alice.authenticator, target.url));
      expect(after.claims.sub).toBe(before.claims.sub);
      expect(after.kid).toBe(before.kid);
    } finally {
      await target?.close();
      await source.close();
      if (store === 'redis') await dropRedisPrefix(restoredPrefix);
    }
  });
});

describe('restore refuses a damaged or foreign file', { timeout: 120_000 }, () => {
  it('names what is wrong and writes nothing', async () => {
    const env = { NODE_ENV: 'test', STORE: 'sqlite', DATA_DIR: mkdtempSync(path.join(work, 'damaged-')), LATCHKEY_SECRET: SECRET, LOG_LEVEL: 'silent' };
    const made = await cli(env, 'backup', path.join(work, 'empty.jsonl'));
    expect(made.code, made.stderr).toBe(0);
    const lines = readFileSync(path.join(work, 'empty.jsonl'), 'utf8').trim().split('\n');
    const cases: [string, string, RegExp][] = [
      ['foreign.jsonl', '{"hello":1}\n', /not a usable Latchkey backup: the first line is not a latchkey-backup header/],
      ['future.jsonl', `${lines[0].replace('"version":1', '"version":9')}\n${lines[1]}\n`, /format version 9, this Latchkey reads version 1/],
      ['truncated.jsonl', `${lines[0]}\n`, /the end line is missing/],
    ];
    for (const [name, content, reason] of cases) {
      writeFileSync(path.join(work, name), content);
      const result = await cli(env, 'restore', path.join(work, name));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(reason);
    }
  });
});

describe('latchkey migrate --to redis', { timeout: 180_000 }, () => {
  it('moves an embedded install to Redis with nothing lost; the same passkey signs in on Redis', async () => {
    // Closed before the migration (as an operator stops it); its DATA_DIR stays for the CLI.
    const source = await startTestServer({ store: 'sqlite', env: { LATCHKEY_SECRET: SECRET }, keepData: true });
    const prefix = `latchkey-test:migrated:${randomBytes(6).toString('hex')}:`;
    let target: TestServer | undefined;
    try {
      const okta = await setUpOkta(source);
      const alice = await enrolledPerson(source, 'alice@example.com', okta.group.id);
      const before = await signInWithTokens(source, okta.app.id, okta.clientSecret, alice.authenticator);
      await source.services.scimTokens.create({ name: 'Okta SCIM' }, CLI_ACTOR);
      await source.services.store.jobs.enqueue({ queue: 'okta-flag', key: 'pending', payload: { n: 1 }, runAt: Date.now() + 60_000 });
      const sourceItems = await exportOf(source);
      await source.close();

      const wrong = await cli(source.env, 'migrate', '--to', 'postgres', '--redis-url', REDIS_URL);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/--to must be "redis"/);

      const moved = await cli(source.env, 'migrate', '--to', 'redis', '--redis-url', REDIS_URL, '--redis-key-prefix', prefix);
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.json).toMatchObject({ from: 'sqlite', to: 'redis', records: sourceItems.length });
      const twice = await cli(source.env, 'migrate', '--to', 'redis', '--redis-url', REDIS_URL, '--redis-key-prefix', prefix);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toMatch(/already holds data/);

      // Every record of every collection, identical (identities, passkeys, apps, keys, tokens,
      // audit, queues, settings, SCIM tokens, invites, oidc models, one-time values).
      const now = Date.now();
      const live = (items: ExportItem[]) => items.filter((item) => !(item.collection === 'oneTime' && item.record.expiresAt <= now));
      const migrated = await openRedisStore({ url: REDIS_URL, keyPrefix: prefix });
      const migratedItems: ExportItem[] = [];
      for await (const item of migrated.exportAll({ now })) migratedItems.push(item);
      await migrated.close();
      expect(live(migratedItems)).toEqual(live(sourceItems));

      target = await startTestServer({ store: 'redis', env: { LATCHKEY_SECRET: SECRET, REDIS_KEY_PREFIX: prefix } });
      const after = await signInWithTokens(target, okta.app.id, okta.clientSecret, samePasskeyOn(alice.authenticator, target.url));
      expect(after.claims.sub).toBe(before.claims.sub);
      expect(after.kid).toBe(before.kid);
    } finally {
      await target?.close();
      await dropRedisPrefix(prefix);
      rmSync(source.dataDir, { recursive: true, force: true });
    }
  });
});
