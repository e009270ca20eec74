-- A customer's message into their current conversation in one step (the common case: it is open and theirs):
-- what open_conversation then append do for it, without opening anything.
-- KEYS: customer, conv, timeline, the customer's client ids, conv channel, event log, conv words [, the 2 message
--       token buckets (customer, address) when ARGV[9] is '1'] [, then one word index (zset) per word]
-- ARGV: client_id, type, data, now, conv id (the customer's current one as the caller knows it), max timeline
--       events (0: no cap), max indexed words of the conversation, event log max entries, '1' to take a message
--       token ('0' not) [, the 2 buckets' (capacity, ms per token)], then the words (one per word index key)
-- Returns {"conv/event" id, 'ok', state} (state: the conversation's before the event); {"conv/event", 'duplicate'}
-- (stored before under that client id); {'', 'moved'} (the customer's current conversation is another one),
-- {'', 'closed'} (it is closed or gone: the caller opens one the usual way); {'', 'limited', wait ms, bucket};
-- {'', 'timeline_full'}.
--@include append
--@include index_words
--@include take_tokens
if (redis.call('HGET', KEYS[1], 'current') or '') ~= ARGV[5] then return {'', 'moved'} end
local existing = redis.call('HGET', KEYS[4], ARGV[1])
if existing then return {existing, 'duplicate'} end
local state = redis.call('HGET', KEYS[2], 'state')
if not state or state == 'closed' then return {'', 'closed'} end
local kw, aw = 8, 10
if ARGV[9] == '1' then
  local wait, which = take_tokens(8, 10, tonumber(ARGV[4]), true, false)
  if wait > 0 then return {'', 'limited', wait, which} end
  kw, aw = 10, 14
end
if tonumber(ARGV[6]) > 0 and redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[6]) then return {'', 'timeline_full'} end
local id = append(KEYS[3], KEYS[2], KEYS[5], ARGV[2], ARGV[3], ARGV[4], KEYS[6], ARGV[5], ARGV[8])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5] .. '/' .. id)
if ARGV[2] == 'message' then redis.call('HINCRBY', KEYS[2], 'messages', 1) end
if #KEYS >= kw then index_words(KEYS[2], KEYS[7], kw, aw, ARGV[7], ARGV[5], ARGV[4]) end
return {ARGV[5] .. '/' .. id, 'ok', state}
