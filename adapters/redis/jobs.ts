/**
 * Durable job queue and the transactional outbox writer.
 * - One record per (queue, key): enqueueing again replaces payload and runAt, bumps revision,
 *   resets attempts, and brings a done or failed job back to pending under the same id.
 * - jobs:{queue}:due scores each pending job by the time it may next be leased: runAt, or
 *   lockedUntil while leased. A lease moves the score to lockedUntil, so a crashed worker's job
 *   comes back by itself and live leases never have to be skipped over. Members are
 *   "{seq}:{id}" so equal times lease in creation order.
 * - A re-enqueue keeps an existing lease, so no second worker picks the job up while the first
 *   still works on the old payload; complete() then sees the moved revision and releases it.
 * - ENQUEUE_LUA is pasted into the scripts of other repositories (passkeys, identities, invites)
 *   so their jobs are written in the same script as their change (WriteOptions.enqueue).
 * - enqueue() takes no clock, so createdAt/updatedAt of an enqueue come from Date.now().
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobInput, JobQueue, JobRecord, WriteOptions } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';
import { decodeFlat, decodeList, defineScript, type Arg } from './script.ts';

/** Lua: enqueue_jobs(i, now) reads the jobs that jobArgs() put at A[i..]. */
export const ENQUEUE_LUA = `
local function due_member(seq, id) return string.format('%016d', seq) .. ':' .. id end
local function job_move_state(q, id, seq, from, to)
  if from ~= to then
    redis.call('ZREM', K('jobs', q, 'state', from), id)
    redis.call('ZADD', K('jobs', q, 'state', to), seq, id)
  end
end
local function enqueue_jobs(from, now)
  local n = tonumber(A[from])
  for j = 0, n - 1 do
    local b = from + 1 + j * 5
    local q, key, payload, runAt, newId = A[b], A[b + 1], A[b + 2], tonumber(A[b + 3]), A[b + 4]
    local byKey = K('jobs', q, 'key', key)
    local id = redis.call('GET', byKey)
    if id and redis.call('EXISTS', K('job', id)) == 1 then
      local jk = K('job', id)
      local f = redis.call('HMGET', jk, '_seq', 'state', 'revision', 'lockedBy', 'lockedUntil')
      local seq = tonumber(f[1])
      redis.call('HSET', jk, 'payload', payload, 'runAt', fmt(runAt), 'state', '"pending"', 'attempts', '0',
        'revision', fmt(tonumber(f[3]) + 1), 'lastError', 'null', 'updatedAt', fmt(now))
      job_move_state(q, id, seq, cjson.decode(f[2]), 'pending')
      local at = runAt
      local lockedUntil = num(f[5])
      if f[4] ~= 'null' and lockedUntil and lockedUntil > at then at = lockedUntil end
      redis.call('ZADD', K('jobs', q, 'due'), at, due_member(seq, id))
    else
      local seq = redis.call('INCR', K('jobs', 'seq'))
      redis.call('HSET', K('job', newId), 'id', cjson.encode(newId), 'queue', cjson.encode(q),
        'key', cjson.encode(key), 'payload', payload, 'runAt', fmt(runAt), 'state', '"pending"',
        'attempts', '0', 'revision', '1', 'lastError', 'null', 'lockedBy', 'null', 'lockedUntil', 'null',
        'createdAt', fmt(now), 'updatedAt', fmt(now), '_seq', seq)
      redis.call('SET', byKey, newId)
      redis.call('ZADD', K('jobs', q, 'all'), seq, newId)
      redis.call('ZADD', K('jobs', q, 'state', 'pending'), seq, newId)
      redis.call('ZADD', K('jobs', q, 'due'), runAt, due_member(seq, newId))
    end
  end
end
`;

/** Arguments for enqueue_jobs: a count, then five values per job. */
export function jobArgs(jobs: WriteOptions['enqueue']): Arg[] {
  const list = jobs ?? [];
  const args: Arg[] = [list.length];
  for (const job of list) args.push(job.queue, job.key, JSON.stringify(job.payload), job.runAt, randomUUID());
  return args;
}

const ENQUEUE = `${ENQUEUE_LUA}
enqueue_jobs(1, tonumber(A[#A]))
return 'ok'
`;

// A: queue, worker (JSON), now, leaseMs
const LEASE = `${ENQUEUE_LUA}
local q, worker, now, leaseMs = A[1], A[2], tonumber(A[3]), tonumber(A[4])
local due = K('jobs', q, 'due')
while true do
  local first = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, 1)[1]
  if not first then return false end
  local id = string.sub(first, 18)
  local jk = K('job', id)
  local f = redis.call('HMGET', jk, 'state', 'runAt', 'lockedBy', 'lockedUntil')
  local lockedUntil = num(f[4])
  if f[1] ~= '"pending"' then
    redis.call('ZREM', due, first)
  elseif f[3] ~= 'null' and lockedUntil and lockedUntil > now then
    redis.call('ZADD', due, lockedUntil, first)
  elseif tonumber(f[2]) > now then
    redis.call('ZADD', due, tonumber(f[2]), first)
  else
    local untilAt = now + leaseMs
    redis.call('HSET', jk, 'lockedBy', worker, 'lockedUntil', fmt(untilAt), 'updatedAt', fmt(now))
    redis.call('ZADD', due, untilAt, first)
    return redis.call('HGETALL', jk)
  end
end
`;

