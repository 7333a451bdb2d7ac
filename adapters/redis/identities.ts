/**
 * Identities in Redis.
 * - identities:by-userName:{key}, by-skeleton:{skeleton} and by-emailKey:{key} carry the uniqueness
 *   (identity-keys.ts); they are claimed in the same script that writes the record, so two
 *   instances racing on a name or an address cannot both win. The record lists what it holds
 *   (_claims), so an update or delete releases exactly those.
 * - Every non-unique index key a record belongs to is remembered on the record (_idx), so an update
 *   or delete removes exactly the memberships it added, even if lowercasing rules ever change.
 * - Enrollment status is never stored on the record: it is read from identities:with-passkey
 *   (kept by passkeys) and identities:pending-invite (kept by invites), the same way for query()
 *   and statuses().
 * - Delete cascades to passkeys, invites and memberships in one script, with its outbox jobs.
 * - update() keeps the stored createdAt; everything else comes from the caller's record.
 */
import type { Redis } from 'ioredis';
import type {
  EnrollmentStatus,
  FilterOperator,
  FilterValue,
  IdentityFilter,
  IdentityFilterAttr,
  IdentityQuery,
  IdentityRecord,
  IdentityRepository,
} from '../../server/ports/storage.ts';
import { emailKey, userNameKey, userNameSkeleton } from '../../server/ports/identity-keys.ts';
import {
  addressesOf,
  candidateFilter,
  caseKey,
  identityOperand,
  identitySortValue,
  isLeaf,
  leafValues,
  matchesIdentity,
  sortRecords,
  type Leaf,
} from '../../server/ports/record-filter.ts';
import { ENQUEUE_LUA, jobArgs } from './jobs.ts';
import { AUDIT_LUA, auditArgs } from './audit.ts';
import type { Keys } from './keys.ts';
import { decodeFlat, decodeHash, defineScript, fail, fieldArgs, GET_BY_REF } from './script.ts';
import { runSetQuery, searchText, SET_QUERY_LUA, type SetNode } from './set-query.ts';

// Unique claims: a JSON list of {field, key, source field, source JSON value}, in the order
// conflicts are reported (userName before its skeleton, then email). A key of '' claims nothing.
const CLAIMS_LUA = `
local function stored_claims(rk)
  local f = redis.call('HMGET', rk, '_claims', '_ukey')
  if f[1] then return cjson.decode(f[1]) end
  if f[2] then return { { 'userName', f[2], 'userName', false } } end
  return {}
end
local function release_claims(id, claims)
  for _, c in ipairs(claims) do
    if c[2] ~= '' and redis.call('GET', c[2]) == id then redis.call('DEL', c[2]) end
  end
end
`;

// A: id, claims (JSON), index keys (JSON), fields..., audit event (auditArgs: the last three)
const CREATE = `${CLAIMS_LUA}${AUDIT_LUA}
local id = A[1]
local claims = cjson.decode(A[2])
local rk = K('identity', id)
if redis.call('EXISTS', rk) == 1 then return { 'conflict', 'id' } end
for _, c in ipairs(claims) do
  if redis.call('EXISTS', c[2]) == 1 then return { 'conflict', c[1] } end
end
local seq = redis.call('INCR', K('identities', 'seq'))
hset_pairs(rk, 5, tonumber(A[4]))
redis.call('HSET', rk, '_seq', seq, '_claims', A[2], '_idx', A[3])
for _, c in ipairs(claims) do redis.call('SET', c[2], id) end
for _, key in ipairs(cjson.decode(A[3])) do redis.call('SADD', key, id) end
redis.call('ZADD', K('identities', 'all'), seq, id)
redis.call('ZADD', K('identities', 'by-createdAt'), tonumber(redis.call('HGET', rk, 'createdAt')), id)
redis.call('ZADD', K('identities', 'by-updatedAt'), tonumber(redis.call('HGET', rk, 'updatedAt')), id)
append_audit(#A - 2)
return { 'ok' }
`;

