-- Open a conversation for a customer unless one is open already.
-- KEYS: customer, conv(new), ctx(new), timeline(new), queue, conv channel(new), conv(the customer's current one,
--       as the caller read it; conv(new) when there is none), the customer's conversations (zset), every
--       conversation (zset), event log [, the 4 token buckets]
-- ARGV: new id, customer id, queue, now, opened data, state data, context json, the current conversation id the
--       caller read ('' none), initial state ('queued' or 'open'), event log max entries [, '1' to take message
--       tokens, the buckets' 8 rates]
-- Returns the current conversation id and 1 if it was created now; {'', -1, wait ms, bucket} if over a limit
-- (with buckets: a message token, and conversation tokens when it opens one, are taken in the same step);
-- {'', -2} if the customer's current conversation is no longer the one the caller read (read it again).
--@include append
--@include take_tokens
local current = redis.call('HGET', KEYS[1], 'current')
if (current or '') ~= ARGV[8] then return {'', -2} end
local opens = true
local state = false
if current then
  state = redis.call('HGET', KEYS[7], 'state')
  if state and state ~= 'closed' then opens = false end
end
if #KEYS >= 14 then
  local wait, which = take_tokens(11, 12, tonumber(ARGV[4]), ARGV[11] == '1', opens)
  if wait > 0 then return {'', -1, wait, which} end
end
if not opens then return {current, 0, state} end
local queued = ARGV[9] == 'queued'
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'customer_id', ARGV[2], 'state', ARGV[9], 'queue', ARGV[3],
           'agent_id', '', 'created_at', ARGV[4], 'updated_at', ARGV[4], 'queued_at', queued and ARGV[4] or '', 'offer', '0',
           'preferred_agent', redis.call('HGET', KEYS[1], 'last_agent') or '')
local ctx = cjson.decode(ARGV[7])
for k, v in pairs(ctx) do redis.call('HSET', KEYS[3], k, v) end
redis.call('HSET', KEYS[1], 'current', ARGV[1])
append(KEYS[4], KEYS[2], KEYS[6], 'opened', ARGV[5], ARGV[4], KEYS[10], ARGV[1], ARGV[10])
append(KEYS[4], KEYS[2], KEYS[6], 'state', ARGV[6], ARGV[4], KEYS[10], ARGV[1], ARGV[10])
if queued then redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1]) end
redis.call('ZADD', KEYS[8], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[9], ARGV[4], ARGV[1])
return {ARGV[1], 1, ARGV[9]}
