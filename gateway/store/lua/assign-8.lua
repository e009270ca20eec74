-- Assign a conversation only if it still waits and the agent is available, online and has room.
-- KEYS: conv, timeline, queue, agent, agent_convs, agent_sessions, conv channel, event log
-- ARGV: conv id, agent id, now, data, event log max entries
-- The event's data gets ``wait_ms`` (since it was queued) and ``voice`` (the conversation has a call).
-- Returns 'ok', 'not_queued', 'agent_unavailable', 'agent_offline', 'agent_full' or 'agent_on_call' (a call, for an
-- agent rung or on a call).
--@include assign_one
return assign_one(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8],
                  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
