-- Book a callback on a conversation that is not closed and has no open callback (gateway/contact/callbacks.py).
-- KEYS: conv, timeline, cb, due, open, conv channel, the conversation's current callback as the caller read it
--       (the new one when there is none), event log
-- ARGV: id, now, due ms, expires ms, fields json, event json, the current callback id the caller read ('' none),
--       conv id, event log max entries
-- Returns 'ok', 'not_found', 'closed', 'exists:<open callback id>', or 'moved' when the conversation's callback
-- is no longer the one the caller read (read it again).
--@include append
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state == 'closed' then return 'closed' end
local existing = redis.call('HGET', KEYS[1], 'callback_id')
if (existing or '') ~= ARGV[7] then return 'moved' end
if existing and existing ~= '' then
  local other = redis.call('HGET', KEYS[7], 'state')
  if other and other ~= 'closed' then return 'exists:' .. existing end
end
for k, v in pairs(cjson.decode(ARGV[5])) do redis.call('HSET', KEYS[3], k, v) end
redis.call('HSET', KEYS[3], 'state', 'scheduled', 'attempts', 0)
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[1], 'callback_id', ARGV[1])
append(KEYS[2], KEYS[1], KEYS[6], 'callback', ARGV[6], ARGV[2], KEYS[8], ARGV[8], ARGV[9])
return 'ok'
