-- The TURN pair of a page's welcome (gateway/contact/limits.py): the one its holder (a customer, an agent) holds
-- while at least ``keep`` ms of it are left, else a new one for a token of the holder's ``icew`` bucket and, for a
-- customer, the address' too, else none.
-- KEYS[1]: the holder's pair (a string: the TURN username ``expiry:id``, expiry in Unix seconds),
-- KEYS[2]: the holder's bucket [, then the address' bucket: a customer's welcome; an agent's has none]
-- ARGV: capacity, ms per token of each bucket (4 values; the address' unread without its key), now ms, keep ms,
-- the new username, its expiry ms
-- Returns {username, 0 held / 1 new, 0, -1}, or {'', 0, ms until a token, which bucket (0 the holder's, 1 the
-- address') is short}.
--@include take_tokens
local now, keep = tonumber(ARGV[5]), tonumber(ARGV[6])
local held = redis.call('GET', KEYS[1])
if held then
  local expiry = tonumber(string.match(held, '^(%d+):'))
  if expiry and expiry * 1000 - now >= keep then return {held, 0, 0, -1} end
end
local wait, which = take_tokens(2, 1, now, true, false, #KEYS < 3)
if wait > 0 then return {'', 0, wait, which} end
local expires = tonumber(ARGV[8])
redis.call('SET', KEYS[1], ARGV[7], 'PX', math.max(1, expires - now))
return {ARGV[7], 1, 0, -1}
