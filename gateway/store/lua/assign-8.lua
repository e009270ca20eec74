-- Assign a conversation only if it still waits and the agent is available, online and has room.
-- KEYS: conv, timeline, queue, agent, agent_convs, agent_sessions, conv channel, event log
-- ARGV: conv id, agent id, now, data, event log max entries
-- The event's data gets ``wait_ms`` (since it was queued) and ``voice`` (the conversation has a call).
-- Returns 'ok', 'not_queued', 'agent_unavailable', 'agent_offline' or 'agent_full'.
--@include append
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 'not_queued' end
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 'not_queued' end
if redis.call('HGET', KEYS[4], 'status') ~= 'available' then return 'agent_unavailable' end
if redis.call('ZCOUNT', KEYS[6], ARGV[3], '+inf') == 0 then return 'agent_offline' end
local capacity = tonumber(redis.call('HGET', KEYS[4], 'capacity') or '0')
if redis.call('SCARD', KEYS[5]) >= capacity then return 'agent_full' end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('HSET', KEYS[4], 'idle_since', ARGV[3])
-- for reports: how long it waited, and whether it is a call (a call is handled when answered, not assigned)
local data = cjson.decode(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'queued_at', 'calls')
data.wait_ms = math.max(0, tonumber(ARGV[3]) - (tonumber(f[1]) or tonumber(ARGV[3])))
data.voice = (tonumber(f[2]) or 0) > 0
redis.call('HSET', KEYS[1], 'state', 'assigned', 'agent_id', ARGV[2], 'queued_at', '')
append(KEYS[2], KEYS[1], KEYS[7], 'assigned', cjson.encode(data), ARGV[3], KEYS[8], ARGV[1], ARGV[5])
return 'ok'
