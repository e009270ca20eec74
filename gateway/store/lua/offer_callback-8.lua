-- The conversation of a queued callback is with an agent now: one delivery attempt starts (the widget rings).
-- KEYS: cb, ringing, queued set, conv, timeline, conv channel, agent (of the conversation's agent), event log
-- ARGV: id, now, ring ms, the callback's conversation id and that conversation's agent id as the caller read them,
--       event log max entries
-- Returns 'ok', 'not_queued', 'not_assigned', or 'moved' when the conversation or its agent is not the one the
-- caller read.
--@include append
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 'not_queued' end
if (redis.call('HGET', KEYS[1], 'conversation_id') or '') ~= ARGV[4] then return 'moved' end
local conv = KEYS[4]
if redis.call('HGET', conv, 'state') ~= 'assigned' then return 'not_assigned' end
local agent = redis.call('HGET', conv, 'agent_id')
if agent ~= ARGV[5] then return 'moved' end
local name = redis.call('HGET', KEYS[7], 'name') or agent
local f = redis.call('HMGET', KEYS[1], 'attempts', 'max_attempts', 'phone', 'label')
local attempt = tonumber(f[1]) + 1
local ring_until = tonumber(ARGV[2]) + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'ringing', 'attempts', attempt, 'agent_id', agent, 'ring_until', ring_until)
redis.call('ZADD', KEYS[2], ring_until, ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
append(KEYS[5], conv, KEYS[6], 'callback', cjson.encode({callback_id = ARGV[1], action = 'attempt',
  state = 'ringing', attempt = attempt, max_attempts = tonumber(f[2]), agent_id = agent, agent_name = name,
  ring_until = ring_until, phone = f[3], label = f[4]}), ARGV[2], KEYS[8], ARGV[4], ARGV[6])
return 'ok'
