-- The first agents of an empty directory, all at once (several nodes starting together: one of them wins).
-- KEYS: the directory hash   ARGV: agent id, JSON, agent id, JSON, ...
-- Returns how many were stored, or -1 when the directory already had agents (nothing written).
if redis.call('HLEN', KEYS[1]) > 0 then return -1 end
for i = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return #ARGV / 2
