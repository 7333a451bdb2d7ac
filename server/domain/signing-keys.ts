/**
 * ID-token signing keys (RS256: the one algorithm Okta is known to accept).
 * - Keys live in the store, sealed, so every instance signs with the same key. Which key signs and
 *   which are published is decided from stored times by nextKeySet (next-key-set.ts), so instances
 *   agree without talking to each other.
 * - Rotation adds a *next* key: published by every instance at once (a change notification), but
 *   signing only after activationDelayMs, longer than the JWKS Cache-Control max-age plus the time
 *   every instance needs to hear of the change. A relying party that caches the JWKS therefore
 *   knows a key before the first token signed with it reaches it.
 * - Emergencies: rotate immediately (the pending next key, or a new one, signs at once) and revoke
 *   (unpublished at once everywhere; tokens it signed are refused; a replacement signs at once).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { CHANGE_DELIVERY_MS, type SigningKeyRecord, type Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import type { Sealer } from './secrets.ts';
import type { AuditLog } from './audit.ts';
import { AppError } from './errors.ts';
import type { Actor } from './actor.ts';
import { nextKeySet, type KeyStatus } from './next-key-set.ts';

export type PrivateJwk = Record<string, unknown> & { kid: string; kty: string; alg: string; use: string };

/** The notification topic every instance listens on to reload its keys. */
export const SIGNING_KEYS_TOPIC = 'signing-keys';

/** Time for every instance to hear of a key change and rebuild its provider, with margin. */
export const KEY_PROPAGATION_MS = 2 * CHANGE_DELIVERY_MS + 1_000;

/**
 * Cache-Control max-age for /jwks and discovery: at most 10 minutes, and at most half of what the
 * activation delay leaves after propagation, so lead time > max-age + propagation always holds
 * (config refuses a KEY_ACTIVATION_DELAY under 10 s, which would leave none).
 */
export function jwksMaxAgeSeconds(activationDelayMs: number): number {
  return Math.max(0, Math.floor(Math.min(600_000, (activationDelayMs - KEY_PROPAGATION_MS) / 2) / 1000));
}

export interface KeySet {
  /** Published keys, the signing one first: oidc-provider signs with the first key matching the algorithm. */
  keys: PrivateJwk[];
  signingKid: string;
  /** Changes whenever the published set or the signing key changes. */
  fingerprint: string;
  /** When the set changes on its own next (an activation or a retirement). */
  nextChangeAt: number | null;
}

export interface KeyView {
  kid: string;
  alg: string;
  status: KeyStatus;
  createdAt: number;
  activatesAt: number;
  signsUntil: number | null;
  publishedUntil: number | null;
  revokedAt: number | null;
}

function generateRsaKey(): { kid: string; jwk: PrivateJwk } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } as PrivateJwk;
  return { kid, jwk };
}

