-- A call ends, once: its registry entry and index entries go and ``call_ended`` is appended to the timeline in
-- the same step. Whoever ends it (its node, or the node that took the dead one over) runs this; the second
-- finds nothing and writes nothing, so a call's end is recorded exactly once.
-- KEYS: call, node_calls, customer_calls, conv, timeline, conv channel, event log, then the agent_calls sets of its
--       agents
-- ARGV: node id (that holds the call), call id, data (JSON), now, max timeline events (0: no cap),
--       the call's agent id and consultant's agent id as the caller read them, conv id, event log max entries
-- Returns 'ok' (recorded), 'not_recorded' (ended, but the conversation is gone or its timeline full), 'gone'
-- (not this node's call: ended already) or 'moved' (its agents changed since the caller read them: read again).
--@include append
local f = redis.call('HMGET', KEYS[1], 'node', 'agent_id', 'consult_agent_id')
if f[1] ~= ARGV[1] then return 'gone' end
if (f[2] or '') ~= ARGV[6] or (f[3] or '') ~= ARGV[7] then return 'moved' end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[3], ARGV[2])
for i = 8, #KEYS do redis.call('SREM', KEYS[i], ARGV[2]) end
if not redis.call('HGET', KEYS[4], 'state') then return 'not_recorded' end
if tonumber(ARGV[5]) > 0 and redis.call('XLEN', KEYS[5]) >= tonumber(ARGV[5]) then
  call_over(KEYS[4])  -- not on the full timeline, but over: the conversation no longer waits as a call
  return 'not_recorded'
end
append(KEYS[5], KEYS[4], KEYS[6], 'call_ended', ARGV[3], ARGV[4], KEYS[7], ARGV[8], ARGV[9])
return 'ok'
