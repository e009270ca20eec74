-- A customer rates their closed conversation, once: the score and comment go on the conversation's hash (where
-- reports read them) and on its timeline as a 'rating' event, published like every event.
-- KEYS: conv, timeline, conv channel, event log
-- ARGV: customer id, score, comment, now, event data (JSON), conv id, event log max entries
-- Returns {status, event id}: status 'ok', 'not_found', 'forbidden' (another customer's), 'not_closed' or
-- 'already_rated' (with the first rating's time as the second value).
-- A rating is not refused by a full timeline: there is one per conversation, and it comes after the close.
--@include append
local conv = redis.call('HMGET', KEYS[1], 'state', 'customer_id', 'rated_at')
if not conv[1] then return {'not_found', ''} end
if conv[2] ~= ARGV[1] then return {'forbidden', ''} end
if conv[1] ~= 'closed' then return {'not_closed', ''} end
if conv[3] then return {'already_rated', conv[3]} end
local id = append(KEYS[2], KEYS[1], KEYS[3], 'rating', ARGV[5], ARGV[4], KEYS[4], ARGV[6], ARGV[7])
-- rated_at: the event's own time (its stream id's milliseconds), so the hash and the timeline agree
redis.call('HSET', KEYS[1], 'rating', ARGV[2], 'rating_comment', ARGV[3], 'rated_at', string.match(id, '^(%d+)'))
return {'ok', id}
