-- Delete a queue's settings.
-- KEYS: queue settings hash, queue versions hash   ARGV: queue name
-- Returns 1 if it existed, else 0.
local existed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return existed
