-- Where a live call stands now (the call registry): its fields, and the agents' call indexes it leaves and joins.
-- An entry already deleted (the call ended, or its node was taken over) is not brought back.
-- KEYS: call, then the agent_calls sets to leave (ARGV[3] of them), then those to join
-- ARGV: call id, fields as JSON {name: value}, how many of the keys after the first are left
-- Returns 'ok' or 'gone'.
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local fields = cjson.decode(ARGV[2])
local flat = {}
for name, value in pairs(fields) do
  flat[#flat + 1] = name
  flat[#flat + 1] = value
end
if #flat > 0 then redis.call('HSET', KEYS[1], unpack(flat)) end
local leave = tonumber(ARGV[3])
for i = 2, #KEYS do
  if i <= leave + 1 then
    redis.call('SREM', KEYS[i], ARGV[1])
  else
    redis.call('SADD', KEYS[i], ARGV[1])
  end
end
return 'ok'
