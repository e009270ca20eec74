-- The customer answered the ringing: their call is on its way to the agent (no ring timeout any more).
-- KEYS: cb, ringing   ARGV: id.   Returns 'ok' or 'not_ringing'.
if redis.call('HGET', KEYS[1], 'state') ~= 'ringing' then return 'not_ringing' end
redis.call('HSET', KEYS[1], 'state', 'connecting')
redis.call('ZREM', KEYS[2], ARGV[1])
return 'ok'
