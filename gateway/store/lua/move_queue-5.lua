-- Move a waiting conversation to another queue (a queue's maximum wait: overflow), keeping its place in line; or,
-- with the same queue, change what it asks of an agent (skills, priority) and keep its queue's maximum wait running.
-- KEYS: conv, timeline, routing queue, conv channel, event log
-- ARGV: conv id, now, data, the queue it must be in now, the new queue, skills, priority, event log max entries
-- Returns 'ok', 'not_found', 'moved' (in another queue now) or the state that prevented it.
--@include append
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state ~= 'queued' or not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return state end
if redis.call('HGET', KEYS[1], 'queue') ~= ARGV[4] then return 'moved' end
redis.call('HSET', KEYS[1], 'queue', ARGV[5], 'skills', ARGV[6], 'priority', ARGV[7])
if ARGV[5] ~= ARGV[4] then redis.call('HSET', KEYS[1], 'queue_since', ARGV[2]) end
append(KEYS[2], KEYS[1], KEYS[4], 'state', ARGV[3], ARGV[2], KEYS[5], ARGV[1], ARGV[8])
return 'ok'
