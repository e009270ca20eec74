-- Append one event to a conversation's timeline, at most once per client id.
-- KEYS: conv, timeline, client_ids, conv channel
-- ARGV: client_id, type, data, now, required_agent, conv id, max timeline events (0: no cap)
-- Returns {"conv/event" id, status}: status 'ok', 'duplicate' (stored before under that client id),
-- 'not_found', 'not_assigned', 'closed' or 'timeline_full'.
--@include append
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'', 'not_found'} end
if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[5] then return {'', 'not_assigned'} end
if ARGV[1] ~= '' then
  local existing = redis.call('HGET', KEYS[3], ARGV[1])
  if existing then return {existing, 'duplicate'} end
end
if ARGV[2] == 'message' and state == 'closed' then return {'', 'closed'} end
if tonumber(ARGV[7]) > 0 and redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[7]) then return {'', 'timeline_full'} end
local id = append(KEYS[2], KEYS[1], KEYS[4], ARGV[2], ARGV[3], ARGV[4])
if ARGV[1] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[6] .. '/' .. id) end
return {ARGV[6] .. '/' .. id, 'ok'}
