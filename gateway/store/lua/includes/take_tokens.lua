-- Token buckets (gateway/contact/limits.py): take one token from each chosen bucket, or from none.
-- KEYS[kb .. kb+3]: message bucket of the customer, of the address, conversation bucket of the customer, of the
-- address; ARGV[ab .. ab+7]: (capacity, ms per token) of each. ``msgs``: take the message tokens; ``opens``: the
-- conversation tokens. ``alone`` (optional): the first bucket only, of one holder with no address bucket (an
-- agent's welcome TURN pair; KEYS[kb + 1] is not read). Returns 0, -1 when taken, else the ms until it would be and
-- which bucket (0-3) is short.
local function take_tokens(kb, ab, now, msgs, opens, alone)
  local chosen = {}
  if msgs then
    chosen[#chosen + 1] = 0
    if not alone then chosen[#chosen + 1] = 1 end
  end
  if opens then chosen[#chosen + 1] = 2; chosen[#chosen + 1] = 3 end
  local levels, wait, which = {}, 0, -1
  for _, i in ipairs(chosen) do
    local cap, per = tonumber(ARGV[ab + 2 * i]), tonumber(ARGV[ab + 2 * i + 1])
    local h = redis.call('HMGET', KEYS[kb + i], 't', 'ts')
    local level = cap
    if h[1] then level = math.min(cap, tonumber(h[1]) + math.max(0, now - tonumber(h[2])) / per) end
    levels[i] = level
    if level < 1 and (1 - level) * per > wait then wait, which = (1 - level) * per, i end
  end
  if wait > 0 then return math.ceil(wait), which end
  for _, i in ipairs(chosen) do
    local cap, per = tonumber(ARGV[ab + 2 * i]), tonumber(ARGV[ab + 2 * i + 1])
    redis.call('HSET', KEYS[kb + i], 't', tostring(levels[i] - 1), 'ts', tostring(now))
    redis.call('PEXPIRE', KEYS[kb + i], math.ceil(cap * per) + 1000)  -- full again by then: nothing to keep
  end
  return 0, -1
end
