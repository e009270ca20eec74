-- Take a lock, or keep it when the caller holds it already.   KEYS: lock   ARGV: owner token, ms.
-- Returns 'taken' (it was free), 'held' (the caller's: its expiry is renewed) or '' (another owner holds it).
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 'held'
end
if owner then return '' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'taken'
