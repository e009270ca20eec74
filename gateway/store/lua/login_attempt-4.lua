-- Count a login attempt before its password is checked, or refuse it (gateway/wire/login_limits.py).
-- KEYS: pair bucket, address bucket, agent bucket, agent's known addresses
-- ARGV: now ms, address, idle ms, then free, base ms, cap ms for the pair, address and agent buckets.
-- Returns {0, 0} when the attempt is counted (go on and check the password), else {wait ms, bucket 1-3}.
local now = tonumber(ARGV[1])
local exempt = redis.call('ZSCORE', KEYS[4], ARGV[2])
local applies = {true, true, not exempt}
local wait, which = 0, 0
for i = 1, 3 do
  if applies[i] then
    local u = tonumber(redis.call('HGET', KEYS[i], 'until') or '0')
    if u - now > wait then wait, which = u - now, i end
  end
end
if wait > 0 then return {math.ceil(wait), which} end
local idle = tonumber(ARGV[3])
for i = 1, 3 do
  local free = tonumber(ARGV[1 + 3 * i])
  local base = tonumber(ARGV[2 + 3 * i])
  local cap = tonumber(ARGV[3 + 3 * i])
  local n = redis.call('HINCRBY', KEYS[i], 'n', 1)
  local delay = 0
  if n >= free then
    delay = math.floor(math.min(cap, base * 2 ^ (n - free)))
    redis.call('HSET', KEYS[i], 'until', now + delay)
  end
  redis.call('PEXPIRE', KEYS[i], delay + idle)
end
return {0, 0}
