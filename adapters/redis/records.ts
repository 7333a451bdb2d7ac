/**
 * Scripts for the plain collections (apps, signing keys, SCIM tokens): a hash per record, an
 * "all" zset scored by a creation sequence for list order, and optional unique index keys
 * (value -> id) claimed in the same script as the insert, so a duplicate cannot slip in between
 * a check and a write.
 */
export const INSERT_UNIQUE = `
-- A: record key, id, all zset, sequence key, id field name, unique count, (key, field)..., fields...
local rk, id = A[1], A[2]
if redis.call('EXISTS', rk) == 1 then return { 'conflict', A[5] } end
local n = tonumber(A[6])
local unique = {}
for i = 0, n - 1 do
  local key = A[7 + i * 2]
  if redis.call('EXISTS', key) == 1 then return { 'conflict', A[8 + i * 2] } end
  unique[#unique + 1] = key
end
local seq = redis.call('INCR', A[4])
local c = 7 + n * 2
hset_pairs(rk, c + 1, tonumber(A[c]))
redis.call('HSET', rk, '_seq', seq, '_unique', table.concat(unique, '\\n'))
for _, key in ipairs(unique) do redis.call('SET', key, id) end
redis.call('ZADD', A[3], seq, id)
return { 'ok' }
`;

export const DELETE_INDEXED = `
-- A: record key, id, all zset
local rk, id = A[1], A[2]
local unique = redis.call('HGET', rk, '_unique')
if redis.call('EXISTS', rk) == 0 then return 0 end
if unique then
  for key in string.gmatch(unique, '[^\\n]+') do
    if redis.call('GET', key) == id then redis.call('DEL', key) end
  end
end
redis.call('DEL', rk)
redis.call('ZREM', A[3], id)
return 1
`;