export function createSigningKeyService(deps: {
  store: Store;
  clock: Clock;
  sealer: Sealer;
  audit: AuditLog;
  /** How long a rotated key is published before it signs. */
  activationDelayMs: number;
  /** How long a key stays published after it stopped signing: the longest token lifetime plus skew. */
  retainAfterMs: number;
}) {
  const { store, clock, sealer, audit, activationDelayMs, retainAfterMs } = deps;
  const maxAge = jwksMaxAgeSeconds(activationDelayMs);
  const immediateRisk =
    `Relying parties that cached the JWKS (Cache-Control max-age ${maxAge} s) and instances that have not yet heard of the change ` +
    `(up to ${KEY_PROPAGATION_MS / 1000} s) cannot verify ID tokens signed with the new key until they fetch /jwks again: sign-ins may fail meanwhile.`;

  /** What an immediate switch to a key published since `publishedSince` risks, or null if nothing. */
  const riskOf = (publishedSince: number | null) =>
    publishedSince !== null && clock.now() - publishedSince >= KEY_PROPAGATION_MS + maxAge * 1000 ? null : immediateRisk;

  async function insertKey(activatesAt: number): Promise<SigningKeyRecord> {
    const { kid, jwk } = generateRsaKey();
    const record: SigningKeyRecord = { kid, alg: 'RS256', privateJwkEnc: sealer.seal(JSON.stringify(jwk)), createdAt: clock.now(), activatesAt, revokedAt: null };
    await store.signingKeys.insert(record);
    return record;
  }

  const decide = (records: SigningKeyRecord[]) => nextKeySet(records, clock.now(), retainAfterMs);
  const view = (state: ReturnType<typeof decide>['states'][number]): KeyView => {
    const { kid, alg, createdAt, activatesAt, revokedAt } = state.key;
    return { kid, alg, status: state.status, createdAt, activatesAt, signsUntil: state.signsUntil, publishedUntil: state.publishedUntil, revokedAt };
  };

  /** First start: exactly one instance creates the initial key (signing at once), the others use it. */
  async function ensure(): Promise<void> {
    if ((await store.signingKeys.list()).length > 0) return;
    const candidate = generateRsaKey();
    const winner = await store.settings.setIfAbsent('signing_keys.initial_kid', candidate.kid);
    if (winner === candidate.kid) {
      const now = clock.now();
      await store.signingKeys.insert({ kid: candidate.kid, alg: 'RS256', privateJwkEnc: sealer.seal(JSON.stringify(candidate.jwk)), createdAt: now, activatesAt: now, revokedAt: null });
      await store.changes.publish(SIGNING_KEYS_TOPIC);
    } else {
      for (let attempt = 0; attempt < 50 && (await store.signingKeys.list()).length === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /**
   * Staged: adds a next key that signs after the activation delay. Immediately: the pending next
   * key (published longest) or a new key signs now, and the answer says what that risks.
   */
  async function rotate(options: { immediately: boolean }, actor: Actor) {
    const now = clock.now();
    const decision = decide(await store.signingKeys.list());
    const pending = decision.states.find((state) => state.status === 'next');
    let key: SigningKeyRecord;
    if (options.immediately) {
      if (pending) {
        await store.signingKeys.setActivatesAt(pending.key.kid, now);
        key = { ...pending.key, activatesAt: now };
      } else {
        key = await insertKey(now);
      }
    } else {
      if (pending) {
        throw new AppError(
          'conflict',
          `key ${pending.key.kid} is already waiting to sign from ${new Date(pending.key.activatesAt).toISOString()}; ` +
            `run "keys rotate --now" to make it sign now, or "keys revoke ${pending.key.kid}" to drop it`,
        );
      }
      key = await insertKey(now + activationDelayMs);
    }
    await store.changes.publish(SIGNING_KEYS_TOPIC);
    await audit.record({ action: options.immediately ? 'keys.rotate_now' : 'keys.rotate', actor, target: `key:${key.kid}`, detail: { activatesAt: key.activatesAt, replaces: decision.signing?.kid ?? null } });
    return {
      kid: key.kid,
      activatesAt: key.activatesAt,
      replaces: decision.signing?.kid ?? null,
      /** Only for an immediate rotation of a key not published long enough. */
      risk: options.immediately ? riskOf(pending?.key.createdAt ?? null) : null,
    };
  }

  /** Unpublishes a key at once and refuses what it signed; if it was signing, a replacement signs now. */
  async function revoke(kid: string, actor: Actor) {
    const now = clock.now();
    const records = await store.signingKeys.list();
    const decision = decide(records);
    const state = decision.states.find((candidate) => candidate.key.kid === kid);
    if (!state) throw new AppError('not_found', `no signing key with kid "${kid}" (see "keys list")`);
    if (state.status === 'revoked') return { kid, revokedAt: state.key.revokedAt!, alreadyRevoked: true, replacement: null, risk: null };
    await store.signingKeys.setRevokedAt(kid, now);
    let replacement: SigningKeyRecord | null = null;
    const pending = decision.states.find((candidate) => candidate.status === 'next');
    if (decision.signing?.kid === kid) {
      if (pending) {
        await store.signingKeys.setActivatesAt(pending.key.kid, now);
        replacement = { ...pending.key, activatesAt: now };
      } else {
        replacement = await insertKey(now);
      }
    }
    await store.changes.publish(SIGNING_KEYS_TOPIC);
    await audit.record({ action: 'keys.revoke', actor, target: `key:${kid}`, detail: { status: state.status, replacement: replacement?.kid ?? null } });
    return { kid, revokedAt: now, alreadyRevoked: false, replacement, risk: replacement ? riskOf(pending && replacement.kid === pending.key.kid ? pending.key.createdAt : null) : null };
  }

  /** The published set for the provider. Deletes keys nobody needs any more (retired, or revoked long enough ago). */
  async function load(): Promise<KeySet> {
    const records = await store.signingKeys.list();
    const now = clock.now();
    const decision = nextKeySet(records, now, retainAfterMs);
    for (const state of decision.states) {
      const gone = state.status === 'retired' || (state.status === 'revoked' && state.key.revokedAt! + retainAfterMs <= now);
      if (gone) await store.signingKeys.delete(state.key.kid);
    }
    if (!decision.signing) throw new Error('no usable signing key in the store');
    return {
      keys: decision.published.map((record) => JSON.parse(sealer.open(record.privateJwkEnc)) as PrivateJwk),
      signingKid: decision.signing.kid,
      fingerprint: decision.published.map((record) => record.kid).join(','),
      nextChangeAt: decision.nextChangeAt,
    };
  }

  /**
   * True if tokens tagged with this kid must be refused: revoked, or gone (deleted only after every
   * token it signed expired). Read from the store, not a cache, so a revocation counts at once.
   */
  async function refuses(kid: string): Promise<boolean> {
    const record = (await store.signingKeys.list()).find((key) => key.kid === kid);
    return !record || record.revokedAt !== null;
  }

  async function list(): Promise<KeyView[]> {
    return decide(await store.signingKeys.list()).states.map(view);
  }

  return { ensure, rotate, revoke, load, refuses, list, jwksMaxAgeSeconds: maxAge, activationDelayMs };
}

export type SigningKeyService = ReturnType<typeof createSigningKeyService>;
