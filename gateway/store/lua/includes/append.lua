-- XADD the event to the timeline, then PUBLISH it as JSON {"kind":"event","id":..,"type":..,"data":{..}} on
-- the conversation channel: a subscriber never sees an event that is not stored. The same step adds it to the
-- event log (one stream of every conversation's events, read by gateway/store/event_log_store.py) with the
-- conversation's queue and agent at that moment, trimmed to about ``log_max`` entries.
-- tl, conv, chan, log: keys the calling script was given in KEYS; cid: the conversation's id.

-- The conversation's offer (for reports, gateway/ops/rollup_rules.py offer_step: the same rule): ``offer`` on the
-- conversation is '1' from the moment it is offered to a queue (first queued, a callback due, moved to another
-- queue) until an agent takes it (a chat assigned, a call answered) or it is given up (a call abandoned, a chat
-- closed while waiting); '0' otherwise. Such an event closing an open offer is logged with offer '1', one that
-- finds none with offer '0': handled and abandoned are counted at most once per offer. (A conversation opened
-- before this rule has no ``offer``: its events are logged without one and counted as before.)
local function truthy(v)
  return v ~= nil and v ~= cjson.null and v ~= false and v ~= '' and v ~= 0
end

local function offer_step(conv, typ, data)
  if typ ~= 'state' and typ ~= 'assigned' and typ ~= 'call_answered' and typ ~= 'call_abandoned'
     and typ ~= 'closed' then
    return nil
  end
  local open = redis.call('HGET', conv, 'offer')
  if not open then return nil end
  local ok, d = pcall(cjson.decode, data)
  if not ok or type(d) ~= 'table' then return nil end
  if typ == 'state' then
    if d.state == 'queued' and (not truthy(d.reason) or d.reason == 'callback' or d.queue ~= nil) then
      redis.call('HSET', conv, 'offer', '1')
    end
    return nil
  end
  local takes = typ == 'call_answered' or typ == 'call_abandoned'
  if typ == 'assigned' then takes = not truthy(d.transferred_from) and not truthy(d.voice) end
  if typ == 'closed' then takes = d.queued_wait_ms ~= nil and not truthy(d.voice) end
  if typ == 'closed' or (takes and open == '1') then redis.call('HSET', conv, 'offer', '0') end
  if takes then return open end
  return nil
end

-- A conversation's calls are counted as they start (``calls``) and end (``calls_ended``, every call ends once:
-- hung up, abandoned, taken over from a lost node): one is in progress while ``calls`` > ``calls_ended``.
-- A call's end counts even when its event is not stored (the timeline full: end_call-7.lua, append-6.lua), and
-- never beyond the calls started (an end whose start was not stored): either way the conversation would wait as
-- a call for ever, or a later call would not count as one.
local function call_over(conv)
  local c = redis.call('HMGET', conv, 'calls', 'calls_ended')
  if (tonumber(c[1]) or 0) > (tonumber(c[2]) or 0) then redis.call('HINCRBY', conv, 'calls_ended', 1) end
end

local function append(tl, conv, chan, typ, data, now, log, cid, log_max)
  local id = redis.call('XADD', tl, '*', 'type', typ, 'data', data)
  redis.call('HSET', conv, 'updated_at', now)
  if typ == 'call_started' then
    redis.call('HINCRBY', conv, 'calls', 1)
  elseif typ == 'call_ended' then
    call_over(conv)
  end
  local who = redis.call('HMGET', conv, 'queue', 'agent_id')
  local took = offer_step(conv, typ, data)
  if took then
    redis.call('XADD', log, 'MAXLEN', '~', log_max, '*', 'cid', cid, 'event_id', id, 'type', typ, 'data', data,
      'ts', now, 'queue', who[1] or '', 'agent_id', who[2] or '', 'offer', took)
  else
    redis.call('XADD', log, 'MAXLEN', '~', log_max, '*', 'cid', cid, 'event_id', id, 'type', typ, 'data', data,
      'ts', now, 'queue', who[1] or '', 'agent_id', who[2] or '')
  end
  redis.call('PUBLISH', chan, '{"kind":"event","id":"' .. id .. '","type":"' .. typ .. '","data":' .. data .. '}')
  return id
end
