/**
 * Groups and memberships in Redis.
 * - groups:by-displayName:{lower} (lowercased in JS) carries the case-insensitive uniqueness.
 * - Membership is kept both ways, group:{id}:members and identity:{id}:groups, each a zset scored
 *   by the other side's creation sequence, so members() and groupIdsOf() come out in creation
 *   order and identity queries can intersect with a group directly.
 * - Member ids that name no identity are skipped, so SCIM clients sending stale ids do not fail
 *   the whole request.
 * - A membership change runs in the same script as the version check and record write: set
 *   replaces the list; otherwise add runs before remove.
 * - update() keeps the stored createdAt.
 */
import type { Redis } from 'ioredis';
import type { GroupFilter, GroupFilterAttr, GroupRecord, GroupRepository, MembershipChange } from '../../server/ports/storage.ts';
import { candidateFilter, caseKey, groupValue, isLeaf, leafValues, matchesGroup, sortRecords, type Leaf } from '../../server/ports/record-filter.ts';
import type { Keys } from './keys.ts';
import { decodeFlat, decodeHash, defineScript, fail, fieldArgs, GET_BY_REF, type Arg } from './script.ts';
import { runSetQuery, searchText, SET_QUERY_LUA, type SetNode } from './set-query.ts';

const MEMBERSHIP_LUA = `
local function add_member(gid, gseq, mid)
  local mseq = redis.call('ZSCORE', K('identities', 'all'), mid)
  if mseq then
    redis.call('ZADD', K('group', gid, 'members'), mseq, mid)
    redis.call('ZADD', K('identity', mid, 'groups'), gseq, gid)
  end
end
local function remove_member(gid, mid)
  redis.call('ZREM', K('group', gid, 'members'), mid)
  redis.call('ZREM', K('identity', mid, 'groups'), gid)
end
local cursor = 0
local function take_list()
  local n = tonumber(A[cursor])
  local out = {}
  for i = 1, n do out[i] = A[cursor + i] end
  cursor = cursor + n + 1
  return out
end
`;

// A: id, displayName key, index keys (JSON), members (count, ids...), fields (count, pairs...)
const CREATE = `${MEMBERSHIP_LUA}
local id, dkey = A[1], A[2]
local rk = K('group', id)
if redis.call('EXISTS', rk) == 1 then return { 'conflict', 'id' } end
if redis.call('EXISTS', dkey) == 1 then return { 'conflict', 'displayName' } end
cursor = 4
local members = take_list()
local seq = redis.call('INCR', K('groups', 'seq'))
hset_pairs(rk, cursor + 1, tonumber(A[cursor]))
redis.call('HSET', rk, '_seq', seq, '_dkey', dkey, '_idx', A[3])
redis.call('SET', dkey, id)
for _, key in ipairs(cjson.decode(A[3])) do redis.call('SADD', key, id) end
redis.call('ZADD', K('groups', 'all'), seq, id)
for _, mid in ipairs(members) do add_member(id, seq, mid) end
return { 'ok' }
`;

// A: id, expected version, displayName key, index keys (JSON), replace ('1' | '0'),
//    set (count, ids...), add (count, ids...), remove (count, ids...), fields (count, pairs...)
const UPDATE = `${MEMBERSHIP_LUA}
local id, dkey = A[1], A[3]
local rk = K('group', id)
local f = redis.call('HMGET', rk, 'version', '_dkey', '_idx', 'createdAt', '_seq')
if not f[1] then return { 'not_found' } end
if tonumber(f[1]) ~= tonumber(A[2]) then return { 'stale' } end
if f[2] ~= dkey then
  local owner = redis.call('GET', dkey)
  if owner and owner ~= id then return { 'conflict', 'displayName' } end
  if redis.call('GET', f[2]) == id then redis.call('DEL', f[2]) end
  redis.call('SET', dkey, id)
end
for _, key in ipairs(cjson.decode(f[3])) do redis.call('SREM', key, id) end
for _, key in ipairs(cjson.decode(A[4])) do redis.call('SADD', key, id) end
cursor = 6
local replace, adds, removes = take_list(), take_list(), take_list()
local seq = tonumber(f[5])
if A[5] == '1' then
  local wanted = {}
  for _, mid in ipairs(replace) do wanted[mid] = true end
  for _, mid in ipairs(redis.call('ZRANGE', K('group', id, 'members'), 0, -1)) do
    if not wanted[mid] then remove_member(id, mid) end
  end
  for _, mid in ipairs(replace) do add_member(id, seq, mid) end
else
  for _, mid in ipairs(adds) do add_member(id, seq, mid) end
  for _, mid in ipairs(removes) do remove_member(id, mid) end
end
hset_pairs(rk, cursor + 1, tonumber(A[cursor]))
redis.call('HSET', rk, '_dkey', dkey, '_idx', A[4])
return { 'ok', f[4] }
`;

// A: id
const DELETE = `
local id = A[1]
local rk = K('group', id)
local f = redis.call('HMGET', rk, '_dkey', '_idx')
if redis.call('EXISTS', rk) == 0 then return 0 end
local members = K('group', id, 'members')
for _, mid in ipairs(redis.call('ZRANGE', members, 0, -1)) do redis.call('ZREM', K('identity', mid, 'groups'), id) end
if f[1] and redis.call('GET', f[1]) == id then redis.call('DEL', f[1]) end
for _, key in ipairs(cjson.decode(f[2] or '[]')) do redis.call('SREM', key, id) end
redis.call('DEL', rk, members)
redis.call('ZREM', K('groups', 'all'), id)
return 1
`;

