-- XADD the event to the timeline, then PUBLISH it as JSON {"kind":"event","id":..,"type":..,"data":{..}} on
-- the conversation channel: a subscriber never sees an event that is not stored. The same step adds it to the
-- event log (one stream of every conversation's events, read by gateway/store/event_log_store.py) with the
-- conversation's queue and agent at that moment, trimmed to about ``log_max`` entries.
-- tl, conv, chan, log: keys the calling script was given in KEYS; cid: the conversation's id.
local function append(tl, conv, chan, typ, data, now, log, cid, log_max)
  local id = redis.call('XADD', tl, '*', 'type', typ, 'data', data)
  redis.call('HSET', conv, 'updated_at', now)
  local who = redis.call('HMGET', conv, 'queue', 'agent_id')
  redis.call('XADD', log, 'MAXLEN', '~', log_max, '*', 'cid', cid, 'event_id', id, 'type', typ, 'data', data,
    'ts', now, 'queue', who[1] or '', 'agent_id', who[2] or '')
  redis.call('PUBLISH', chan, '{"kind":"event","id":"' .. id .. '","type":"' .. typ .. '","data":' .. data .. '}')
  return id
end
