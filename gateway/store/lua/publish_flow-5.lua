-- Make a saved version of a flow the live one, and tell every node in the same step; a retired flow is back.
-- KEYS: the flow's versions hash, the live hash, the updated-at hash, the flows channel, the retired hash
-- ARGV: flow name, version id, now (ms), the bus message (JSON)
-- Returns {'missing', ''} when no such version was saved, else {'ok', the version live before ('' for none)}.
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
  return {'missing', ''}
end
local before = redis.call('HGET', KEYS[2], ARGV[1]) or ''
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('PUBLISH', KEYS[4], ARGV[4])
return {'ok', before}
