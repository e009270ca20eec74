-- End an attempt or the callback. mode 'keep': close, the conversation stays where it is (reached, wrong number);
-- 'retry': no answer: schedule the next attempt (the conversation leaves its agent) or close as unreachable once
-- the attempts are used up (the conversation stays with the agent to wrap up); 'cancel': close and take the
-- conversation out of the queue / away from its agent. Only a conversation the callback itself routed is taken
-- back (see 'routed' in claim_callback): a chat that was waiting or with an agent before stays there.
-- KEYS: cb, due, open, ringing, routing queue, queued set, conv, timeline, conv channel (of the callback's
--       conversation), agent_convs (of that conversation's agent), event log
-- ARGV: id, now, outcome, mode, required agent ('' any), allowed states (comma list, '' any), the callback's
--       conversation id and that conversation's agent id as the caller read them, event log max entries
-- Returns {result, released agent id}: result 'retry', 'closed_now', or why nothing changed ('moved': the
-- conversation or its agent is not the one the caller read).
--@include append
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'not_found', ''} end
if state == 'closed' then return {'closed', ''} end
if ARGV[6] ~= '' and not string.find(',' .. ARGV[6] .. ',', ',' .. state .. ',', 1, true) then
  return {'state_' .. state, ''}
end
if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[5] then return {'not_yours', ''} end
local cid = redis.call('HGET', KEYS[1], 'conversation_id')
if (cid or '') ~= ARGV[7] then return {'moved', ''} end
local conv, tl, chan, elog = KEYS[7], KEYS[8], KEYS[9], KEYS[11]
local f = redis.call('HMGET', KEYS[1], 'attempts', 'max_attempts', 'retry_ms')
local attempts, max_attempts = tonumber(f[1]), tonumber(f[2])
local retry = ARGV[4] == 'retry' and attempts < max_attempts
local released = ''
if (retry or ARGV[4] == 'cancel') and redis.call('HGET', KEYS[1], 'routed') == '1' then
  local cstate = redis.call('HGET', conv, 'state')
  if cstate == 'queued' then
    redis.call('ZREM', KEYS[5], cid)
    redis.call('HSET', conv, 'state', 'open', 'queued_at', '')
    append(tl, conv, chan, 'state', cjson.encode({state = 'open', reason = 'callback_' .. ARGV[3]}), ARGV[2],
      elog, cid, ARGV[9])
  elseif cstate == 'assigned' and state ~= 'scheduled' then
    released = redis.call('HGET', conv, 'agent_id')
    if released ~= ARGV[8] then return {'moved', ''} end
    redis.call('SREM', KEYS[10], cid)
    redis.call('HSET', conv, 'state', 'open', 'agent_id', '')
    append(tl, conv, chan, 'state', cjson.encode({state = 'open', reason = 'callback_' .. ARGV[3],
      agent_id = released}), ARGV[2], elog, cid, ARGV[9])
  end
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
if retry then
  local due = tonumber(ARGV[2]) + tonumber(f[3])
  redis.call('HSET', KEYS[1], 'state', 'scheduled', 'due_ms', due, 'agent_id', '')
  redis.call('ZADD', KEYS[2], due, ARGV[1])
  append(tl, conv, chan, 'callback', cjson.encode({callback_id = ARGV[1], action = 'outcome', state = 'scheduled',
    outcome = ARGV[3], attempt = attempts, max_attempts = max_attempts, next_attempt_ms = due}), ARGV[2],
    elog, cid, ARGV[9])
  return {'retry', released}
end
local outcome = ARGV[3]
if ARGV[4] == 'retry' then outcome = 'unreachable' end
redis.call('HSET', KEYS[1], 'state', 'closed', 'outcome', outcome, 'closed_ms', ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', conv, 'callback_id')
append(tl, conv, chan, 'callback', cjson.encode({callback_id = ARGV[1], action = 'closed', state = 'closed',
  outcome = outcome, last = ARGV[3], attempt = attempts, max_attempts = max_attempts}), ARGV[2], elog, cid, ARGV[9])
return {'closed_now', released}
