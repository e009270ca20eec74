-- Release a lock only if we hold it.   KEYS: lock   ARGV: owner token.   Returns 1 if released, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
