-- The TURN pair of a customer's welcome (gateway/contact/limits.py): the one the customer holds while at least
-- ``keep`` ms of it are left, else a new one for a token from the customer's and the address' ``ice`` buckets
-- (the buckets of call_ice), else none.
-- KEYS[1]: the customer's held pair (a string: the TURN username ``expiry:id``, expiry in Unix seconds),
-- KEYS[2]: the customer's ice bucket, KEYS[3]: the address' (read by take_tokens)
-- ARGV: capacity, ms per token of each bucket (4 values), now ms, keep ms, the new username, its expiry ms
-- Returns {username, 0 held / 1 new, 0, -1}, or {'', 0, ms until a token, which bucket (0 the customer's, 1 the
-- address') is short}.
--@include take_tokens
local now, keep = tonumber(ARGV[5]), tonumber(ARGV[6])
local held = redis.call('GET', KEYS[1])
if held then
  local expiry = tonumber(string.match(held, '^(%d+):'))
  if expiry and expiry * 1000 - now >= keep then return {held, 0, 0, -1} end
end
local wait, which = take_tokens(2, 1, now, true, false)
if wait > 0 then return {'', 0, wait, which} end
local expires = tonumber(ARGV[8])
redis.call('SET', KEYS[1], ARGV[7], 'PX', math.max(1, expires - now))
return {ARGV[7], 1, 0, -1}
