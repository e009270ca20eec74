-- Delete a closed conversation that has not changed since ``cutoff``, with what only it owns (retention).
-- KEYS: conv, ctx, timeline, client_ids, customer, customer client ids, closed index, the customer's conversations,
--       every conversation, conv words [, the word index of each of its words (as the caller read them)]
-- ARGV: conv id, cutoff ms, customer id
-- Returns {status, whole}: status 'deleted', or why not ('gone', 'not_closed', 'newer'); whole is 'customer' when
-- the customer's record went too (this was their latest conversation, so every earlier one is older still).
local state = redis.call('HGET', KEYS[1], 'state')
if not state then redis.call('ZREM', KEYS[7], ARGV[1]) return {'gone', ''} end
if state ~= 'closed' or (redis.call('HGET', KEYS[1], 'customer_id') or '') ~= ARGV[3] then
  redis.call('ZREM', KEYS[7], ARGV[1])
  return {'not_closed', ''}
end
local updated = redis.call('HGET', KEYS[1], 'updated_at') or '0'
if tonumber(updated) > tonumber(ARGV[2]) then   -- a note after the close: kept until that is old too
  redis.call('ZADD', KEYS[7], updated, ARGV[1])
  return {'newer', ''}
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[10])
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('ZREM', KEYS[8], ARGV[1])
redis.call('ZREM', KEYS[9], ARGV[1])
for i = 11, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
if redis.call('HGET', KEYS[5], 'current') == ARGV[1] then
  redis.call('DEL', KEYS[5], KEYS[6])
  return {'deleted', 'customer'}
end
return {'deleted', ''}
