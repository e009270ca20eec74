-- Set context variables and record them.
-- KEYS: conv, ctx, timeline, conv channel, event log
-- ARGV: now, values json, max timeline events (0: no cap), conv id, event log max entries
-- Returns 'ok', 'not_found' or 'timeline_full'.
--@include append
if not redis.call('HGET', KEYS[1], 'state') then return 'not_found' end
if tonumber(ARGV[3]) > 0 and redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[3]) then return 'timeline_full' end
local values = cjson.decode(ARGV[2])
for k, v in pairs(values) do redis.call('HSET', KEYS[2], k, v) end
append(KEYS[3], KEYS[1], KEYS[4], 'context', '{"values":' .. ARGV[2] .. '}', ARGV[1], KEYS[5], ARGV[4], ARGV[5])
return 'ok'
