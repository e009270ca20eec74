-- Copy a batch of event log entries into the event webhooks' outboxes and acknowledge them, in one step
-- (gateway/ops/webhook_delivery.py). Only the holder of the fan-out lock copies, and only a batch that holds every
-- entry of the group still pending up to its newest one: so entries reach the outboxes in the log's order.
-- An outbox keeps at most 'outbox max' payloads: beyond, its oldest ones go (counted in the reply; the one in flight,
-- if it goes, is still settled correctly: the settle script pops a head only if it is the one it delivered).
-- A delivery of a conversation an admin erased (listed in 'erased') is not copied: its outbox was dropped or is about
-- to be (gateway/ops/erasure.py).
-- KEYS: the fan-out lock, the event log, due outboxes (zset), erased conversations (zset), then one outbox per
--       delivery (in ARGV's order)
-- ARGV: lock token, consumer group, now (ms), lock ms, outbox max, n, the batch's n event log ids (ascending), then
--       per delivery: its outbox member ('SUBSCRIPTION CONVERSATION') and its payload (JSON)
-- Returns {status, payloads dropped}: status 'ok'; 'lost' when the lock is not the caller's, 'gap' when the group's
-- pending entries up to the batch's newest are not exactly the batch, or, for an empty batch, when any entry is
-- pending (a node that lost the lock read it: claim them first, or they would wait for the next event); nothing is
-- done then.
local lock, log, due, erased = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('GET', lock) ~= ARGV[1] then return {'lost', 0} end
local cap = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
local dropped = 0
if n > 0 then
  local pending = redis.call('XPENDING', log, ARGV[2], '-', ARGV[6 + n], n + 1)
  if #pending ~= n then return {'gap', 0} end
  for i = 1, n do
    if pending[i][1] ~= ARGV[6 + i] then return {'gap', 0} end
  end
  local first = 7 + n
  local i = 0
  while first + 2 * i + 1 <= #ARGV do
    local outbox = KEYS[5 + i]
    local member = ARGV[first + 2 * i]
    local cid = string.match(member, ' (.*)$') or ''
    if not redis.call('ZSCORE', erased, cid) then
      if redis.call('RPUSH', outbox, ARGV[first + 2 * i + 1]) > cap then
        redis.call('LPOP', outbox)
        dropped = dropped + 1
      end
      redis.call('ZADD', due, 'NX', ARGV[3], member)
    end
    i = i + 1
  end
  redis.call('XACK', log, ARGV[2], unpack(ARGV, 7, 6 + n))
elseif tonumber(redis.call('XPENDING', log, ARGV[2])[1]) > 0 then
  return {'gap', 0}
end
redis.call('PEXPIRE', lock, ARGV[4])
return {'ok', dropped}
