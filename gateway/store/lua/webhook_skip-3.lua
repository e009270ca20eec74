-- With no event webhook subscription, move the fan-out's consumer group to the end of the event log without
-- reading it (gateway/ops/webhook_delivery.py): nothing in it is for anyone, and reading every event back cost
-- every node's fan-out holder a reply per event. Checked in the same step, so an event logged after a
-- subscription is created is always read. Only the fan-out lock's holder skips, and only with nothing pending.
-- KEYS: the fan-out lock, the event log, the subscriptions (hash)
-- ARGV: lock token, consumer group
-- Returns 'skipped'; 'lost' (the lock is not the caller's), 'subscribed' or 'pending' (read as usual): nothing done.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
if redis.call('HLEN', KEYS[3]) > 0 then return 'subscribed' end
if redis.call('XPENDING', KEYS[2], ARGV[2])[1] > 0 then return 'pending' end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 then redis.call('XGROUP', 'SETID', KEYS[2], ARGV[2], last[1][1]) end
return 'skipped'
