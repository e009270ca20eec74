-- Save a version of a flow, unless another save got there first (optimistic concurrency).
-- KEYS: the heads hash, the flow's versions hash, the flow's log list, the updated-at hash
-- ARGV: flow name, parent (the head the editor started from, '' for a new flow), version id, record JSON, now (ms)
-- Returns {'stale', current head} when the parent is not the head; {'unchanged', id} when the version is the head
-- already; {'saved', id} (a new version, or an earlier one with the same content made the head again).
local head = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if head ~= ARGV[2] then
  return {'stale', head}
end
if head == ARGV[3] then
  return {'unchanged', head}
end
if redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[4]) == 1 then
  redis.call('RPUSH', KEYS[3], ARGV[3])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
return {'saved', ARGV[3]}
