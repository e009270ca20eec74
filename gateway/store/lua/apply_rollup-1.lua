-- Apply the report counters of one event-log entry, once (gateway/ops/rollups.py): an entry applied before (its
-- id is in the applied set) changes nothing, so an entry delivered again (a node stopped before it acknowledged it)
-- is not counted twice. Ids older than the given time leave the applied set (they are not delivered again).
-- All or nothing: a key of the wrong type (a hash that is not a hash) refuses the whole entry before anything is
-- written (Redis does not undo a script's writes when it fails half-way), so trying it again counts it once.
-- KEYS: applied (zset), then the counter hashes and key sets the entry touches
-- ARGV: entry id, its time (ms), forget applied ids before (ms), expire the hashes at (ms), then per change:
--       'h' key index, field, amount (HINCRBY) or 's' key index, member, '' (SADD)
-- Returns 1 (applied) or 0 (applied before); an error reply naming the key of the wrong type.
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
for i = 5, #ARGV, 4 do
  local n = tonumber(ARGV[i + 1])
  local kind = redis.call('TYPE', KEYS[n])['ok']
  local want = ARGV[i] == 'h' and 'hash' or 'set'
  if kind ~= 'none' and kind ~= want then
    return redis.error_reply('WRONGTYPE ' .. KEYS[n] .. ' is a ' .. kind .. ', not a ' .. want)
  end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
for i = 5, #ARGV, 4 do
  local n = tonumber(ARGV[i + 1])
  if ARGV[i] == 'h' then
    redis.call('HINCRBY', KEYS[n], ARGV[i + 2], ARGV[i + 3])
    redis.call('PEXPIREAT', KEYS[n], ARGV[4])
  else
    redis.call('SADD', KEYS[n], ARGV[i + 2])
  end
end
return 1
