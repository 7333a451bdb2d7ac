/**
 * Signing keys in Redis, listed in creation order (oldest first), so the newest key is last.
 * A kid inserted twice is a conflict on field 'kid'.
 */
import type { Redis } from 'ioredis';
import type { SigningKeyRecord, SigningKeyRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';
import { DELETE_INDEXED, INSERT_UNIQUE } from './records.ts';
import { decodeList, defineScript, fail, fieldArgs, HSET_IF_EXISTS, LIST_BY_INDEX } from './script.ts';

export function createSigningKeyRepository(redis: Redis, keys: Keys): SigningKeyRepository {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeySigningKeys${name}`, body);
  const insert = s('Insert', INSERT_UNIQUE);
  const remove = s('Delete', DELETE_INDEXED);
  const hsetIfExists = s('HsetIfExists', HSET_IF_EXISTS);
  const listByIndex = s('ListByIndex', LIST_BY_INDEX);
  const all = keys.signingKeysAll();

  return {
    async list() {
      // Keys written before activation times existed activated when they were created.
      return decodeList<SigningKeyRecord & { retiresAt?: unknown }>(await listByIndex(all, keys.signingKey(''))).map(({ retiresAt: _old, ...key }) => ({
        ...key,
        activatesAt: key.activatesAt ?? key.createdAt,
        revokedAt: key.revokedAt ?? null,
      }));
    },
    async insert(key) {
      const reply = await insert(keys.signingKey(key.kid), key.kid, all, keys.key('signing-keys', 'seq'), 'kid', 0, ...fieldArgs(key));
      fail(reply, `signing key ${key.kid}`);
    },
    async setActivatesAt(kid, activatesAt) {
      return (await hsetIfExists(keys.signingKey(kid), 1, 'activatesAt', JSON.stringify(activatesAt))) === 1;
    },
    async setRevokedAt(kid, revokedAt) {
      return (await hsetIfExists(keys.signingKey(kid), 1, 'revokedAt', JSON.stringify(revokedAt))) === 1;
    },
    async delete(kid) {
      return (await remove(keys.signingKey(kid), kid, all)) === 1;
    },
  };
}
