-- The claimant ended every call of the dead node: the node is forgotten (only its lost mark is left, expiring:
-- a stalled node that comes back hears 'lost' from its heartbeat, never rejoins).
-- KEYS: nodes, takeover (of the dead node), node_calls (of the dead node), lost (of the dead node)
-- ARGV: dead node id, claimant, lost ms
-- Returns 'ok', 'not_yours' (the claim ran out and another node holds it) or 'calls_left'.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 'not_yours' end
if redis.call('SCARD', KEYS[3]) > 0 then return 'calls_left' end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
return 'ok'
