/**
 * Filtered, paged listing over index sets, shared by identities and groups.
 * - A filter compiles to a tree of set operations (and = ZINTERSTORE, or = ZUNIONSTORE, not =
 *   ZDIFFSTORE) over the index keys, evaluated inside one script into scratch keys that the same
 *   script deletes, so a query reads one consistent snapshot and never loads every record.
 * - The result is intersected with the collection's "all" zset with weight 0 for the filter side,
 *   so every member keeps its creation sequence as score: the port's stable order, paged by rank.
 * - A substring search has no index. The script then answers the ordered candidate ids and the
 *   search text (the _search field, lowercased in JS so non-ASCII letters fold) is scanned in
 *   pipelined batches; only the requested page of records is loaded.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Page } from '../../server/ports/storage.ts';
import { decodeHash, decodeList, type Script } from './script.ts';

export type SetNode =
  /** An existing set or zset key. */
  | { t: 'key'; key: string }
  /** A string key holding one record id (a unique index). */
  | { t: 'ref'; key: string }
  | { t: 'id'; id: string }
  | { t: 'all' }
  /** Members of a zset scored strictly above min. */
  | { t: 'above'; key: string; min: number }
  /** Members of a zset scored within [min, max], in ZRANGE BYSCORE syntax ("(5", "-inf"). */
  | { t: 'range'; key: string; min: string; max: string }
  | { t: 'and' | 'or' | 'diff'; c: SetNode[] };

export const SET_QUERY_LUA = `
-- A: nonce, all zset, record key prefix, node JSON ('' = everyone), mode ('page' | 'ids'), offset, limit
local nonce, all, rec, mode = A[1], A[2], A[3], A[5]
local temps = {}
local function temp()
  local k = K('tmp', nonce, #temps + 1)
  temps[#temps + 1] = k
  return k
end
local function single(id)
  local d = temp()
  if id and redis.call('EXISTS', rec .. id) == 1 then redis.call('ZADD', d, 0, id) end
  return d
end
local ops = { ['and'] = 'ZINTERSTORE', ['or'] = 'ZUNIONSTORE', diff = 'ZDIFFSTORE' }
local function ev(n)
  if n.t == 'key' then return n.key end
  if n.t == 'all' then return all end
  if n.t == 'ref' then return single(redis.call('GET', n.key)) end
  if n.t == 'id' then return single(n.id) end
  if n.t == 'above' then
    local d = temp()
    redis.call('ZRANGESTORE', d, n.key, '(' .. fmt(n.min), '+inf', 'BYSCORE')
    return d
  end
  if n.t == 'range' then
    local d = temp()
    redis.call('ZRANGESTORE', d, n.key, n.min, n.max, 'BYSCORE')
    return d
  end
  local ks = {}
  for _, c in ipairs(n.c) do ks[#ks + 1] = ev(c) end
  -- An empty conjunction holds for everyone, an empty disjunction for no one.
  if #ks == 0 then
    if n.t == 'and' then return all end
    return temp()
  end
  local d = temp()
  redis.call(ops[n.t], d, #ks, unpack(ks))
  return d
end
local result = all
if A[4] ~= '' then
  local filtered = ev(cjson.decode(A[4]))
  result = temp()
  redis.call('ZINTERSTORE', result, 2, all, filtered, 'WEIGHTS', 1, 0)
end
local out
if mode == 'ids' then
  out = redis.call('ZRANGE', result, 0, -1)
else
  local offset, limit = tonumber(A[6]), tonumber(A[7])
  local items = {}
  if limit > 0 then
    for _, id in ipairs(redis.call('ZRANGE', result, offset, offset + limit - 1)) do
      items[#items + 1] = redis.call('HGETALL', rec .. id)
    end
  end
  out = { redis.call('ZCARD', result), items }
end
if #temps > 0 then redis.call('DEL', unpack(temps)) end
return out
`;

const SEARCH_BATCH = 500;

export interface SetQuery<T> {
  all: string;
  recordPrefix: string;
  node: SetNode | null;
  search?: string;
  /**
   * What the index sets could not decide (record-filter.ts): the candidates the node leaves are
   * loaded in pipelined batches and kept when `match` holds, then sorted by `sort`, then paged.
   */
  match?: (record: T) => boolean;
  sort?: (records: T[]) => T[];
  offset: number;
  limit: number;
}

async function loadRecords<T>(redis: Redis, prefix: string, ids: string[]): Promise<T[]> {
  const records: T[] = [];
  for (let start = 0; start < ids.length; start += SEARCH_BATCH) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(start, start + SEARCH_BATCH)) pipeline.hgetall(prefix + id);
    for (const [, hash] of (await pipeline.exec()) ?? []) {
      const record = decodeHash<T>((hash ?? {}) as Record<string, string>);
      if (record !== null) records.push(record);
    }
  }
  return records;
}

export async function runSetQuery<T>(redis: Redis, script: Script, query: SetQuery<T>): Promise<Page<T>> {
  const offset = Math.max(0, query.offset);
  const limit = Math.max(0, query.limit);
  const node = query.node ? JSON.stringify(query.node) : '';
  if (query.match || query.sort) {
    let ids = (await script(randomUUID(), query.all, query.recordPrefix, node, 'ids', 0, 0)) as string[];
    if (query.search) ids = await searchIds(redis, query.recordPrefix, ids, query.search);
    let records = await loadRecords<T>(redis, query.recordPrefix, ids);
    if (query.match) records = records.filter(query.match);
    if (query.sort) records = query.sort(records);
    return { items: records.slice(offset, offset + limit), total: records.length };
  }
  if (!query.search) {
    const [total, items] = (await script(randomUUID(), query.all, query.recordPrefix, node, 'page', offset, limit)) as [
      number,
      unknown[],
    ];
    return { items: decodeList<T>(items), total };
  }

  const candidates = (await script(randomUUID(), query.all, query.recordPrefix, node, 'ids', 0, 0)) as string[];
  const matches = await searchIds(redis, query.recordPrefix, candidates, query.search);
  const pageIds = matches.slice(offset, offset + limit);
  const pipeline = redis.pipeline();
  for (const id of pageIds) pipeline.hgetall(query.recordPrefix + id);
  const hashes = pageIds.length ? ((await pipeline.exec()) ?? []) : [];
  const items = hashes
    .map(([, hash]) => decodeHash<T>((hash ?? {}) as Record<string, string>))
    .filter((record): record is T => record !== null);
  return { items, total: matches.length };
}

async function searchIds(redis: Redis, prefix: string, candidates: string[], search: string): Promise<string[]> {
  const needle = search.toLowerCase();
  const matches: string[] = [];
  for (let start = 0; start < candidates.length; start += SEARCH_BATCH) {
    const batch = candidates.slice(start, start + SEARCH_BATCH);
    const pipeline = redis.pipeline();
    for (const id of batch) pipeline.hget(prefix + id, '_search');
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([, text], i) => {
      if (typeof text === 'string' && text.includes(needle)) matches.push(batch[i]);
    });
  }
  return matches;
}

/** Lowercased haystack for search; a newline keeps a match from spanning two fields. */
export function searchText(values: (string | null | undefined)[]): string {
  return values
    .filter((value): value is string => !!value)
    .map((value) => value.toLowerCase())
    .join('\n');
}
