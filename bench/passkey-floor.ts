/**
 * The second floor: the bare oidc-provider plus only what issue 12 says a passkey login may not
 * drop, so the benchmark can show what any implementation on this library must pay, beside the
 * floor and Latchkey in the same run.
 * - The passkey step: a page carrying the authentication options (challenge from
 *   @simplewebauthn/server), then the assertion posted back and verified by @simplewebauthn/server
 *   against the stored credential, its challenge used once.
 * - Durable storage of the writes that matter: sessions, grants, codes, tokens and passkeys in
 *   SQLite, configured as Latchkey's store is (WAL, synchronous NORMAL, an expiry index for the
 *   sweep every store needs).
 * What it leaves out is what makes it a lower bound rather than a product: interactions and
 * challenges in memory (one process only), no identity read (claims come from the subject), no
 * audit event, no metrics, no security headers beyond a CSP, no rate limits, no CSRF token.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type Koa from 'koa';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { startBareServer, type BareServer } from './bare-provider.ts';

const CHALLENGE_TTL_MS = 5 * 60_000;

function openModels(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'passkey-floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS models (
      model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, expires_at INTEGER,
      consumed_at INTEGER, grant_id TEXT, uid TEXT, PRIMARY KEY (model, id));
    CREATE INDEX IF NOT EXISTS models_grant ON models (grant_id) WHERE grant_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS models_uid ON models (uid) WHERE uid IS NOT NULL;
    CREATE INDEX IF NOT EXISTS models_expires ON models (expires_at);
    CREATE TABLE IF NOT EXISTS passkeys (id TEXT PRIMARY KEY, account TEXT NOT NULL, public_key BLOB NOT NULL, counter INTEGER NOT NULL);`);
  return db;
}

/** oidc-provider's adapter contract on one SQLite table; interactions stay in a Map. */
function adapterFactory(db: Database.Database): (name: string) => Adapter {
  const upsert = db.prepare(`INSERT INTO models (model, id, payload, expires_at, consumed_at, grant_id, uid) VALUES (?, ?, ?, ?, NULL, ?, ?)
    ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at, consumed_at = NULL, grant_id = excluded.grant_id, uid = excluded.uid`);
  const find = db.prepare<[string, string, number], { payload: string; consumed_at: number | null }>('SELECT payload, consumed_at FROM models WHERE model = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)');
  const findByUid = db.prepare<[string, string, number], { payload: string; consumed_at: number | null }>('SELECT payload, consumed_at FROM models WHERE uid = ? AND model = ? AND (expires_at IS NULL OR expires_at > ?)');
  const consume = db.prepare('UPDATE models SET consumed_at = ? WHERE model = ? AND id = ?');
  const destroy = db.prepare('DELETE FROM models WHERE model = ? AND id = ?');
  const revokeByGrant = db.prepare('DELETE FROM models WHERE grant_id = ?');
  const payloadOf = (row: { payload: string; consumed_at: number | null } | undefined): AdapterPayload | undefined => {
    if (!row) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
  };
  return (model) => {
    if (model === 'Interaction') return memoryAdapter();
    return {
      async upsert(id, payload, expiresIn) {
        upsert.run(model, id, JSON.stringify(payload), expiresIn ? Date.now() + expiresIn * 1000 : null, payload.grantId ?? null, payload.uid ?? null);
      },
      find: async (id) => payloadOf(find.get(model, id, Date.now())),
      findByUid: async (uid) => payloadOf(findByUid.get(uid, model, Date.now())),
      findByUserCode: async () => undefined,
      async consume(id) {
        consume.run(Date.now(), model, id);
      },
      async destroy(id) {
        destroy.run(model, id);
      },
      async revokeByGrantId(grantId) {
        revokeByGrant.run(grantId);
      },
    };
  };
}

const interactions = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
function memoryAdapter(): Adapter {
  const live = (id: string) => {
    const entry = interactions.get(id);
    return entry && entry.expiresAt > Date.now() ? entry.payload : undefined;
  };
  return {
    async upsert(id, payload, expiresIn) {
      interactions.set(id, { payload, expiresAt: Date.now() + (expiresIn ?? 3600) * 1000 });
    },
    find: async (id) => live(id),
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    async consume() {},
    async destroy(id) {
      interactions.delete(id);
    },
    async revokeByGrantId() {},
  };
}

/** A 400 with its reason, as Koa answers an HttpError. */
function refuse(reason: string): never {
  throw Object.assign(new Error(reason), { status: 400, expose: true });
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ENTITIES[char]);

