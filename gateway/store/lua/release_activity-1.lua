-- An agent's call activity (ringing, on_call) that a lost node owned ends: to ``activity`` (none, or wrap_up
-- until ``until``, for the conversation ``conversation``: '' any). An activity another node set since (a new call
-- ringing) is left alone.
-- KEYS: agent   ARGV: lost node id, activity, until ms, conversation
-- Returns 'ok' or 'moved'.
if redis.call('HGET', KEYS[1], 'activity_node') ~= ARGV[1] then return 'moved' end
redis.call('HSET', KEYS[1], 'activity', ARGV[2], 'activity_until', ARGV[3], 'activity_node', '',
           'activity_conversation', ARGV[4])
return 'ok'
