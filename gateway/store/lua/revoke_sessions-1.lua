-- End login sessions of one agent (all of them: the caller reads the agent's set and calls again until it is
-- empty, since a key is never built inside a script).
-- KEYS: the agent's session zset, then the hash of each session to end   ARGV: those session ids, in that order
-- Deletes those sessions and takes them out of the set; returns how many sessions the set still holds.
for i = 2, #KEYS do
  redis.call('DEL', KEYS[i])
  redis.call('ZREM', KEYS[1], ARGV[i - 1])
end
return redis.call('ZCARD', KEYS[1])
