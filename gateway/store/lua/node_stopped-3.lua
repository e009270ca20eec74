-- A node stops cleanly: its heartbeat goes at once. It leaves the watched nodes only when it holds no call any
-- more; otherwise (a call's end could not be written) a survivor takes its calls over right away.
-- KEYS: nodes, alive (of this node), node_calls (of this node)   ARGV: node id
-- Returns 'left' or 'calls_left'.
redis.call('DEL', KEYS[2])
if redis.call('SCARD', KEYS[3]) > 0 then return 'calls_left' end
redis.call('SREM', KEYS[1], ARGV[1])
return 'left'
