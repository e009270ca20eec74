-- Store one canned response under its shortcut, unless the set is full.
-- KEYS: the canned responses' hash (shared, or one agent's)   ARGV: shortcut, JSON, the most the set may hold
-- Returns 'ok' (stored: new, or replacing the one with that shortcut) or 'full'.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 'full'
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
