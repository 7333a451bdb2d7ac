/**
 * oidc-provider's storage adapter, on the storage port (never the library's in-memory LRU).
 * - Client metadata is not stored twice: the "Client" model is read from our apps.
 * - consume() is atomic in the store, so of two token requests racing for one authorization
 *   code exactly one wins; the loser revokes everything the code issued (RFC 6749 §4.1.2,
 *   RFC 9700 §4.5: a replayed code means it leaked).
 */
import { errors } from 'oidc-provider';
import type { Store } from '../../ports/storage.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AppRecord } from '../../ports/storage.ts';

type Payload = Record<string, unknown>;

export function createModelAdapter(deps: { store: Store; clock: Clock; clientMetadata: (app: AppRecord) => Payload | null }) {
  const { store, clock, clientMetadata } = deps;

  return class LatchkeyModelAdapter {
    readonly name: string;

    constructor(name: string) {
      this.name = name;
    }

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? clock.now() + expiresIn * 1000 : null;
      await store.oidc.upsert(this.name, id, payload, expiresAt, {
        grantId: typeof payload.grantId === 'string' ? payload.grantId : undefined,
        userCode: typeof payload.userCode === 'string' ? payload.userCode : undefined,
        uid: typeof payload.uid === 'string' ? payload.uid : undefined,
        accountId: typeof payload.accountId === 'string' ? payload.accountId : undefined,
      });
    }

    async find(id: string): Promise<Payload | undefined> {
      if (this.name === 'Client') {
        const app = await store.apps.get(id);
        return (app && clientMetadata(app)) ?? undefined;
      }
      return (await store.oidc.find(this.name, id, clock.now())) ?? undefined;
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return (await store.oidc.findByUid(this.name, uid, clock.now())) ?? undefined;
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      return (await store.oidc.findByUserCode(this.name, userCode, clock.now())) ?? undefined;
    }

    async consume(id: string): Promise<void> {
      if (await store.oidc.consume(this.name, id, clock.now())) return;
      const payload = await store.oidc.find(this.name, id, clock.now());
      if (typeof payload?.grantId === 'string') await store.oidc.revokeByGrantId(payload.grantId);
      throw new errors.InvalidGrant(`${this.name === 'AuthorizationCode' ? 'authorization code' : this.name} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      await store.oidc.destroy(this.name, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.oidc.revokeByGrantId(grantId);
    }
  };
}
