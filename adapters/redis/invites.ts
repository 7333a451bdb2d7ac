/**
 * Enrollment invites in Redis.
 * - Only the newest link of an identity works: create() revokes the others (revokedAt = the new
 *   invite's createdAt) in the same script as the insert.
 * - spend() and revoke() are conditional scripts, so of two racing calls exactly one wins;
 *   revoke() applies only to an invite that is neither spent nor already revoked.
 * - Every script that changes an invite recomputes identities:pending-invite for its identity:
 *   the latest expiresAt among its unspent, unrevoked invites, or no entry. Status queries then
 *   compare that score with `now`, so an invite expiring needs no write at all.
 * - An invite must belong to an existing identity ('not_found' otherwise).
 */
import type { Redis } from 'ioredis';
import type { InviteRecord, InviteRepository } from '../../server/ports/storage.ts';
import { ENQUEUE_LUA, jobArgs } from './jobs.ts';
import type { Keys } from './keys.ts';
import {
  decodeFlat,
  decodeHash,
  decodeList,
  defineScript,
  fail,
  fieldArgs,
  GET_BY_REF,
  HSET_IF_EXISTS,
  LIST_BY_INDEX,
} from './script.ts';

const PENDING_LUA = `
local function refresh_pending(owner)
  local latest = nil
  for _, iid in ipairs(redis.call('ZRANGE', K('identity', owner, 'invites'), 0, -1)) do
    local f = redis.call('HMGET', K('invite', iid), 'spentAt', 'revokedAt', 'expiresAt')
    if f[1] == 'null' and f[2] == 'null' then
      local expiresAt = tonumber(f[3])
      if latest == nil or expiresAt > latest then latest = expiresAt end
    end
  end
  if latest == nil then
    redis.call('ZREM', K('identities', 'pending-invite'), owner)
  else
    redis.call('ZADD', K('identities', 'pending-invite'), latest, owner)
  end
end
`;

// A: id, identity id, token key, createdAt (JSON), now, fields (count, pairs...), jobs...
const CREATE = `${ENQUEUE_LUA}${PENDING_LUA}
local id, owner, tkey = A[1], A[2], A[3]
local rk = K('invite', id)
if redis.call('EXISTS', rk) == 1 then return { 'conflict', 'id' } end
if redis.call('EXISTS', tkey) == 1 then return { 'conflict', 'tokenHash' } end
if redis.call('EXISTS', K('identity', owner)) == 0 then return { 'not_found' } end
local list = K('identity', owner, 'invites')
for _, iid in ipairs(redis.call('ZRANGE', list, 0, -1)) do
  local ik = K('invite', iid)
  local f = redis.call('HMGET', ik, 'spentAt', 'revokedAt')
  if f[1] == 'null' and f[2] == 'null' then redis.call('HSET', ik, 'revokedAt', A[4]) end
end
local seq = redis.call('INCR', K('invites', 'seq'))
local n = tonumber(A[6])
hset_pairs(rk, 7, n)
redis.call('HSET', rk, '_seq', seq, '_owner', owner, '_tkey', tkey)
redis.call('SET', tkey, id)
redis.call('ZADD', list, seq, id)
refresh_pending(owner)
enqueue_jobs(7 + n * 2, tonumber(A[5]))
return { 'ok' }
`;

// A: id, at, action ('spend' | 'revoke')
const SETTLE = `${PENDING_LUA}
local rk = K('invite', A[1])
local at = tonumber(A[2])
local f = redis.call('HMGET', rk, 'spentAt', 'revokedAt', 'expiresAt', '_owner')
if not f[4] or f[1] ~= 'null' or f[2] ~= 'null' then return 0 end
if A[3] == 'spend' then
  if tonumber(f[3]) <= at then return 0 end
  redis.call('HSET', rk, 'spentAt', A[2])
else
  redis.call('HSET', rk, 'revokedAt', A[2])
end
refresh_pending(f[4])
return 1
`;

export function createInviteRepository(redis: Redis, keys: Keys): InviteRepository {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeyInvites${name}`, body);
  const create = s('Create', CREATE);
  const settle = s('Settle', SETTLE);
  const getByRef = s('GetByRef', GET_BY_REF);
  const hsetIfExists = s('HsetIfExists', HSET_IF_EXISTS);
  const listByIndex = s('ListByIndex', LIST_BY_INDEX);

  return {
    async create(invite, options) {
      fail(
        await create(
          invite.id,
          invite.identityId,
          keys.inviteByToken(invite.tokenHash),
          JSON.stringify(invite.createdAt),
          Date.now(),
          ...fieldArgs(invite),
          ...jobArgs(options?.enqueue),
        ),
        `invite ${invite.id}`,
      );
    },
    async get(id) {
      return decodeHash<InviteRecord>(await redis.hgetall(keys.invite(id)));
    },
    async getByTokenHash(tokenHash) {
      return decodeFlat<InviteRecord>(await getByRef(keys.inviteByToken(tokenHash), keys.invite('')));
    },
    async listByIdentity(identityId) {
      return decodeList<InviteRecord>(await listByIndex(keys.identityInvites(identityId), keys.invite('')));
    },
    async spend(id, at) {
      return (await settle(id, at, 'spend')) === 1;
    },
    async revoke(id, at) {
      return (await settle(id, at, 'revoke')) === 1;
    },
    async setSendState(id, state, error) {
      await hsetIfExists(keys.invite(id), 2, 'sendState', JSON.stringify(state), 'sendError', JSON.stringify(error));
    },
  };
}