// A: id, expected version, claims (JSON), index keys (JSON), fields...
// A claim whose source value did not change keeps the key it holds: a record that lost a key to
// an older one during reindexing stays editable until that value itself changes.
const UPDATE = `${CLAIMS_LUA}
local id = A[1]
local rk = K('identity', id)
local f = redis.call('HMGET', rk, 'version', '_idx', 'createdAt')
if not f[1] then return { 'not_found' } end
if tonumber(f[1]) ~= tonumber(A[2]) then return { 'stale' } end
local old = stored_claims(rk)
local held = {}
for _, c in ipairs(old) do held[c[1]] = c end
local next_claims = {}
for _, c in ipairs(cjson.decode(A[3])) do
  local h = held[c[1]]
  if h and redis.call('HGET', rk, c[3]) == c[4] then
    next_claims[#next_claims + 1] = h
  else
    if not h or h[2] ~= c[2] then
      local owner = redis.call('GET', c[2])
      if owner and owner ~= id then return { 'conflict', c[1] } end
    end
    next_claims[#next_claims + 1] = c
  end
end
local keep = {}
for _, c in ipairs(next_claims) do keep[c[2]] = true end
for _, c in ipairs(old) do
  if not keep[c[2]] and c[2] ~= '' and redis.call('GET', c[2]) == id then redis.call('DEL', c[2]) end
end
for _, c in ipairs(next_claims) do if c[2] ~= '' then redis.call('SET', c[2], id) end end
for _, key in ipairs(cjson.decode(f[2])) do redis.call('SREM', key, id) end
for _, key in ipairs(cjson.decode(A[4])) do redis.call('SADD', key, id) end
hset_pairs(rk, 6, tonumber(A[5]))
redis.call('HSET', rk, '_claims', cjson.encode(next_claims), '_idx', A[4])
redis.call('HDEL', rk, '_ukey')
redis.call('ZADD', K('identities', 'by-updatedAt'), tonumber(redis.call('HGET', rk, 'updatedAt')), id)
return { 'ok', f[3] }
`;

// A: id, claims (JSON), index keys (JSON). Re-keys a record written before claims existed (the
// first-come key layout): each key goes to it unless another record holds it already, in which
// case this one keeps no key for that field and, for email, loses emailVerified.
const REINDEX = `${CLAIMS_LUA}
local id = A[1]
local rk = K('identity', id)
local f = redis.call('HMGET', rk, '_claims', '_ukey', '_idx')
if f[1] or not f[3] then return 0 end
local next_claims = {}
for _, c in ipairs(cjson.decode(A[2])) do
  local owner = redis.call('GET', c[2])
  if owner and owner ~= id then
    next_claims[#next_claims + 1] = { c[1], '', c[3], c[4] }
    if c[1] == 'email' then redis.call('HSET', rk, 'emailVerified', 'false') end
  else
    next_claims[#next_claims + 1] = c
    redis.call('SET', c[2], id)
  end
end
local keep = {}
for _, c in ipairs(next_claims) do keep[c[2]] = true end
if f[2] and not keep[f[2]] and redis.call('GET', f[2]) == id then redis.call('DEL', f[2]) end
for _, key in ipairs(cjson.decode(f[3])) do redis.call('SREM', key, id) end
for _, key in ipairs(cjson.decode(A[3])) do redis.call('SADD', key, id) end
redis.call('HSET', rk, '_claims', cjson.encode(next_claims), '_idx', A[3])
redis.call('HDEL', rk, '_ukey')
return 1
`;

