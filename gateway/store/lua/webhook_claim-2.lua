-- Lease the event webhook outboxes whose head is due (gateway/ops/webhook_delivery.py): each one's score moves to the
-- lease's end (if the node dies, it falls due again then) and its lease token is recorded.
-- KEYS: due outboxes (zset), leases (hash)
-- ARGV: now (ms), the lease's end (ms), how many at most, lease token
-- Returns the leased outbox members ('SUBSCRIPTION CONVERSATION').
local found = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(found) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
  redis.call('HSET', KEYS[2], member, ARGV[4])
end
return found
