-- Hand an open conversation to routing.
-- KEYS: conv, timeline, routing queue, conv channel, event log
-- ARGV: conv id, now, data, queue name, skills, priority, event log max entries
-- Returns 'ok', 'not_found' or the state that prevented it.
--@include append
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state ~= 'open' then return state end
redis.call('HSET', KEYS[1], 'state', 'queued', 'queue', ARGV[4], 'queued_at', ARGV[2], 'skills', ARGV[5],
           'priority', ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
append(KEYS[2], KEYS[1], KEYS[4], 'state', ARGV[3], ARGV[2], KEYS[5], ARGV[1], ARGV[7])
return 'ok'
