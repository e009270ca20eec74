-- A surviving node claims a node whose heartbeat expired: exactly one claimant wins while the claim lives
-- (``lease`` ms; a claimant that dies before it finished is replaced once the lease ran out). The dead node is
-- marked lost (for ``lost`` ms, whatever becomes of the claim): its heartbeat never revives it.
-- KEYS: nodes, alive (of the dead node), takeover (of the dead node), lost (of the dead node)
-- ARGV: dead node id, claimant, lease ms, lost ms
-- Returns 'ok' (yours: take its calls over), 'gone' (taken over already, or stopped), 'alive' or 'taken'.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 'gone' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'alive' end
local owner = redis.call('GET', KEYS[3])
if owner and owner ~= ARGV[2] then return 'taken' end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[4])
return 'ok'
