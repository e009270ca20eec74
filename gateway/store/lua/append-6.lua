-- Append one event to a conversation's timeline, at most once per client id; index its words.
-- KEYS: conv, timeline, client_ids, conv channel, event log, conv words (set) [, then one word index (zset) per
--       word]
-- ARGV: client_id, type, data, now, required_agent, conv id, max timeline events (0: no cap), max indexed words of
--       the conversation, event log max entries, required field (the conversation's field that must hold
--       required_agent: 'agent_id', its agent; or 'supervisors', the supervisors who joined its chat, each id
--       between spaces: join_chat-4.lua), then the words (one per word index key, in the same order)
-- Returns {"conv/event" id, status}: status 'ok', 'duplicate' (stored before under that client id),
-- 'not_found', 'not_assigned' (the required field does not hold required_agent), 'no_agent' (a supervisor in the
-- chat, but no agent has it now: they write to a customer only beside an agent), 'closed' or 'timeline_full'.
-- The conversation's summary counters follow the events: ``messages`` (message events), ``attachments``
-- (attachment events: their limit per conversation, gateway/contact/attachments.py); ``calls`` and ``calls_ended``
-- are counted by every script that appends (includes/append.lua).
-- A word goes into its index (scored by the conversation's creation, for search paging) unless the conversation
-- already holds the maximum of distinct words (gateway/store/words.py).
--@include append
--@include index_words
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'', 'not_found'} end
if ARGV[5] ~= '' then
  local holder = redis.call('HGET', KEYS[1], ARGV[10]) or ''
  if ARGV[10] == 'supervisors' then
    if not string.find(holder, ' ' .. ARGV[5] .. ' ', 1, true) then return {'', 'not_assigned'} end
    if state ~= 'assigned' and state ~= 'closed' then return {'', 'no_agent'} end
  elseif holder ~= ARGV[5] then
    return {'', 'not_assigned'}
  end
end
if ARGV[1] ~= '' then
  local existing = redis.call('HGET', KEYS[3], ARGV[1])
  if existing then return {existing, 'duplicate'} end
end
if (ARGV[2] == 'message' or ARGV[2] == 'attachment') and state == 'closed' then return {'', 'closed'} end
if tonumber(ARGV[7]) > 0 and redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[7]) then
  if ARGV[2] == 'call_ended' then call_over(KEYS[1]) end  -- not stored, but the call is over (includes/append.lua)
  return {'', 'timeline_full'}
end
local id = append(KEYS[2], KEYS[1], KEYS[4], ARGV[2], ARGV[3], ARGV[4], KEYS[5], ARGV[6], ARGV[9])
if ARGV[1] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[6] .. '/' .. id) end
if ARGV[2] == 'message' then redis.call('HINCRBY', KEYS[1], 'messages', 1) end
if ARGV[2] == 'attachment' then redis.call('HINCRBY', KEYS[1], 'attachments', 1) end
if #KEYS > 6 then index_words(KEYS[1], KEYS[6], 7, 11, ARGV[8], ARGV[6], ARGV[4]) end
return {ARGV[6] .. '/' .. id, 'ok'}
