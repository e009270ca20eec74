-- Store a queue's settings if the caller saw the latest version (optimistic concurrency).
-- KEYS: queue settings hash (name -> JSON), queue versions hash (name -> version)
-- ARGV: queue name, the version the caller saw (0: the queue must not exist yet), the settings (JSON)
-- Returns {'ok', new version} or {'stale', current version}.
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) then return {'stale', current} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return {'ok', redis.call('HINCRBY', KEYS[2], ARGV[1], 1)}