async function jsonBody(ctx: Koa.Context): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function startPasskeyFloor(redirectUri: string, port: number, clientSecret: string, dataDir: string): Promise<BareServer> {
  const db = openModels(dataDir);
  const passkeyById = db.prepare<[string], { account: string; public_key: Buffer; counter: number }>('SELECT account, public_key, counter FROM passkeys WHERE id = ?');
  const addPasskey = db.prepare('INSERT INTO passkeys (id, account, public_key, counter) VALUES (?, ?, ?, ?)');
  const moveCounter = db.prepare('UPDATE passkeys SET counter = ? WHERE id = ?');
  // Keyed by interaction uid (sign-in) or account (enrollment, done once before the run).
  const challenges = new Map<string, { challenge: string; expiresAt: number }>();
  const takeChallenge = (key: string) => {
    const entry = challenges.get(key);
    challenges.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.challenge : null;
  };

  const bare = await startBareServer(redirectUri, port, clientSecret, {
    adapter: adapterFactory(db) as never,
    routes(app, provider, issuer) {
      const rpID = new URL(issuer).hostname;
      app.use(async (ctx, next) => {
        const enroll = /^\/enroll\/([\w-]+)(\/options)?$/.exec(ctx.path);
        if (enroll && ctx.method === 'POST') {
          const account = enroll[1];
          if (enroll[2]) {
            const options = await generateRegistrationOptions({ rpName: 'Passkey floor', rpID, userName: account, attestationType: 'none', authenticatorSelection: { residentKey: 'required', userVerification: 'required' } });
            challenges.set(account, { challenge: options.challenge, expiresAt: Date.now() + CHALLENGE_TTL_MS });
            ctx.body = options;
            return;
          }
          const expectedChallenge = takeChallenge(account);
          if (!expectedChallenge) refuse('no enrollment under way');
          const { verified, registrationInfo } = await verifyRegistrationResponse({ response: (await jsonBody(ctx)) as RegistrationResponseJSON, expectedChallenge, expectedOrigin: issuer, expectedRPID: rpID });
          if (!verified || !registrationInfo) refuse('enrollment not verified');
          addPasskey.run(registrationInfo.credential.id, account, Buffer.from(registrationInfo.credential.publicKey), registrationInfo.credential.counter);
          ctx.body = { enrolled: registrationInfo.credential.id };
          return;
        }
        const page = /^\/interaction\/([^/]+)$/.exec(ctx.path);
        if (page && ctx.method === 'GET') {
          const { uid } = await provider.interactionDetails(ctx.req, ctx.res);
          const options = await generateAuthenticationOptions({ rpID, userVerification: 'required', timeout: CHALLENGE_TTL_MS });
          challenges.set(uid, { challenge: options.challenge, expiresAt: Date.now() + CHALLENGE_TTL_MS });
          ctx.set('Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'");
          ctx.type = 'html';
          ctx.body = `<!doctype html><html lang="en"><head><title>Sign in</title></head><body data-uid="${escapeHtml(uid)}" data-options="${escapeHtml(JSON.stringify(options))}" data-csrf="-"><main><h1>Sign in with your passkey</h1></main></body></html>`;
          return;
        }
        const verify = /^\/interaction\/([^/]+)\/passkey\/verify$/.exec(ctx.path);
        if (verify && ctx.method === 'POST') {
          const { uid } = await provider.interactionDetails(ctx.req, ctx.res);
          const expectedChallenge = takeChallenge(uid);
          if (!expectedChallenge) refuse('no sign-in under way');
          const response = (await jsonBody(ctx)) as AuthenticationResponseJSON;
          const passkey = passkeyById.get(response.id);
          if (!passkey) refuse('unknown passkey');
          const { verified, authenticationInfo } = await verifyAuthenticationResponse({
            response, expectedChallenge, expectedOrigin: issuer, expectedRPID: rpID, requireUserVerification: true,
            credential: { id: response.id, publicKey: new Uint8Array(passkey.public_key), counter: passkey.counter },
          });
          if (!verified) refuse('passkey not verified');
          if (authenticationInfo.newCounter > passkey.counter) moveCounter.run(authenticationInfo.newCounter, response.id);
          ctx.body = { redirect: await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: passkey.account } }, { mergeWithLastSubmission: false }) };
          return;
        }
        await next();
      });
    },
  });
  return {
    issuer: bare.issuer,
    async close() {
      await bare.close();
      db.close();
    },
  };
}