const foldCase = caseKey;
const listArgs = (ids: string[] | undefined): Arg[] => [ids?.length ?? 0, ...(ids ?? [])];

/** Every non-unique index set a group belongs to (remembered on the record as _idx). */
export function groupIndexKeys(keys: Keys, group: GroupRecord): string[] {
  return [keys.groupsBySource(group.source), ...(group.externalId === null ? [] : [keys.groupsByExternalId(group.externalId)])];
}

export function createGroupRepository(redis: Redis, keys: Keys): GroupRepository {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeyGroups${name}`, body);
  const create = s('Create', CREATE);
  const update = s('Update', UPDATE);
  const remove = s('Delete', DELETE);
  const getByRef = s('GetByRef', GET_BY_REF);
  const query = s('Query', SET_QUERY_LUA);

  const indexKeys = (group: GroupRecord) => JSON.stringify(groupIndexKeys(keys, group));

  /** Equality on an index; everything else (few groups) is decided in memory over the candidates. */
  const indexable = (leaf: Leaf<GroupFilterAttr>) =>
    (leaf.op === undefined || leaf.op === 'eq' || leaf.op === 'ne') && typeof leaf.value === 'string' && ['id', 'displayName', 'externalId', 'member', 'source'].includes(leaf.attr);

  function filterNode(filter: GroupFilter): SetNode {
    if ('where' in filter) throw new Error(`no index answers ${filter.describe}`);
    if (!isLeaf(filter)) {
      if (filter.op === 'not') return { t: 'diff', c: [{ t: 'all' }, filterNode(filter.filter)] };
      return { t: filter.op, c: filter.filters.map(filterNode) };
    }
    const value = String(filter.value);
    let node: SetNode;
    switch (filter.attr) {
      case 'id':
        node = { t: 'id', id: value };
        break;
      case 'displayName':
        node = { t: 'ref', key: keys.groupByDisplayName(foldCase(value)) };
        break;
      case 'externalId':
        node = { t: 'key', key: keys.groupsByExternalId(value) };
        break;
      case 'member':
        node = { t: 'key', key: keys.identityGroups(value) };
        break;
      case 'source':
        node = { t: 'key', key: keys.groupsBySource(value) };
        break;
      default:
        throw new Error(`no index answers group attribute ${String(filter.attr)}`);
    }
    return filter.op === 'ne' ? { t: 'diff', c: [{ t: 'all' }, node] } : node;
  }

  return {
    async create(group, memberIds) {
      const fields = fieldArgs(group, { _search: searchText([group.displayName]) });
      const dkey = keys.groupByDisplayName(foldCase(group.displayName));
      fail(await create(group.id, dkey, indexKeys(group), ...listArgs(memberIds), ...fields), `group ${group.id}`);
    },
    async get(id) {
      return decodeHash<GroupRecord>(await redis.hgetall(keys.group(id)));
    },
    async getByDisplayName(displayName) {
      return decodeFlat<GroupRecord>(await getByRef(keys.groupByDisplayName(foldCase(displayName)), keys.group('')));
    },
    async update(group, expectedVersion, members?: MembershipChange) {
      const written = { ...group, version: expectedVersion + 1 };
      const { createdAt: _createdAt, ...rest } = written;
      const [createdAt] = fail(
        await update(
          group.id,
          expectedVersion,
          keys.groupByDisplayName(foldCase(group.displayName)),
          indexKeys(group),
          members?.set ? '1' : '0',
          ...listArgs(members?.set),
          ...listArgs(members?.add),
          ...listArgs(members?.remove),
          ...fieldArgs(rest, { _search: searchText([group.displayName]) }),
        ),
        `group ${group.id}`,
      );
      return { ...written, createdAt: JSON.parse(String(createdAt)) as number };
    },
    async delete(id) {
      return (await remove(id)) === 1;
    },
    async query(q) {
      const candidates = q.filter ? candidateFilter(q.filter, indexable) : { filter: null, exact: true };
      let match: ((group: GroupRecord) => boolean) | undefined;
      if (!candidates.exact) {
        const related = new Map<string, Set<string>>();
        for (const identityId of leafValues(q.filter, 'member')) related.set(identityId, new Set(await redis.zrange(keys.identityGroups(identityId), 0, -1)));
        match = (group) => matchesGroup(q.filter!, group, related);
      }
      const sort = q.sort;
      return runSetQuery<GroupRecord>(redis, query, {
        all: keys.groupsAll(),
        recordPrefix: keys.group(''),
        node: candidates.filter ? filterNode(candidates.filter) : null,
        match,
        sort: sort ? (records) => sortRecords(records, sort, groupValue) : undefined,
        search: q.search,
        offset: q.offset,
        limit: q.limit,
      });
    },
    async members(groupId) {
      return redis.zrange(keys.groupMembers(groupId), 0, -1);
    },
    async groupIdsOf(identityId) {
      return redis.zrange(keys.identityGroups(identityId), 0, -1);
    },
    async memberCounts(groupIds) {
      const pipeline = redis.pipeline();
      for (const id of groupIds) pipeline.zcard(keys.groupMembers(id));
      const replies = (await pipeline.exec()) ?? [];
      return new Map(groupIds.map((id, index) => [id, Number(replies[index]?.[1] ?? 0)]));
    },
  };
}
