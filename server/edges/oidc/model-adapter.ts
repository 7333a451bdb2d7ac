/**
 * oidc-provider's storage adapter, on the storage port (never the library's in-memory LRU).
 * - Client metadata is not stored twice: the "Client" model is read from our apps.
 * - consume() is atomic in the store, so of two token requests racing for one authorization
 *   code exactly one wins; the loser revokes everything the code issued (RFC 6749 §4.1.2,
 *   RFC 9700 §4.5: a replayed code means it leaked).
 * - A Session records the passkey that opened it (index passkeyId, from the login result of the
 *   request that signed in, carried over on every later save); the store does not find a session
 *   whose passkey no longer exists (ports/storage.ts), so revoking the passkey ends it even
 *   against a racing re-save, without a passkey read of our own.
 * - A Grant is indexed under its own id as grantId, so revoking a grant removes the grant too.
 * - An Interaction with a login result is indexed by that account (deactivation removes it).
 * - Writes of a provider request are held and committed together before its response (provider-writes.ts).
 */
import { Provider, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Store } from '../../ports/storage.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AppRecord } from '../../ports/storage.ts';
import { hashToken } from '../../domain/secrets.ts';
import { heldWrites } from './provider-writes.ts';

type Payload = Record<string, unknown>;

/**
 * Opaque bearer artifacts whose id IS the secret a client presents (the Session id is the value of
 * the browser's session cookie). They are stored under the SHA-256 of the id and without their
 * `jti`, so a copy of the store yields no usable code, token or SSO session; the id is put back on
 * read (the caller just presented it). A Session found by its uid (oidc-provider does that only to
 * read it) comes back without its id, which the store no longer knows.
 */
const HASHED_MODELS = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'ClientCredentials', 'InitialAccessToken', 'RegistrationAccessToken', 'Session']);

/**
 * Codes and tokens oidc-provider checks against their Session (by sessionUid) and Grant right
 * after finding them: read together with both (storage findWithBindings), and the request memo
 * answers the provider's own two lookups that follow.
 */
const BOUND_MODELS = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** The passkey of the sign-in finished in this request, if any (oidc-edge puts it in the login result). */
function passkeyOfLogin(accountId: unknown): string | undefined {
  const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
  const login = (ctx?.oidc?.result as { login?: { accountId?: unknown; passkeyId?: unknown } } | undefined)?.login;
  return login && login.accountId === accountId && typeof login.passkeyId === 'string' ? login.passkeyId : undefined;
}

/**
 * An interaction the passkey step finished carries its login: indexed by that account, so
 * deactivating the person removes it (revokeByAccountId) and its resume ends with "sign-in
 * expired" instead of granting.
 */
function loginAccountOf(payload: Payload): string | undefined {
  const accountId = (payload.result as { login?: { accountId?: unknown } } | undefined)?.login?.accountId;
  return typeof accountId === 'string' ? accountId : undefined;
}

export function createModelAdapter(deps: { store: Store; clock: Clock; clientMetadata: (app: AppRecord) => Payload | null }) {
  const { store, clock, clientMetadata } = deps;
  // Upserts and destroys of one provider request commit together before its response (provider-writes.ts).
  const models = heldWrites(store.oidc);

  return class LatchkeyModelAdapter {
    readonly name: string;
    private readonly hashed: boolean;

    constructor(name: string) {
      this.name = name;
      this.hashed = HASHED_MODELS.has(name);
    }

    private key(id: string): string {
      return this.hashed ? hashToken(id) : id;
    }

    /** A session keeps the passkey it was opened with across saves, until the next login replaces it. */
    private async sessionPasskey(id: string, payload: Payload): Promise<string | undefined> {
      if (typeof payload.accountId !== 'string') return undefined;
      const fresh = passkeyOfLogin(payload.accountId);
      if (fresh) return fresh;
      const previous = await models.find(this.name, this.key(id), clock.now());
      return previous && previous.accountId === payload.accountId && typeof previous.passkeyId === 'string' ? previous.passkeyId : undefined;
    }

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? clock.now() + expiresIn * 1000 : null;
      let stored = payload;
      if (this.hashed && payload.jti === id) {
        const { jti: _jti, ...rest } = payload;
        stored = rest;
      }
      const passkeyId = this.name === 'Session' ? await this.sessionPasskey(id, payload) : undefined;
      if (passkeyId) stored = { ...stored, passkeyId };
      await models.upsert(this.name, this.key(id), stored, expiresAt, {
        grantId: this.name === 'Grant' ? id : typeof payload.grantId === 'string' ? payload.grantId : undefined,
        userCode: typeof payload.userCode === 'string' ? payload.userCode : undefined,
        uid: typeof payload.uid === 'string' ? payload.uid : undefined,
        accountId: typeof payload.accountId === 'string' ? payload.accountId : this.name === 'Interaction' ? loginAccountOf(payload) : undefined,
        passkeyId,
      });
    }

    async find(id: string): Promise<Payload | undefined> {
      if (this.name === 'Client') {
        const app = await store.apps.get(id);
        return (app && clientMetadata(app)) ?? undefined;
      }
      const payload = BOUND_MODELS.has(this.name)
        ? ((await models.findWithBindings(this.name, this.key(id), clock.now()))?.payload ?? null)
        : await models.find(this.name, this.key(id), clock.now());
      if (!payload) return undefined;
      return this.hashed ? { ...payload, jti: id } : payload;
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return (await models.findByUid(this.name, uid, clock.now())) ?? undefined;
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      return (await models.findByUserCode(this.name, userCode, clock.now())) ?? undefined;
    }

    async consume(id: string): Promise<void> {
      if (await models.consume(this.name, this.key(id), clock.now())) return;
      const payload = await models.find(this.name, this.key(id), clock.now());
      if (typeof payload?.grantId === 'string') await models.revokeByGrantId(payload.grantId);
      throw new errors.InvalidGrant(`${this.name === 'AuthorizationCode' ? 'authorization code' : this.name} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      await models.destroy(this.name, this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await models.revokeByGrantId(grantId);
    }
  };
}
