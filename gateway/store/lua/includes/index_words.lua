-- Index a conversation's new words for search: each word goes into its index (a zset scored by the conversation's
-- creation, for search paging) unless the conversation already holds ``max_words`` distinct words
-- (gateway/store/words.py). conv, words: the conversation's hash and its word set (keys the calling script was
-- given in KEYS); KEYS[first_key ..] are the word indexes, ARGV[first_arg ..] the words, in the same order.
local function index_words(conv, words, first_key, first_arg, max_words, cid, now)
  local created = redis.call('HGET', conv, 'created_at') or now
  local room = tonumber(max_words) - redis.call('SCARD', words)
  for i = first_key, #KEYS do
    local word = ARGV[first_arg + i - first_key]
    if redis.call('SISMEMBER', words, word) == 1 then
      redis.call('ZADD', KEYS[i], created, cid)
    elseif room > 0 then
      redis.call('SADD', words, word)
      redis.call('ZADD', KEYS[i], created, cid)
      room = room - 1
    end
  end
end
