-- Hand an assigned conversation from one agent straight to another (a transfer), if the other is available,
-- online and has room. Both agents' idle time starts again: one was given work, the other freed capacity.
-- KEYS: conv, timeline, from_convs, to_agent, to_convs, to_sessions, conv channel, event log, from_agent, help
--       requests (the from agent's request for help ends: help_over)
-- ARGV: conv id, from agent, to agent, now, data, event log max entries
-- Returns 'ok', 'not_assigned', 'agent_unavailable', 'agent_offline' or 'agent_full'.
--@include append
--@include help_over
if redis.call('HGET', KEYS[1], 'state') ~= 'assigned' then return 'not_assigned' end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[2] then return 'not_assigned' end
if redis.call('HGET', KEYS[4], 'status') ~= 'available' then return 'agent_unavailable' end
if redis.call('ZCOUNT', KEYS[6], ARGV[4], '+inf') == 0 then return 'agent_offline' end
local capacity = tonumber(redis.call('HGET', KEYS[4], 'capacity') or '0')
if redis.call('SCARD', KEYS[5]) >= capacity then return 'agent_full' end
redis.call('SREM', KEYS[3], ARGV[1])
help_over(KEYS[1], KEYS[10], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('HSET', KEYS[4], 'idle_since', ARGV[4])
redis.call('HSET', KEYS[9], 'idle_since', ARGV[4])
redis.call('HSET', KEYS[1], 'agent_id', ARGV[3])
append(KEYS[2], KEYS[1], KEYS[7], 'assigned', ARGV[5], ARGV[4], KEYS[8], ARGV[1], ARGV[6])
return 'ok'
