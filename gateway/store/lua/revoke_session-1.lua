-- End one login session (gateway/wire/sessions.py).
-- KEYS: session hash   ARGV: none.   Deletes the session; returns its agent id ('' when there was none).
local agent = redis.call('HGET', KEYS[1], 'agent_id')
if not agent then return '' end
redis.call('DEL', KEYS[1])
return agent