// A: id, now, jobs...
const DELETE = `${ENQUEUE_LUA}${CLAIMS_LUA}
local id = A[1]
local rk = K('identity', id)
if redis.call('EXISTS', rk) == 0 then return 0 end
local passkeys, invites, groups = K('identity', id, 'passkeys'), K('identity', id, 'invites'), K('identity', id, 'groups')
for _, pid in ipairs(redis.call('ZRANGE', passkeys, 0, -1)) do redis.call('DEL', K('passkey', pid)) end
for _, iid in ipairs(redis.call('ZRANGE', invites, 0, -1)) do
  local tkey = redis.call('HGET', K('invite', iid), '_tkey')
  if tkey and redis.call('GET', tkey) == iid then redis.call('DEL', tkey) end
  redis.call('DEL', K('invite', iid))
end
for _, gid in ipairs(redis.call('ZRANGE', groups, 0, -1)) do redis.call('ZREM', K('group', gid, 'members'), id) end
release_claims(id, stored_claims(rk))
for _, key in ipairs(cjson.decode(redis.call('HGET', rk, '_idx') or '[]')) do redis.call('SREM', key, id) end
redis.call('DEL', rk, passkeys, invites, groups)
redis.call('SREM', K('identities', 'with-passkey'), id)
redis.call('ZREM', K('identities', 'pending-invite'), id)
redis.call('ZREM', K('identities', 'all'), id)
redis.call('ZREM', K('identities', 'by-createdAt'), id)
redis.call('ZREM', K('identities', 'by-updatedAt'), id)
enqueue_jobs(3, tonumber(A[2]))
return 1
`;

type Claim = [field: string, key: string, sourceField: string, sourceJson: string];

const foldCase = caseKey;

/** A zset score range for a comparison, in ZRANGE BYSCORE syntax. */
export function scoreRange(op: FilterOperator, value: number): { min: string; max: string } | null {
  const v = String(value);
  switch (op) {
    case 'eq':
      return { min: v, max: v };
    case 'gt':
      return { min: `(${v}`, max: '+inf' };
    case 'ge':
      return { min: v, max: '+inf' };
    case 'lt':
      return { min: '-inf', max: `(${v}` };
    case 'le':
      return { min: '-inf', max: v };
    default:
      return null;
  }
}

const EQUALITY_INDEXED = new Set<IdentityFilterAttr>(['id', 'userName', 'email', 'externalId', 'oktaUserId', 'active', 'displayName', 'source', 'group']);

/** Every non-unique index set an identity belongs to (remembered on the record as _idx). */
export function identityIndexKeys(keys: Keys, identity: IdentityRecord): string[] {
  const found = [
    ...addressesOf(identity).map((address) => keys.identitiesBy('email', address)),
    keys.identitiesBy('active', String(identity.active)),
    keys.identitiesBy('source', identity.source),
  ];
  if (identity.displayName !== null) found.push(keys.identitiesBy('displayName', foldCase(identity.displayName)));
  if (identity.externalId !== null) found.push(keys.identitiesBy('externalId', identity.externalId));
  if (identity.oktaUserId !== null) found.push(keys.identitiesBy('oktaUserId', identity.oktaUserId));
  for (const role of new Set(identity.roles)) found.push(keys.identitiesBy('role', role));
  return found;
}


