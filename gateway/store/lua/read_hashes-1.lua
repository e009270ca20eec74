-- Read many small hashes in one reply string each ("field value field value ..."): a report reads thousands of
-- counter hashes, and one string per hash parses far faster than a reply element per field and value.
-- KEYS: the hashes (KEYS[1] onwards); field names have no spaces.   ARGV: none
-- Returns one string per key ('' for a missing hash).
local out = {}
for i = 1, #KEYS do
  out[i] = table.concat(redis.call('HGETALL', KEYS[i]), ' ')
end
return out
