-- XADD the event to the timeline, then PUBLISH it as JSON {"kind":"event","id":..,"type":..,"data":{..}} on
-- the conversation channel: a subscriber never sees an event that is not stored.
-- tl, conv, chan: keys the calling script was given in KEYS.
local function append(tl, conv, chan, typ, data, now)
  local id = redis.call('XADD', tl, '*', 'type', typ, 'data', data)
  redis.call('HSET', conv, 'updated_at', now)
  redis.call('PUBLISH', chan, '{"kind":"event","id":"' .. id .. '","type":"' .. typ .. '","data":' .. data .. '}')
  return id
end
