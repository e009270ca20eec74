-- A help request open in the conversation (gateway/contact/help_requests.py) ends with its agent's part of the chat:
-- a close, a transfer, a requeue. No event: the close or the hand-over says what happened.
-- conv, help: the conversation's hash and the open requests (a zset), keys the calling script was given in KEYS.
local function help_over(conv, help, cid)
  if redis.call('HGET', conv, 'help_agent') then
    redis.call('HDEL', conv, 'help_agent', 'help_text')
    redis.call('ZREM', help, cid)
  end
end
