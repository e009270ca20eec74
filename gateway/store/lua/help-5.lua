-- An agent asks a supervisor for help with a chat of theirs, or the request ends (they cancel it, a supervisor
-- answers it).
-- KEYS: conv, timeline, conv channel, event log, help requests (zset: conversation id -> since ms)
-- ARGV: agent id (who asks, or whose request ends), '1' ask / '0' end, event data (JSON), now, conv id, event log
--       max entries, the request's words (ask), max timeline events (0: no cap)
-- The conversation's ``help_agent`` is who asked (``help_text`` their words); the request is open while the zset
-- holds the conversation too.
-- Returns status: 'ok' (``help_requested`` / ``help_ended`` appended; none after a close), 'not_found',
-- 'not_assigned' (ask: the chat is not theirs), 'already' (ask: theirs is open), 'none' (end: none of theirs open),
-- 'timeline_full' (ask: nothing changes; an end clears the request without its event).
-- A close, a transfer or a requeue ends the request too (includes/help_over.lua).
--@include append
local c = redis.call('HMGET', KEYS[1], 'state', 'agent_id', 'help_agent')
if not c[1] then return 'not_found' end
local open = redis.call('ZSCORE', KEYS[5], ARGV[5]) and c[3] == ARGV[1]
local full = tonumber(ARGV[8]) > 0 and redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[8])
if ARGV[2] == '1' then
  if c[1] ~= 'assigned' or c[2] ~= ARGV[1] then return 'not_assigned' end
  if open then return 'already' end
  if full then return 'timeline_full' end
  redis.call('HSET', KEYS[1], 'help_agent', ARGV[1], 'help_text', ARGV[7])
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5])
  append(KEYS[2], KEYS[1], KEYS[3], 'help_requested', ARGV[3], ARGV[4], KEYS[4], ARGV[5], ARGV[6])
  return 'ok'
end
if not open then return 'none' end
redis.call('ZREM', KEYS[5], ARGV[5])
redis.call('HDEL', KEYS[1], 'help_agent', 'help_text')
if c[1] ~= 'closed' and not full then
  append(KEYS[2], KEYS[1], KEYS[3], 'help_ended', ARGV[3], ARGV[4], KEYS[4], ARGV[5], ARGV[6])
end
return 'ok'
