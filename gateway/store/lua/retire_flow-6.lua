-- Retire a flow: out of service on every node (its live pointer goes), listed apart; its versions stay.
-- KEYS: the head hash, the live hash, the updated-at hash, the answers hash, the retired hash, the flows channel
-- ARGV: flow name, now (ms), the bus message (JSON)
-- Returns {'missing', ''} for a flow with no saved version, {'retired', the version that was live} for one retired
-- already (nothing written: a second retire kept '' as the version that was live), {'answers', 'calls' or 'chats'}
-- while an admin's choice makes it answer new calls or chats, else {'ok', the version that was live ('' for none)}.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return {'missing', ''}
end
local was = redis.call('HGET', KEYS[5], ARGV[1])
if was then return {'retired', was} end
for _, entry in ipairs({'calls', 'chats'}) do
  if redis.call('HGET', KEYS[4], entry) == ARGV[1] then return {'answers', entry} end
end
local live = redis.call('HGET', KEYS[2], ARGV[1]) or ''
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[1], live)
redis.call('PUBLISH', KEYS[6], ARGV[3])
return {'ok', live}
