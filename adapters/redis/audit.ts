/**
 * Audit log in Redis: each event as JSON, and audit:by-time scoring "{seq}:{id}" by `at`, so
 * newest first is a reverse range and equal times fall back to append order.
 * - list() is over the half-open window since <= at < until, so paging back with until = the
 *   oldest `at` seen never repeats an event.
 * - kind/actor/target filters have no index: list() walks the window newest first in batches
 *   and stops at `limit` matches or after AUDIT_SCAN_LIMIT events, which bounds the work of a
 *   filter that matches nothing in a long log.
 */
import type { Redis } from 'ioredis';
import type { AuditEvent, AuditRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';
import { defineScript, type Arg } from './script.ts';

export const AUDIT_SCAN_LIMIT = 50_000;
const BATCH = 500;

/**
 * Lua: append_audit(i) appends the event auditArgs() put at A[i..i+2] (id, at, JSON), if any.
 * Pasted into other repositories' scripts so an event lands with its change (WriteOptions.audit).
 */
export const AUDIT_LUA = `
local function append_audit(i)
  if A[i] == '' then return end
  local seq = redis.call('INCR', K('audit', 'seq'))
  redis.call('SET', K('audit', 'event', A[i]), A[i + 2])
  redis.call('ZADD', K('audit', 'by-time'), tonumber(A[i + 1]), string.format('%016d', seq) .. ':' .. A[i])
end
`;

/** Three arguments, always (empty when there is no event), so scripts find them at #A - 2. */
export function auditArgs(event: AuditEvent | undefined): Arg[] {
  return event ? [event.id, event.at, JSON.stringify(event)] : ['', 0, ''];
}

// A: id, at, event JSON
const APPEND = `${AUDIT_LUA}
append_audit(1)
return 1
`;

export function createAuditRepository(redis: Redis, keys: Keys): AuditRepository {
  const append = defineScript(redis, keys.prefix, 'latchkeyAuditAppend', APPEND);

  return {
    async append(event) {
      await append(event.id, event.at, JSON.stringify(event));
    },
    async list(query) {
      const limit = Math.max(0, query.limit);
      const max = query.until === undefined ? '+inf' : `(${query.until}`;
      const min = query.since === undefined ? '-inf' : String(query.since);
      const found: AuditEvent[] = [];
      // Appends landing inside the window during the walk shift offsets by one; skip repeats.
      const seen = new Set<string>();
      for (let offset = 0; found.length < limit && offset < AUDIT_SCAN_LIMIT; offset += BATCH) {
        const members = await redis.zrevrangebyscore(keys.auditByTime(), max, min, 'LIMIT', offset, BATCH);
        if (members.length === 0) break;
        const events = await redis.mget(members.map((member) => keys.auditEvent(member.slice(17))));
        for (const json of events) {
          if (json === null) continue;
          const event = JSON.parse(json) as AuditEvent;
          if (seen.has(event.id)) continue;
          seen.add(event.id);
          if (query.kind !== undefined && event.kind !== query.kind) continue;
          if (query.actor !== undefined && event.actor !== query.actor) continue;
          if (query.target !== undefined && event.target !== query.target) continue;
          found.push(event);
          if (found.length === limit) break;
        }
        if (members.length < BATCH) break;
      }
      return found;
    },
  };
}
