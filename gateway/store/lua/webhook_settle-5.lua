-- Record how the delivery of an outbox's head went, and what the outbox does next (gateway/ops/webhook_delivery.py).
-- KEYS: due outboxes (zset), leases (hash), attempts (hash), the outbox (list), the subscription's delivery log (list)
-- ARGV: outbox member, lease token, outcome, the head's event log id, now (ms), retry at (ms), attempts record
--       ('EVENT_LOG_ID N FIRST_FAILED_MS'), delivery log entry (JSON, '' none), delivery log cap
-- Outcomes: 'delivered' / 'gave_up': the head leaves the outbox; 'retry': it stays, due again at 'retry at';
-- 'release': it stays, due now (the node stops); 'drop': the whole outbox goes (subscription deleted or disabled).
-- The log entry is written whatever the lease; the rest only under the caller's lease: returns the outcome, or
-- 'stale' when the lease is no longer the caller's (it ran out and another node holds the outbox now).
local due, leases, attempts, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local member = ARGV[1]
if ARGV[8] ~= '' then
  redis.call('LPUSH', KEYS[5], ARGV[8])
  redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[9]) - 1)
end
if redis.call('HGET', leases, member) ~= ARGV[2] then return 'stale' end
redis.call('HDEL', leases, member)
local outcome = ARGV[3]
if outcome == 'retry' then
  redis.call('HSET', attempts, member, ARGV[7])
  redis.call('ZADD', due, ARGV[6], member)
  return outcome
end
if outcome == 'release' then
  redis.call('ZADD', due, ARGV[5], member)
  return outcome
end
if outcome == 'drop' then
  redis.call('DEL', outbox)
else
  local head = redis.call('LINDEX', outbox, 0)
  if head and cjson.decode(head)['id'] == ARGV[4] then redis.call('LPOP', outbox) end
end
redis.call('HDEL', attempts, member)
if redis.call('LLEN', outbox) == 0 then
  redis.call('ZREM', due, member)
else
  redis.call('ZADD', due, ARGV[5], member)
end
return outcome
