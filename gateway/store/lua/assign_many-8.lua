-- A routing pass's assignments in one step, in the order planned, stopping at the first that fails (the plan
-- after it assumed it: the next pass plans again). Each is assign-8.lua's, checked the same way.
-- KEYS: 8 per assignment, as assign-8.lua's (conv, timeline, queue, agent, agent_convs, agent_sessions,
--       conv channel, event log): KEYS[1] to KEYS[8] the first's, the next 8 the second's, and so on
-- ARGV: now, event log max entries, then 3 per assignment: conv id, agent id, data
-- Returns how many were assigned, then the first failure's reason ('' when none failed).
--@include assign_one
local n = #KEYS / 8
for i = 0, n - 1 do
  local k, a = 8 * i, 2 + 3 * i
  local result = assign_one(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6],
                            KEYS[k + 7], KEYS[k + 8], ARGV[a + 1], ARGV[a + 2], ARGV[1], ARGV[a + 3], ARGV[2])
  if result ~= 'ok' then return {i, result} end
end
return {n, ''}
