-- Change one agent of the directory only if it is still as the caller read it (gateway/contact/agents.py).
-- KEYS: the directory hash   ARGV: agent id, its JSON as read ('' = it must not exist), the new JSON ('' = remove)
-- Returns 1 when done, 0 when the agent had changed meanwhile (the caller reads again), nothing half-written.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then current = '' end
if current ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
