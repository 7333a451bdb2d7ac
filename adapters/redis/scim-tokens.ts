/**
 * SCIM tokens in Redis. scim-tokens:by-hash:{hash} -> id is the lookup on every SCIM request;
 * it is claimed with the insert, so two tokens can never share a hash. Revoked tokens stay
 * listed (and found by hash) so the caller can tell "revoked" from "unknown".
 */
import type { Redis } from 'ioredis';
import type { ScimTokenRecord, ScimTokenRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';
import { INSERT_UNIQUE } from './records.ts';
import { decodeFlat, decodeList, defineScript, fail, fieldArgs, GET_BY_REF, HSET_IF_EXISTS, LIST_BY_INDEX } from './script.ts';

// A: id, at (JSON)
const REVOKE = `
local rk = K('scim-token', A[1])
local revokedAt = redis.call('HGET', rk, 'revokedAt')
if revokedAt ~= 'null' then return 0 end
redis.call('HSET', rk, 'revokedAt', A[2])
return 1
`;

export function createScimTokenRepository(redis: Redis, keys: Keys): ScimTokenRepository {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeyScimTokens${name}`, body);
  const insert = s('Insert', INSERT_UNIQUE);
  const revoke = s('Revoke', REVOKE);
  const getByRef = s('GetByRef', GET_BY_REF);
  const hsetIfExists = s('HsetIfExists', HSET_IF_EXISTS);
  const listByIndex = s('ListByIndex', LIST_BY_INDEX);

  return {
    async create(token) {
      const reply = await insert(
        keys.scimToken(token.id),
        token.id,
        keys.scimTokensAll(),
        keys.key('scim-tokens', 'seq'),
        'id',
        1,
        keys.scimTokenByHash(token.tokenHash),
        'tokenHash',
        ...fieldArgs(token),
      );
      fail(reply, `SCIM token ${token.id}`);
    },
    async list() {
      return decodeList<ScimTokenRecord>(await listByIndex(keys.scimTokensAll(), keys.scimToken('')));
    },
    async getByHash(tokenHash) {
      return decodeFlat<ScimTokenRecord>(await getByRef(keys.scimTokenByHash(tokenHash), keys.scimToken('')));
    },
    async touch(id, at) {
      await hsetIfExists(keys.scimToken(id), 1, 'lastUsedAt', JSON.stringify(at));
    },
    async revoke(id, at) {
      return (await revoke(id, JSON.stringify(at))) === 1;
    },
  };
}
