-- Take a concurrent-call slot for a customer and their address (gateway/contact/limits.py).
-- KEYS: customer calls zset, address calls zset   ARGV: now ms, expires ms, member, customer limit, address limit
-- Returns 'ok', 'customer' or 'address' (which limit refused it), or 'duplicate' (that call holds a slot already).
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 'duplicate' end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'customer' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 'address' end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  redis.call('PEXPIREAT', KEYS[i], ARGV[2])
end
return 'ok'
