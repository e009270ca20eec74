-- Import agents into the directory, all or none (gateway/contact/agents.py, `contact-gateway agents import`).
-- KEYS: the directory hash   ARGV: replace ('1': an id that exists is overwritten, '0': refused), then
-- agent id, JSON, agent id, JSON, ...
-- Returns {stored count, ids that exist already (refused: nothing written when replace is '0')}.
local exists = {}
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then table.insert(exists, ARGV[i]) end
end
if #exists > 0 and ARGV[1] ~= '1' then return {0, exists} end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return {(#ARGV - 1) / 2, exists}
