-- Replace an event webhook subscription only if it still exists (a deleted one is not brought back).
-- KEYS: subscriptions (hash)   ARGV: id, JSON.   Returns 1 if replaced, else 0.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