// A: id, worker (JSON), now, action ('complete' | 'retry' | 'fail'), revision | runAt, error (JSON)
const FINISH = `${ENQUEUE_LUA}
local id, worker, now, action = A[1], A[2], tonumber(A[3]), A[4]
local jk = K('job', id)
local f = redis.call('HMGET', jk, 'state', 'lockedBy', 'revision', 'queue', '_seq', 'runAt')
if f[1] ~= '"pending"' or f[2] ~= worker then return 0 end
local q, seq = cjson.decode(f[4]), tonumber(f[5])
local due, member = K('jobs', q, 'due'), due_member(seq, id)
if action == 'complete' then
  if tonumber(f[3]) ~= tonumber(A[5]) then
    redis.call('HSET', jk, 'lockedBy', 'null', 'lockedUntil', 'null', 'updatedAt', fmt(now))
    redis.call('ZADD', due, tonumber(f[6]), member)
    return 0
  end
  redis.call('HSET', jk, 'state', '"done"', 'lastError', 'null', 'lockedBy', 'null', 'lockedUntil', 'null',
    'updatedAt', fmt(now))
  redis.call('ZREM', due, member)
  job_move_state(q, id, seq, 'pending', 'done')
elseif action == 'retry' then
  redis.call('HINCRBY', jk, 'attempts', 1)
  redis.call('HSET', jk, 'runAt', A[5], 'lastError', A[6], 'lockedBy', 'null', 'lockedUntil', 'null',
    'updatedAt', fmt(now))
  redis.call('ZADD', due, tonumber(A[5]), member)
else
  redis.call('HSET', jk, 'state', '"failed"', 'lastError', A[6], 'lockedBy', 'null', 'lockedUntil', 'null',
    'updatedAt', fmt(now))
  redis.call('ZREM', due, member)
  job_move_state(q, id, seq, 'pending', 'failed')
end
return 1
`;

const GET_BY_KEY = `
local id = redis.call('GET', K('jobs', A[1], 'key', A[2]))
if not id then return false end
return redis.call('HGETALL', K('job', id))
`;

// A: index zset, limit
const LIST = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', A[1], 0, tonumber(A[2]) - 1)) do
  out[#out + 1] = redis.call('HGETALL', K('job', id))
end
return out
`;

export function createJobQueue(redis: Redis, keys: Keys): JobQueue {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeyJobs${name}`, body);
  const enqueue = s('Enqueue', ENQUEUE);
  const lease = s('Lease', LEASE);
  const finish = s('Finish', FINISH);
  const getByKey = s('GetByKey', GET_BY_KEY);
  const list = s('List', LIST);

  return {
    async enqueue(job: JobInput) {
      await enqueue(...jobArgs([job]), Date.now());
    },
    async lease(queue, worker, now, leaseMs) {
      return decodeFlat<JobRecord>(await lease(queue, JSON.stringify(worker), now, leaseMs));
    },
    async complete(id, worker, revision, now) {
      return (await finish(id, JSON.stringify(worker), now, 'complete', revision)) === 1;
    },
    async retry(id, worker, runAt, error, now) {
      return (await finish(id, JSON.stringify(worker), now, 'retry', runAt, JSON.stringify(error))) === 1;
    },
    async fail(id, worker, error, now) {
      return (await finish(id, JSON.stringify(worker), now, 'fail', 0, JSON.stringify(error))) === 1;
    },
    async get(queue, key) {
      return decodeFlat<JobRecord>(await getByKey(queue, key));
    },
    async list(queue, state, limit) {
      if (limit <= 0) return [];
      const index = state ? keys.jobsInState(queue, state) : keys.jobsAll(queue);
      return decodeList<JobRecord>(await list(index, limit));
    },
    async counts(queue) {
      const replies = await redis
        .multi()
        .zcard(keys.jobsInState(queue, 'pending'))
        .zcard(keys.jobsInState(queue, 'done'))
        .zcard(keys.jobsInState(queue, 'failed'))
        .exec();
      const [pending, done, failed] = (replies ?? []).map(([, n]) => Number(n ?? 0));
      return { pending, done, failed };
    },
    async oldestDue(queue) {
      // The due zset scores each pending job by runAt, or lockedUntil while leased: its first entry.
      const [, score] = await redis.zrange(keys.key('jobs', queue, 'due'), 0, 0, 'WITHSCORES');
      return score === undefined ? null : Number(score);
    },
  };
}
