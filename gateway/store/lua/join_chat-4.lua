-- A supervisor joins an agent's chat (the customer sees them and what they write) or leaves it.
-- KEYS: conv, timeline, conv channel, event log
-- ARGV: supervisor id, event data (JSON: agent_id, agent_name), '1' join / '0' leave, now, conv id, event log max
--       entries, max timeline events (0: no cap)
-- The conversation's ``supervisors`` holds who joined, each id between spaces (" sara ben "): append-6.lua stores
-- a message of theirs only while they are in it. Several supervisors may join at once.
-- Returns {event id or '', status}: 'ok' (``supervisor_joined`` / ``supervisor_left`` appended), 'not_found',
-- 'closed' (join: nothing changes; leave: they are let go, nothing appended after the close), 'not_assigned'
-- (join: no agent has the chat), 'own' (join: the chat is theirs, as its agent), 'already' (join: they are in it),
-- 'not_joined' (leave: they were not), 'timeline_full' (join: nothing changes; leave: they are let go, no event).
-- The timeline's cap (append-6.lua) holds: joining and leaving cannot fill it.
--@include append
local c = redis.call('HMGET', KEYS[1], 'state', 'supervisors', 'agent_id')
if not c[1] then return {'', 'not_found'} end
local joined = c[2] or ''
local me = ' ' .. ARGV[1] .. ' '
local at = string.find(joined, me, 1, true)
local full = tonumber(ARGV[7]) > 0 and redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[7])
if ARGV[3] == '1' then
  if c[1] == 'closed' then return {'', 'closed'} end
  if at then return {'', 'already'} end
  if c[1] ~= 'assigned' then return {'', 'not_assigned'} end
  if c[3] == ARGV[1] then return {'', 'own'} end
  if full then return {'', 'timeline_full'} end
  if joined == '' then joined = ' ' end
  redis.call('HSET', KEYS[1], 'supervisors', joined .. ARGV[1] .. ' ')
  return {append(KEYS[2], KEYS[1], KEYS[3], 'supervisor_joined', ARGV[2], ARGV[4], KEYS[4], ARGV[5], ARGV[6]), 'ok'}
end
if not at then return {'', 'not_joined'} end
local rest = string.sub(joined, 1, at) .. string.sub(joined, at + #me)
if rest == ' ' then redis.call('HDEL', KEYS[1], 'supervisors') else redis.call('HSET', KEYS[1], 'supervisors', rest) end
if c[1] == 'closed' then return {'', 'closed'} end
if full then return {'', 'timeline_full'} end
return {append(KEYS[2], KEYS[1], KEYS[3], 'supervisor_left', ARGV[2], ARGV[4], KEYS[4], ARGV[5], ARGV[6]), 'ok'}
