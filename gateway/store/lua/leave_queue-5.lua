-- Take a waiting conversation out of the routing queue, back to 'open' (a queue's maximum wait runs a flow).
-- KEYS: conv, timeline, routing queue, conv channel, event log
-- ARGV: conv id, now, data, the queue it must be in now, event log max entries
-- Returns 'ok', 'not_found', 'moved' or the state that prevented it.
--@include append
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state ~= 'queued' or not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return state end
if redis.call('HGET', KEYS[1], 'queue') ~= ARGV[4] then return 'moved' end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'open', 'queue_since', ARGV[2])
append(KEYS[2], KEYS[1], KEYS[4], 'state', ARGV[3], ARGV[2], KEYS[5], ARGV[1], ARGV[5])
return 'ok'
