-- Choose the flow new calls or new chats start in, and tell every node in the same step.
-- KEYS: the live hash (flow name -> published version), the answers hash, the flows channel
-- ARGV: entry ('calls' or 'chats'), flow name ('' for no flow: new chats go straight to the agents), the bus
-- message (JSON)
-- Returns {'unpublished', the flow chosen before, chose} when the flow has no published version, else {'ok', before,
-- chose}: before is '' both for no flow and for no choice (the node's setting answered); chose is '1' when an admin
-- had chosen (a flow or no flow), '0' when not.
local chosen = redis.call('HGET', KEYS[2], ARGV[1])
local before = chosen or ''
local chose = chosen and '1' or '0'
if ARGV[2] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
  return {'unpublished', before, chose}
end
if chosen ~= ARGV[2] then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('PUBLISH', KEYS[3], ARGV[3])
end
return {'ok', before, chose}
