-- These customers have a widget open (or closed their last one) now, by Redis's clock (every node's writes and the
-- sweep's reads on one clock: nodes' clocks may differ). A time only moves forward (a write that arrives late changes
-- nothing); entries older than a day are trimmed.
-- KEYS: the customers' presence zset   ARGV: customer ids
-- Returns the time written (ms).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #ARGV do
  redis.call('ZADD', KEYS[1], 'GT', now, ARGV[i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - 86400000))
return now
