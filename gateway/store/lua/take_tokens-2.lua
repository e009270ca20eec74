-- Take one token from a customer's and an address' bucket of one kind (attachments: gateway/contact/limits.py),
-- from both or from neither.
-- KEYS[1]: the customer's bucket, KEYS[2]: the address' bucket (read by take_tokens)
-- ARGV: capacity, ms per token of each (4 values), now ms
-- Returns {0, -1} when taken, else {ms until it would be, which bucket (0 customer, 1 address) is short}.
--@include take_tokens
local wait, which = take_tokens(1, 1, tonumber(ARGV[5]), true, false)
return {wait, which}
