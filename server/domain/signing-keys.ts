/**
 * ID-token signing keys (RS256: the one algorithm Okta is known to accept).
 * - Keys live in the store, sealed, so every instance signs with the same key.
 * - Rotation adds a key that signs from then on; the previous key stays published in the JWKS
 *   until every token it signed has expired (retireAfterMs), then it is deleted.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { SigningKeyRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import type { Sealer } from './secrets.ts';
import type { AuditLog } from './audit.ts';
import type { Actor } from './actor.ts';

export type PrivateJwk = Record<string, unknown> & { kid: string; kty: string; alg: string; use: string };

export interface KeySet {
  /** Newest first: oidc-provider signs with the first key matching the algorithm. */
  keys: PrivateJwk[];
  /** Changes whenever the set changes; lets instances notice a rotation cheaply. */
  fingerprint: string;
}

function generateRsaKey(): { kid: string; jwk: PrivateJwk } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } as PrivateJwk;
  return { kid, jwk };
}

export function createSigningKeyService(deps: { store: Store; clock: Clock; sealer: Sealer; audit: AuditLog; retireAfterMs: number }) {
  const { store, clock, sealer, audit, retireAfterMs } = deps;

  async function insertNew(): Promise<SigningKeyRecord> {
    const { kid, jwk } = generateRsaKey();
    const record: SigningKeyRecord = { kid, alg: 'RS256', privateJwkEnc: sealer.seal(JSON.stringify(jwk)), createdAt: clock.now(), retiresAt: null };
    await store.signingKeys.insert(record);
    return record;
  }

  /** First start: exactly one instance creates the initial key, the others use it. */
  async function ensure(): Promise<void> {
    if ((await store.signingKeys.list()).length > 0) return;
    const candidate = generateRsaKey();
    const winner = await store.settings.setIfAbsent('signing_keys.initial_kid', candidate.kid);
    if (winner === candidate.kid) {
      await store.signingKeys.insert({ kid: candidate.kid, alg: 'RS256', privateJwkEnc: sealer.seal(JSON.stringify(candidate.jwk)), createdAt: clock.now(), retiresAt: null });
    } else {
      for (let attempt = 0; attempt < 50 && (await store.signingKeys.list()).length === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async function rotate(actor: Actor): Promise<{ kid: string; retiring: { kid: string; retiresAt: number }[] }> {
    const now = clock.now();
    const existing = await store.signingKeys.list();
    const created = await insertNew();
    const retiring: { kid: string; retiresAt: number }[] = [];
    for (const key of existing) {
      if (key.retiresAt === null) {
        await store.signingKeys.setRetiresAt(key.kid, now + retireAfterMs);
        retiring.push({ kid: key.kid, retiresAt: now + retireAfterMs });
      }
    }
    await audit.record({ action: 'keys.rotate', actor, target: `key:${created.kid}`, detail: { retiring: retiring.map((key) => key.kid) } });
    return { kid: created.kid, retiring };
  }

  /** The published set: deletes keys past retirement, newest active key first. */
  async function load(): Promise<KeySet> {
    const now = clock.now();
    const records = await store.signingKeys.list();
    const live: SigningKeyRecord[] = [];
    for (const record of records) {
      if (record.retiresAt !== null && record.retiresAt <= now) await store.signingKeys.delete(record.kid);
      else live.push(record);
    }
    live.sort((a, b) => Number(a.retiresAt !== null) - Number(b.retiresAt !== null) || b.createdAt - a.createdAt);
    return {
      keys: live.map((record) => JSON.parse(sealer.open(record.privateJwkEnc)) as PrivateJwk),
      fingerprint: live.map((record) => `${record.kid}:${record.retiresAt ?? ''}`).join(','),
    };
  }

  async function list() {
    return (await store.signingKeys.list()).map(({ kid, alg, createdAt, retiresAt }) => ({ kid, alg, createdAt, retiresAt, state: retiresAt === null ? 'active' : 'retiring' }));
  }

  return { ensure, rotate, load, list };
}

export type SigningKeyService = ReturnType<typeof createSigningKeyService>;
