-- The attempt counted by login_attempt was not a failure: give it back; remember the address as the agent's.
-- KEYS: pair bucket, address bucket, agent bucket, agent's known addresses
-- ARGV: now ms, address, known-address lifetime ms, known addresses kept, free of the address and agent buckets
redis.call('DEL', KEYS[1])
for i = 2, 3 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local n = redis.call('HINCRBY', KEYS[i], 'n', -1)
    if n <= 0 then redis.call('DEL', KEYS[i])
    elseif n < tonumber(ARGV[3 + i]) then redis.call('HDEL', KEYS[i], 'until') end
  end
end
redis.call('ZADD', KEYS[4], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -1 - tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[4], ARGV[3])
return 1
