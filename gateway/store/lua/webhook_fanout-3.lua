-- Copy a batch of event log entries into the event webhooks' outboxes and acknowledge them, in one step
-- (gateway/ops/webhook_delivery.py). Only the holder of the fan-out lock copies, and only a batch that holds every
-- entry of the group still pending up to its newest one: so entries reach the outboxes in the log's order.
-- KEYS: the fan-out lock, the event log, due outboxes (zset), then one outbox per delivery (in ARGV's order)
-- ARGV: lock token, consumer group, now (ms), lock ms, n, the batch's n event log ids (ascending), then per
--       delivery: its outbox member ('SUBSCRIPTION CONVERSATION') and its payload (JSON)
-- Returns 'ok'; 'lost' when the lock is not the caller's, 'gap' when the group's pending entries up to the batch's
-- newest are not exactly the batch (claim them first); nothing is done then.
local lock, log, due = KEYS[1], KEYS[2], KEYS[3]
if redis.call('GET', lock) ~= ARGV[1] then return 'lost' end
local n = tonumber(ARGV[5])
if n > 0 then
  local pending = redis.call('XPENDING', log, ARGV[2], '-', ARGV[5 + n], n + 1)
  if #pending ~= n then return 'gap' end
  for i = 1, n do
    if pending[i][1] ~= ARGV[5 + i] then return 'gap' end
  end
  local first = 6 + n
  local i = 0
  while first + 2 * i + 1 <= #ARGV do
    redis.call('RPUSH', KEYS[4 + i], ARGV[first + 2 * i + 1])
    redis.call('ZADD', due, 'NX', ARGV[3], ARGV[first + 2 * i])
    i = i + 1
  end
  redis.call('XACK', log, ARGV[2], unpack(ARGV, 6, 5 + n))
end
redis.call('PEXPIRE', lock, ARGV[4])
return 'ok'