export function createIdentityRepository(redis: Redis, keys: Keys): IdentityRepository & { migrateKeys(): Promise<void> } {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeyIdentities${name}`, body);
  const create = s('Create', CREATE);
  const update = s('Update', UPDATE);
  const remove = s('Delete', DELETE);
  const getByRef = s('GetByRef', GET_BY_REF);
  const query = s('Query', SET_QUERY_LUA);
  const reindex = s('Reindex', REINDEX);

  /** The unique keys a record holds, in the order conflicts are reported. */
  function claims(identity: IdentityRecord): Claim[] {
    return [
      ['userName', keys.identityByUserName(userNameKey(identity.userName)), 'userName', JSON.stringify(identity.userName)],
      ['userNameSkeleton', keys.identityBySkeleton(userNameSkeleton(identity.userName)), 'userName', JSON.stringify(identity.userName)],
      ['email', keys.identityByEmail(emailKey(identity.email)), 'email', JSON.stringify(identity.email)],
    ];
  }

  const indexKeys = (identity: IdentityRecord) => identityIndexKeys(keys, identity);

  /** Field args for the script; update() leaves out createdAt so the stored one stays. */
  function fields(identity: IdentityRecord, omitCreatedAt = false) {
    const { createdAt: _createdAt, ...rest } = identity;
    const { userName, email, displayName, givenName, familyName } = identity;
    return fieldArgs(omitCreatedAt ? rest : identity, {
      _search: searchText([userName, email, displayName, givenName, familyName]),
    });
  }

  /** Leaves an index answers exactly: equality on an index set, ranges on the time zsets. */
  function indexable(leaf: Leaf<IdentityFilterAttr>): boolean {
    const op = leaf.op ?? 'eq';
    if (leaf.attr === 'createdAt' || leaf.attr === 'updatedAt') return typeof leaf.value === 'number' && scoreRange(op, leaf.value) !== null;
    return (op === 'eq' || op === 'ne') && leaf.value !== undefined && EQUALITY_INDEXED.has(leaf.attr);
  }

  function equalityNode(attr: IdentityFilterAttr, raw: FilterValue): SetNode {
    const value = String(identityOperand(attr, raw));
    switch (attr) {
      case 'id':
        return { t: 'id', id: value };
      case 'userName':
        return { t: 'ref', key: keys.identityByUserName(value) };
      case 'group':
        return { t: 'key', key: keys.groupMembers(value) };
      case 'active':
        return { t: 'key', key: keys.identitiesBy('active', String(value === 'true')) };
      case 'email':
      case 'externalId':
      case 'oktaUserId':
      case 'displayName':
      case 'source':
        return { t: 'key', key: keys.identitiesBy(attr, value) };
      default:
        throw new Error(`no index answers identity attribute ${String(attr)}`);
    }
  }

  /** A tree made of indexable leaves only (candidateFilter's output) as set operations. */
  function filterNode(filter: IdentityFilter): SetNode {
    if ('where' in filter) throw new Error(`no index answers ${filter.describe}`);
    if (!isLeaf(filter)) {
      if (filter.op === 'not') return { t: 'diff', c: [{ t: 'all' }, filterNode(filter.filter)] };
      return { t: filter.op, c: filter.filters.map(filterNode) };
    }
    const op = filter.op ?? 'eq';
    if (filter.attr === 'createdAt' || filter.attr === 'updatedAt') {
      const range = scoreRange(op, filter.value as number)!;
      return { t: 'range', key: keys.identitiesByTime(filter.attr), ...range };
    }
    const node = equalityNode(filter.attr, filter.value!);
    return op === 'ne' ? { t: 'diff', c: [{ t: 'all' }, node] } : node;
  }

  function statusNode(status: EnrollmentStatus, now: number): SetNode {
    const enrolled: SetNode = { t: 'key', key: keys.withPasskey() };
    // An invite keeps an identity pending while it could still be spent (expiresAt > now).
    const openInvite: SetNode = { t: 'above', key: keys.pendingInvite(), min: now };
    switch (status) {
      case 'enrolled':
        return enrolled;
      case 'pending':
        return { t: 'diff', c: [openInvite, enrolled] };
      case 'unenrolled':
        return { t: 'diff', c: [{ t: 'all' }, enrolled, openInvite] };
      default:
        throw new Error(`unknown enrollment status: ${String(status)}`);
    }
  }

  function queryNode(q: IdentityQuery, filter: IdentityFilter | null): SetNode | null {
    const parts: SetNode[] = [];
    if (filter) parts.push(filterNode(filter));
    if (q.status) parts.push(statusNode(q.status, q.now));
    if (q.groupId !== undefined) parts.push({ t: 'key', key: keys.groupMembers(q.groupId) });
    if (q.role !== undefined) parts.push({ t: 'key', key: keys.identitiesBy('role', q.role) });
    if (parts.length === 0) return null;
    return parts.length === 1 ? parts[0] : { t: 'and', c: parts };
  }

  /**
   * Moves records written before unique claims existed onto them, oldest first, once per key
   * prefix (several instances starting together may both run it: each record is re-keyed once).
   */
  async function migrateKeys(): Promise<void> {
    const marker = keys.key('schema', 'identity-claims');
    if ((await redis.get(marker)) === '1') return;
    const batch = 500;
    for (let start = 0; ; start += batch) {
      const ids = await redis.zrange(keys.identitiesAll(), start, start + batch - 1);
      if (ids.length === 0) break;
      for (const id of ids) {
        const record = decodeHash<IdentityRecord>(await redis.hgetall(keys.identity(id)));
        if (record) await reindex(id, JSON.stringify(claims(record)), JSON.stringify(indexKeys(record)));
      }
    }
    await redis.set(marker, '1');
  }

  return {
    migrateKeys,
    async create(identity, options) {
      fail(
        await create(identity.id, JSON.stringify(claims(identity)), JSON.stringify(indexKeys(identity)), ...fields(identity), ...auditArgs(options?.audit)),
        `identity ${identity.id}`,
      );
    },
    async get(id) {
      return decodeHash<IdentityRecord>(await redis.hgetall(keys.identity(id)));
    },
    async getWithGroupIds(id) {
      // MULTI: one round trip, and the membership read at the same moment as the record.
      const replies = (await redis.multi().hgetall(keys.identity(id)).zrange(keys.identityGroups(id), 0, -1).exec()) ?? [];
      for (const [error] of replies) if (error) throw error;
      const identity = decodeHash<IdentityRecord>(replies[0]?.[1] as Record<string, string>);
      return identity ? { identity, groupIds: replies[1]?.[1] as string[] } : null;
    },
    async getByUserName(userName) {
      return decodeFlat<IdentityRecord>(
        await getByRef(keys.identityByUserName(userNameKey(userName)), keys.identity('')),
      );
    },
    async update(identity, expectedVersion) {
      const written = { ...identity, version: expectedVersion + 1 };
      const [createdAt] = fail(
        await update(
          identity.id,
          expectedVersion,
          JSON.stringify(claims(written)),
          JSON.stringify(indexKeys(written)),
          ...fields(written, true),
        ),
        `identity ${identity.id}`,
      );
      return { ...written, createdAt: JSON.parse(String(createdAt)) as number };
    },
    async delete(id, options) {
      return (await remove(id, Date.now(), ...jobArgs(options?.enqueue))) === 1;
    },
    async query(q) {
      const candidates = q.filter ? candidateFilter(q.filter, indexable) : { filter: null, exact: true };
      let match: ((identity: IdentityRecord) => boolean) | undefined;
      if (!candidates.exact) {
        const related = new Map<string, Set<string>>();
        for (const groupId of leafValues(q.filter, 'group')) related.set(groupId, new Set(await redis.zrange(keys.groupMembers(groupId), 0, -1)));
        match = (identity) => matchesIdentity(q.filter!, identity, related);
      }
      const sort = q.sort;
      return runSetQuery<IdentityRecord>(redis, query, {
        all: keys.identitiesAll(),
        recordPrefix: keys.identity(''),
        node: queryNode(q, candidates.filter),
        match,
        sort: sort ? (records) => sortRecords(records, sort, identitySortValue) : undefined,
        search: q.search,
        offset: q.offset,
        limit: q.limit,
      });
    },
    async statuses(ids, now) {
      const unique = [...new Set(ids)];
      const multi = redis.multi();
      for (const id of unique) {
        multi.exists(keys.identity(id)).sismember(keys.withPasskey(), id).zscore(keys.pendingInvite(), id);
      }
      const replies = unique.length ? ((await multi.exec()) ?? []) : [];
      const result = new Map<string, EnrollmentStatus>();
      unique.forEach((id, i) => {
        const [exists, enrolled, expiresAt] = replies.slice(i * 3, i * 3 + 3).map(([, value]) => value);
        if (Number(exists) !== 1) return;
        if (Number(enrolled) === 1) result.set(id, 'enrolled');
        else if (expiresAt !== null && Number(expiresAt) > now) result.set(id, 'pending');
        else result.set(id, 'unenrolled');
      });
      return result;
    },
  };
}
