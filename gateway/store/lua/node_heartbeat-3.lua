-- A node's heartbeat: its alive key lives ``ttl`` ms more, and it is (again) among the nodes others watch.
-- A node another one claimed (its lost mark is set, from the claim on and after the takeover) is not revived:
-- it hears 'lost' and ends its calls.
-- KEYS: nodes, alive (of this node), lost (of this node)   ARGV: node id, ttl ms
-- Returns 'ok' or 'lost'.
if redis.call('EXISTS', KEYS[3]) == 1 then return 'lost' end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
return 'ok'
