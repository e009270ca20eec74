-- Move one due callback into the routing queue (its conversation, at the callback's place).
-- KEYS: cb, due, open, routing queue, queued set, conv, timeline, conv channel (of the callback's conversation),
--       event log
-- ARGV: id, now, the callback's conversation id as the caller read it, event log max entries
-- Returns 'queued', 'closed', 'not_due', 'not_scheduled', or 'moved' when the callback's conversation is not the
-- one the caller read.
--@include append
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 'not_due' end
local cid = redis.call('HGET', KEYS[1], 'conversation_id')
if (cid or '') ~= ARGV[3] then return 'moved' end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], 'state') ~= 'scheduled' then return 'not_scheduled' end
local conv, tl, chan, elog = KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local cstate = redis.call('HGET', conv, 'state')
if (not cstate) or cstate == 'closed' then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'outcome', 'conversation_closed', 'closed_ms', ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
  if cstate then
    redis.call('HDEL', conv, 'callback_id')
    append(tl, conv, chan, 'callback', cjson.encode({callback_id = ARGV[1], action = 'closed', state = 'closed',
      outcome = 'conversation_closed'}), ARGV[2], elog, cid, ARGV[4])
  end
  return 'closed'
end
-- 'routed': this callback put the conversation in the queue (it was open), so ending the callback takes it out
-- again; a conversation already waiting or with an agent (a chat) stays where it is whatever the callback does
redis.call('HSET', KEYS[1], 'routed', cstate == 'open' and '1' or '0')
if cstate == 'open' then
  local f = redis.call('HMGET', KEYS[1], 'place_ms', 'queue', 'skills', 'priority')
  redis.call('HSET', conv, 'state', 'queued', 'queue', f[2], 'queued_at', f[1], 'skills', f[3] or '',
             'priority', f[4] or '0')
  redis.call('ZADD', KEYS[4], f[1], cid)
  append(tl, conv, chan, 'state', cjson.encode({state = 'queued', queue = f[2], reason = 'callback'}), ARGV[2],
    elog, cid, ARGV[4])
end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('SADD', KEYS[5], ARGV[1])
append(tl, conv, chan, 'callback', cjson.encode({callback_id = ARGV[1], action = 'queued', state = 'queued',
  attempt = tonumber(redis.call('HGET', KEYS[1], 'attempts')) + 1}), ARGV[2], elog, cid, ARGV[4])
return 'queued'
