/**
 * oidc-provider models in Redis.
 * - One hash per (model, id): payload JSON, expiresAt, consumed and the index values it was
 *   written with, so destroy() and a re-upsert remove exactly the index entries it added.
 * - A model past expiresAt is treated as absent at once (expiresAt <= now, the caller's clock);
 *   PEXPIREAT only collects it later (see gcExpireAt). Index sets live as long as their
 *   longest-lived member.
 * - consume() is one script that sets `consumed` only if unset and live, so exactly one of two
 *   racing calls wins; find() then returns the payload with `consumed` set to that time, which is
 *   how oidc-provider detects reuse of an authorization code (RFC 6749 §4.1.2).
 * - upsert() replaces payload, expiry and indexes, and clears the consumed mark.
 * - A model indexed with a passkeyId whose passkey no longer exists is not found (checked in the
 *   find script, one round trip), even against a re-save racing the passkey's revocation.
 * - uid and userCode lookups point at an id; the record's own value is checked again on read, so
 *   a lookup key left behind by a re-upsert can never return the wrong model.
 */
import type { Redis } from 'ioredis';
import type { IdentityRecord, OidcModelIndexes, OidcModelRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';
import { decodeFlat, defineScript, gcExpireAt, type Arg } from './script.ts';

const OIDC_LUA = `
local function unindex(model, id)
  local rk = K('oidc', model, id)
  local member = model .. ':' .. id
  local f = redis.call('HMGET', rk, 'grantId', 'userCode', 'uid', 'accountId', 'passkeyId')
  if f[1] then redis.call('SREM', K('oidc', 'grant', f[1]), member) end
  if f[2] and redis.call('GET', K('oidc', model, 'userCode', f[2])) == id then
    redis.call('DEL', K('oidc', model, 'userCode', f[2]))
  end
  if f[3] and redis.call('GET', K('oidc', model, 'uid', f[3])) == id then
    redis.call('DEL', K('oidc', model, 'uid', f[3]))
  end
  if f[4] then redis.call('SREM', K('oidc', 'account', f[4]), member) end
  if f[5] then redis.call('SREM', K('oidc', 'passkey', f[5]), member) end
end
local function destroy(model, id)
  unindex(model, id)
  redis.call('DEL', K('oidc', model, id))
end
`;

// An upsert's arguments a: model, id, payload, expiresAt, gc time, grantId, userCode, uid, accountId, passkeyId ('' = none)
const UPSERT_LUA = `${OIDC_LUA}
local function upsert(a)
  local model, id, gcAt = a[1], a[2], num(a[5])
  local rk = K('oidc', model, id)
  local member = model .. ':' .. id
  local function expire(key)
    if gcAt then redis.call('PEXPIREAT', key, gcAt) else redis.call('PERSIST', key) end
  end
  local function add_to_set(key)
    local existed = redis.call('EXISTS', key) == 1
    local current = existed and redis.call('PEXPIRETIME', key) or nil
    redis.call('SADD', key, member)
    if gcAt == nil then
      redis.call('PERSIST', key)
    elseif not existed or (current ~= -1 and current < gcAt) then
      redis.call('PEXPIREAT', key, gcAt)
    end
  end
  destroy(model, id)
  redis.call('HSET', rk, 'payload', a[3])
  local names = { [4] = 'expiresAt', [6] = 'grantId', [7] = 'userCode', [8] = 'uid', [9] = 'accountId', [10] = 'passkeyId' }
  for i, name in pairs(names) do
    if a[i] ~= '' then redis.call('HSET', rk, name, a[i]) end
  end
  expire(rk)
  if a[6] ~= '' then add_to_set(K('oidc', 'grant', a[6])) end
  if a[7] ~= '' then redis.call('SET', K('oidc', model, 'userCode', a[7]), id); expire(K('oidc', model, 'userCode', a[7])) end
  if a[8] ~= '' then redis.call('SET', K('oidc', model, 'uid', a[8]), id); expire(K('oidc', model, 'uid', a[8])) end
  if a[9] ~= '' then add_to_set(K('oidc', 'account', a[9])) end
  if a[10] ~= '' then add_to_set(K('oidc', 'passkey', a[10])) end
end
`;

// A: one upsert's arguments
const UPSERT = `${UPSERT_LUA}
upsert(A)
return 1
`;

// A: changes in order, each 'u' followed by an upsert's 10 arguments, or 'd', model, id
const WRITE = `${UPSERT_LUA}
local i = 1
while i <= #A do
  if A[i] == 'u' then
    local a = {}
    for j = 1, 10 do a[j] = A[i + j] end
    upsert(a)
    i = i + 11
  else
    destroy(A[i + 1], A[i + 2])
    i = i + 3
  end
end
return 1
`;

const FIND_LUA = `
local function find(model, lookup, value)
  local id = value
  if lookup ~= 'id' then
    id = redis.call('GET', K('oidc', model, lookup, value))
    if not id then return false end
  end
  local f = redis.call('HMGET', K('oidc', model, id), 'payload', 'expiresAt', 'consumed', lookup, 'passkeyId')
  if not f[1] then return false end
  if lookup ~= 'id' and f[4] ~= value then return false end
  if f[5] and redis.call('EXISTS', K('passkey', f[5])) == 0 then return false end
  return { f[1], f[2] or '', f[3] or '' }
end
`;

// A: model, lookup ('id' | 'uid' | 'userCode'), value
const FIND = `${FIND_LUA}
return find(A[1], A[2], A[3])
`;

// A: model, id. The model, then its Session (by sessionUid) and Grant (by grantId); false for each missing.
const FIND_WITH_BINDINGS = `${FIND_LUA}
local found = find(A[1], 'id', A[2])
if not found then return false end
local ok, payload = pcall(cjson.decode, found[1])
if not ok or type(payload) ~= 'table' then return { found, false, false } end
local session, grant, account = false, false, false
if type(payload.sessionUid) == 'string' then session = find('Session', 'uid', payload.sessionUid) end
if type(payload.grantId) == 'string' then grant = find('Grant', 'id', payload.grantId) end
if type(payload.accountId) == 'string' then account = redis.call('HGETALL', K('identity', payload.accountId)) end
return { found, session, grant, account }
`;

// A: model, id, at
const CONSUME = `
local rk = K('oidc', A[1], A[2])
local f = redis.call('HMGET', rk, 'payload', 'expiresAt', 'consumed')
if not f[1] or f[3] then return 0 end
local expiresAt = num(f[2])
if expiresAt and expiresAt <= tonumber(A[3]) then return 0 end
redis.call('HSET', rk, 'consumed', A[3])
return 1
`;

// A: 'one', model, id | 'grant', grantId | 'account', accountId | 'passkey', passkeyId
const REVOKE = `${OIDC_LUA}
local function revoke_set(set)
  for _, member in ipairs(redis.call('SMEMBERS', set)) do
    local sep = string.find(member, ':', 1, true)
    destroy(string.sub(member, 1, sep - 1), string.sub(member, sep + 1))
  end
  redis.call('DEL', set)
end
if A[1] == 'one' then
  destroy(A[2], A[3])
  return 1
end
if A[1] == 'passkey' then
  -- The sessions this passkey opened, then every grant they hold (own grantId index, or a
  -- provider Session's authorizations[*].grantId) with its codes and tokens: one script, atomic.
  local set = K('oidc', 'passkey', A[2])
  local members = redis.call('SMEMBERS', set)
  local grants = {}
  for _, member in ipairs(members) do
    local sep = string.find(member, ':', 1, true)
    local f = redis.call('HMGET', K('oidc', string.sub(member, 1, sep - 1), string.sub(member, sep + 1)), 'payload', 'grantId')
    if f[2] then grants[f[2]] = true end
    if f[1] then
      local ok, payload = pcall(cjson.decode, f[1])
      if ok and type(payload) == 'table' and type(payload.authorizations) == 'table' then
        for _, authorization in pairs(payload.authorizations) do
          if type(authorization) == 'table' and type(authorization.grantId) == 'string' then grants[authorization.grantId] = true end
        end
      end
    end
  end
  revoke_set(set)
  for grantId in pairs(grants) do revoke_set(K('oidc', 'grant', grantId)) end
  return #members
end
revoke_set(K('oidc', A[1], A[2]))
return 1
`;

function upsertArgs(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null, indexes: OidcModelIndexes): Arg[] {
  return [
    model,
    id,
    JSON.stringify(payload),
    expiresAt ?? '',
    expiresAt === null ? '' : gcExpireAt(expiresAt),
    indexes.grantId ?? '',
    indexes.userCode ?? '',
    indexes.uid ?? '',
    indexes.accountId ?? '',
    indexes.passkeyId ?? '',
  ];
}

/** A find script's answer for one model: payload JSON, expiresAt and consumed ('' when unset), or null. */
type FindReply = [string, string, string] | null;

export function createOidcModelRepository(redis: Redis, keys: Keys): OidcModelRepository {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeyOidc${name}`, body);
  const upsert = s('Upsert', UPSERT);
  const write = s('Write', WRITE);
  const find = s('Find', FIND);
  const findWithBindings = s('FindWithBindings', FIND_WITH_BINDINGS);
  const consume = s('Consume', CONSUME);
  const revoke = s('Revoke', REVOKE);

  async function load(model: string, lookup: 'id' | 'uid' | 'userCode', value: string, now: number) {
    return decode((await find(model, lookup, value)) as FindReply, now);
  }

  function decode(reply: FindReply, now: number): Record<string, unknown> | null {
    if (!reply) return null;
    const [payload, expiresAt, consumed] = reply;
    if (expiresAt !== '' && Number(expiresAt) <= now) return null;
    const parsed = JSON.parse(payload) as Record<string, unknown>;
    // Stored in ms like every port time; oidc-provider reads `consumed` as epoch seconds.
    return consumed === '' ? parsed : { ...parsed, consumed: Math.floor(Number(consumed) / 1000) };
  }

  return {
    async upsert(model, id, payload, expiresAt, indexes) {
      await upsert(...upsertArgs(model, id, payload, expiresAt, indexes));
    },
    async write(changes) {
      if (changes.length === 0) return;
      // One script: the changes apply together, in order, in one round trip.
      await write(...changes.flatMap((change) => (change.op === 'upsert' ? ['u', ...upsertArgs(change.model, change.id, change.payload, change.expiresAt, change.indexes)] : ['d', change.model, change.id])));
    },
    find: (model, id, now) => load(model, 'id', id, now),
    findByUid: (model, uid, now) => load(model, 'uid', uid, now),
    async findWithBindings(model, id, now) {
      const reply = (await findWithBindings(model, id)) as [FindReply, FindReply, FindReply, unknown] | null;
      const payload = reply ? decode(reply[0], now) : null;
      // The account as identities.get() decodes it (the hash's JSON fields, bookkeeping left out).
      return payload && { payload, session: decode(reply![1], now), grant: decode(reply![2], now), account: decodeFlat<IdentityRecord>(reply![3]) };
    },
    findByUserCode: (model, userCode, now) => load(model, 'userCode', userCode, now),
    async consume(model, id, at) {
      return (await consume(model, id, at)) === 1;
    },
    async destroy(model, id) {
      await revoke('one', model, id);
    },
    async revokeByGrantId(grantId) {
      await revoke('grant', grantId);
    },
    async revokeByAccountId(accountId) {
      await revoke('account', accountId);
    },
    async revokeByPasskeyId(passkeyId) {
      return Number(await revoke('passkey', passkeyId));
    },
  };
}
