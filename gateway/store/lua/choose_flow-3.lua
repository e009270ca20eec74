-- Choose the flow new calls or new chats start in, and tell every node in the same step.
-- KEYS: the live hash (flow name -> published version), the answers hash, the flows channel
-- ARGV: entry ('calls' or 'chats'), flow name ('' for no flow: new chats go straight to the agents), the bus
-- message (JSON)
-- Returns {'unpublished', the flow chosen before} when the flow has no published version, else {'ok', before}
-- ('' for none: no flow was chosen, or the node's setting answered).
local chosen = redis.call('HGET', KEYS[2], ARGV[1])
local before = chosen or ''
if ARGV[2] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
  return {'unpublished', before}
end
if chosen ~= ARGV[2] then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('PUBLISH', KEYS[3], ARGV[3])
end
return {'ok', before}
