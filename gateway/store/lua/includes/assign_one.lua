--@include append
-- Assign a conversation only if it still waits and the agent is available, online and has room (assign-8.lua,
-- and each pair of assign_many-8.lua). conv, tl, queue, agent, convs, sessions, chan, log: the keys the calling
-- script was given in KEYS; cid, aid, now, data (JSON), log_max: its arguments.
-- The event's data gets ``wait_ms`` (since it was queued) and ``voice`` (a call is in progress in the conversation:
-- a caller waits; one whose calls have all ended waits as a chat).
-- A conversation with a call in progress never goes to an agent being rung or on a call (routing plans so; two
-- nodes routing at once may not: one rang the agent for another call meanwhile).
-- Returns 'ok', 'not_queued', 'agent_unavailable', 'agent_offline', 'agent_full' or 'agent_on_call'.
-- An agent given a conversation with a call in progress is held for it (``call_held_at``) until her desk rings
-- (any activity set clears the hold, gateway/contact/presence.py) or CALL_HOLD_MS have passed (the ringing node
-- lost before it rang): between this assignment and the ring another node could give her a second call.
-- The same figure is gateway/contact/routing.py's CALL_HOLD_MS (a unit test compares them).
local CALL_HOLD_MS = 10000

local function assign_one(conv, tl, queue, agent, convs, sessions, chan, log, cid, aid, now, data, log_max)
  if redis.call('HGET', conv, 'state') ~= 'queued' then return 'not_queued' end
  if not redis.call('ZSCORE', queue, cid) then return 'not_queued' end
  if redis.call('HGET', agent, 'status') ~= 'available' then return 'agent_unavailable' end
  if redis.call('ZCOUNT', sessions, now, '+inf') == 0 then return 'agent_offline' end
  local capacity = tonumber(redis.call('HGET', agent, 'capacity') or '0')
  if redis.call('SCARD', convs) >= capacity then return 'agent_full' end
  local calls = redis.call('HMGET', conv, 'calls', 'calls_ended')
  local on_a_call = (tonumber(calls[1]) or 0) > (tonumber(calls[2]) or 0)
  if on_a_call then
    local a = redis.call('HMGET', agent, 'activity', 'call_held_at')
    if a[1] == 'ringing' or a[1] == 'on_call' then return 'agent_on_call' end
    local held = tonumber(a[2])
    if held and tonumber(now) - held < CALL_HOLD_MS then return 'agent_on_call' end
  end
  redis.call('ZREM', queue, cid)
  redis.call('SADD', convs, cid)
  redis.call('HSET', agent, 'idle_since', now)
  if on_a_call then redis.call('HSET', agent, 'call_held_at', now) end
  -- for reports: how long it waited, and whether it is a call (a call is handled when answered, not assigned)
  local event = cjson.decode(data)
  local queued_at = redis.call('HGET', conv, 'queued_at')
  event.wait_ms = math.max(0, tonumber(now) - (tonumber(queued_at) or tonumber(now)))
  event.voice = on_a_call
  redis.call('HSET', conv, 'state', 'assigned', 'agent_id', aid, 'queued_at', '')
  append(tl, conv, chan, 'assigned', cjson.encode(event), now, log, cid, log_max)
  return 'ok'
end
