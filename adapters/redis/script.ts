/**
 * Lua scripts and the record codec shared by every repository.
 * - A record is a hash with one JSON value per field, so a script can read or replace one field
 *   (a counter, spentAt, a lock) without decoding the rest. Fields starting with "_" are the
 *   adapter's own bookkeeping (sequence, index key names) and never reach the caller.
 * - Scripts answer {"ok", ...} or {"conflict", field} / {"stale"} / {"not_found"}; fail() turns
 *   those into StoreError so the codes match every other adapter.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { StoreError } from '../../server/ports/storage.ts';
import { LUA_PRELUDE } from './keys.ts';

export type Arg = string | number;
export type Script = (...args: Arg[]) => Promise<unknown>;

/**
 * A script run by its SHA1 (EVALSHA), sent in full (EVAL, which also caches it) only when Redis
 * answers NOSCRIPT: after a restart, a failover or a SCRIPT FLUSH. Not ioredis' defineCommand:
 * every pipeline ioredis builds (auto-pipelining builds one per batch) copies each defined
 * command onto itself, about fifty here, which cost more CPU per sign-in than the scripts' own
 * encoding. `name` says which script failed.
 */
export function defineScript(redis: Redis, prefix: string, name: string, body: string): Script {
  const lua = LUA_PRELUDE + body;
  const sha = createHash('sha1').update(lua).digest('hex');
  const run = async (args: Arg[]) => {
    try {
      return await redis.evalsha(sha, 0, prefix, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return await redis.eval(lua, 0, prefix, ...args);
    }
  };
  return (...args) =>
    run(args).catch((error: unknown) => {
      // A Redis error names a script only by its SHA1.
      if (error instanceof Error) Object.assign(error, { script: name });
      throw error;
    });
}

/** Field/value pairs of a record, preceded by their count, as scripts read them with hset_pairs. */
export function fieldArgs(record: object, extra: Record<string, string> = {}): Arg[] {
  const args: Arg[] = [];
  for (const [field, value] of Object.entries(record)) {
    if (value !== undefined) args.push(field, JSON.stringify(value));
  }
  for (const [field, value] of Object.entries(extra)) args.push(field, value);
  return [args.length / 2, ...args];
}

export function decodeHash<T>(hash: Record<string, string>): T | null {
  let found = false;
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('_')) continue;
    found = true;
    record[field] = JSON.parse(value);
  }
  return found ? (record as T) : null;
}

/** HGETALL inside Lua answers a flat [field, value, ...] list. */
export function decodeFlat<T>(flat: unknown): T | null {
  if (!Array.isArray(flat) || flat.length === 0) return null;
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[String(flat[i])] = String(flat[i + 1]);
  return decodeHash<T>(hash);
}

export function decodeList<T>(flats: unknown): T[] {
  if (!Array.isArray(flats)) return [];
  return flats.map((flat) => decodeFlat<T>(flat)).filter((record): record is T => record !== null);
}

/** Throws the StoreError a script reported; returns the rest of an "ok" reply. */
export function fail(reply: unknown, what: string): unknown[] {
  const [status, ...rest] = Array.isArray(reply) ? reply : [reply];
  switch (status) {
    case 'ok':
      return rest;
    case 'conflict':
      throw new StoreError('conflict', `${what}: ${String(rest[0])} already taken`, String(rest[0]));
    case 'stale':
      throw new StoreError('stale', `${what}: the record changed since it was read`);
    case 'not_found':
      throw new StoreError('not_found', `${what}: no such record`);
    default:
      throw new Error(`${what}: unexpected script reply ${JSON.stringify(reply)}`);
  }
}

/**
 * Garbage-collection expiry for records that carry a logical expiresAt. The caller's clock (the
 * Clock port) decides expiry on every read; Redis only drops the key later, with an allowance so a
 * Redis clock running ahead of an instance's clock never removes a record still live for it.
 */
export const EXPIRY_ALLOWANCE_MS = 5 * 60_000;
export function gcExpireAt(expiresAt: number): number {
  return Math.max(expiresAt, Date.now()) + EXPIRY_ALLOWANCE_MS;
}

/** A: record key, fields (count, pairs...). Answers 1 if the record existed and was updated. */
export const HSET_IF_EXISTS = `
if redis.call('EXISTS', A[1]) == 0 then return 0 end
hset_pairs(A[1], 3, tonumber(A[2]))
return 1
`;

/** A: index zset (scored by creation sequence), record key prefix. Records in index order. */
export const LIST_BY_INDEX = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', A[1], 0, -1)) do
  out[#out + 1] = redis.call('HGETALL', A[2] .. id)
end
return out
`;

/** A: unique index key (value -> id), record key prefix. The record the index points at. */
export const GET_BY_REF = `
local id = redis.call('GET', A[1])
if not id then return false end
return redis.call('HGETALL', A[2] .. id)
`;
