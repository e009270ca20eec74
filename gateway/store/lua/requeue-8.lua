-- Take a conversation back from its agent and put it in the queue at ``score`` (its first enqueue time, so it
-- goes back ahead of everyone who came later): a call the agent missed, declined or dropped; or at the back (a
-- transfer to a queue). The agent freed capacity: their idle time starts again (routing gives work to the longest
-- idle: a chat an agent handed to the queue came straight back to them, idle the longest before it).
-- KEYS: conv, timeline, queue, agent_convs, conv channel, event log, agent, help requests
-- ARGV: conv id, agent id, now, data, score, queue name ('' keeps the conversation's queue name), event log max
--       entries, since (ms: its queue's timers count from then; '0' leaves them as they are)
-- Returns 'ok' or 'not_assigned'.
--@include append
--@include help_over
if redis.call('HGET', KEYS[1], 'state') ~= 'assigned' then return 'not_assigned' end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[2] then return 'not_assigned' end
redis.call('SREM', KEYS[4], ARGV[1])
help_over(KEYS[1], KEYS[8], ARGV[1])
redis.call('HSET', KEYS[7], 'idle_since', ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'queued', 'agent_id', '', 'queued_at', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'queue', ARGV[6]) end
if ARGV[8] ~= '0' then redis.call('HSET', KEYS[1], 'queue_since', ARGV[8]) end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
append(KEYS[2], KEYS[1], KEYS[5], 'state', ARGV[4], ARGV[3], KEYS[6], ARGV[1], ARGV[7])
return 'ok'
