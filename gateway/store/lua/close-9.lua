-- Close a conversation (by its agent, or by a bot flow with agent id '').
-- KEYS: conv, timeline, queue, agent_convs, agent, conv channel, closed index, event log, help requests
-- ARGV: conv id, agent id, now, data, disposition (kept on the conversation for its summary), event log max entries
-- The event's data gets ``voice`` (the conversation had a call) and ``queued_wait_ms`` (it was still waiting: up to
-- the data's ``left_at`` (ms) when given, when its customer left the page, not to when the gateway noticed; taken out).
-- Returns 'ok', 'not_found', 'closed' or 'not_assigned'.
--@include append
--@include help_over
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state == 'closed' then return 'closed' end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[2] then return 'not_assigned' end
redis.call('ZREM', KEYS[3], ARGV[1])
help_over(KEYS[1], KEYS[9], ARGV[1])
if ARGV[2] ~= '' then  -- '' : closed by a bot flow, no agent involved
  redis.call('SREM', KEYS[4], ARGV[1])
  redis.call('HSET', KEYS[5], 'idle_since', ARGV[3])
end
-- for reports: whether it had a call, and how long it had waited if it was still in the queue (abandoned)
local data = cjson.decode(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'calls', 'queued_at')
data.voice = (tonumber(f[1]) or 0) > 0
local waited_until = math.min(tonumber(ARGV[3]), tonumber(data.left_at) or tonumber(ARGV[3]))
data.left_at = nil
if state == 'queued' and tonumber(f[2]) then data.queued_wait_ms = math.max(0, waited_until - tonumber(f[2])) end
redis.call('HSET', KEYS[1], 'state', 'closed', 'disposition', ARGV[5] or '')
redis.call('ZADD', KEYS[7], ARGV[3], ARGV[1])
append(KEYS[2], KEYS[1], KEYS[6], 'closed', cjson.encode(data), ARGV[3], KEYS[8], ARGV[1], ARGV[6])
return 'ok'
