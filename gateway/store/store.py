"""Redis layout and the atomic operations on it.

Every key the gateway uses is named here. Operations that must not be seen
half-done (store a message once per client id, assign a conversation, close
it) are Lua scripts: each appends its timeline event to the conversation's
Stream and publishes it in the same step, so a subscriber never sees an event
that is not stored, and a stored event is always published.

Keys (``P`` is the configured prefix, ``cg`` by default):

| key | type | what |
|---|---|---|
| ``P:conv:ID`` | hash | conversation: customer_id, state, queue, agent_id, created_at, updated_at, queued_at, callback_id, preferred_agent |
| ``P:conv:ID:ctx`` | hash | context variables |
| ``P:conv:ID:tl`` | stream | the timeline; fields ``type`` and ``data`` (JSON) |
| ``P:conv:ID:cids`` | hash | agent client message id -> ``conv/event`` id (exactly-once messages) |
| ``P:customer:ID`` | hash | ``current``: the customer's latest conversation; ``last_agent``: who closed their last one |
| ``P:customer:ID:cids`` | hash | customer client message id -> ``conv/event`` id, across conversations |
| ``P:queue:NAME`` | zset | waiting conversations, scored by enqueue time (ms) |
| ``P:agent:ID`` | hash | name, capacity, status, idle_since |
| ``P:agent:ID:convs`` | set | conversations assigned to the agent |
| ``P:agent:ID:sessions`` | zset | live desk connections (any node), scored by expiry (ms) |
| ``P:agents`` | set | every agent id that ever connected |
| ``P:secret:fingerprint`` | string | HMAC fingerprint of the signing secret (nodes with different ones are refused); the secret itself is never in Redis (``P:secret``: older versions only, migrated, gateway/wire/signing_secret.py) |
| ``P:call:ID:node`` | string | the node a call waiting for / talking to an agent is anchored on (expires) |
| ``P:stats:handle_ms`` | list | the latest answered calls' handle times (ms), newest first, for wait estimates |
| ``P:cb:ID`` | hash | a callback: conversation_id, customer_id, queue, state, due_ms, attempts, ... (gateway/contact/callbacks.py) |
| ``P:cb:due`` | zset | scheduled callbacks, scored by when they enter the queue (ms) |
| ``P:cb:open`` | zset | callbacks not closed yet, scored by when they expire (ms) |
| ``P:cb:queued`` | set | callbacks whose conversation waits in the routing queue |
| ``P:cb:ringing`` | zset | callbacks being delivered, scored by when the customer's ringing ends (ms) |
| ``P:closed`` | zset | closed conversations, scored by when they closed (ms): what retention looks at (gateway/ops/retention.py) |
| ``P:closed:indexed`` | string | set once conversations closed before ``P:closed`` existed were indexed |
| ``P:retention:lock`` | string | the node running a retention pass (expires) |
| ``P:rl:KIND:c:ID`` / ``P:rl:KIND:ip:ADDR`` | hash | token bucket (``t`` tokens, ``ts`` ms) of a customer / address, KIND ``msg`` or ``conv`` (expires when full) |
| ``P:calls:c:ID`` / ``P:calls:ip:ADDR`` | zset | calls a customer / address holds (``customer/call``), scored by expiry (ms) (gateway/contact/limits.py) |

A conversation owns ``P:conv:ID``, ``:ctx``, ``:tl``, ``:cids``, its entry in ``P:closed``, the
``P:customer:ID:cids`` entries that point to it, the callbacks named in its timeline (``P:cb:ID``), and
``DATA_DIR/recordings/ID/`` on the node that recorded it; retention deletes all of them
(gateway/ops/retention.py).

A timeline holds at most ``max_timeline_events`` (``--max-timeline-events``): beyond it, :meth:`Store.append`
(messages, notes, flow steps, call events) and context changes are refused with ``timeline_full``; state
changes (assign, requeue, transfer, close) still go through, so a full conversation can always be closed.

Pub/sub channels: ``P:ch:conv:ID`` (timeline events and typing of one
conversation), ``P:ch:customer:ID`` (the customer moved to a new conversation),
``P:ch:agent:ID`` (assignments for one agent), ``P:ch:queue``
(the waiting queue or agent presence changed), ``P:ch:node:NODE`` (agent call
commands for the calls anchored on that node, and their replies).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from gateway.errors import Conflict, TooManyRequests


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "cg"

    def conv(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}"

    def ctx(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}:ctx"

    def timeline(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}:tl"

    def client_ids(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}:cids"

    def customer(self, cust: str) -> str:
        return f"{self.prefix}:customer:{cust}"

    def customer_client_ids(self, cust: str) -> str:
        return f"{self.prefix}:customer:{cust}:cids"

    def queue(self, name: str) -> str:
        return f"{self.prefix}:queue:{name}"

    def agent(self, aid: str) -> str:
        return f"{self.prefix}:agent:{aid}"

    def agent_convs(self, aid: str) -> str:
        return f"{self.prefix}:agent:{aid}:convs"

    def agent_sessions(self, aid: str) -> str:
        return f"{self.prefix}:agent:{aid}:sessions"

    @property
    def agents(self) -> str:
        return f"{self.prefix}:agents"

    @property
    def secret(self) -> str:
        return f"{self.prefix}:secret"

    def call_node(self, call_id: str) -> str:
        return f"{self.prefix}:call:{call_id}:node"

    def node_channel(self, node_id: str) -> str:
        return f"{self.prefix}:ch:node:{node_id}"

    def callback(self, cb_id: str) -> str:
        return f"{self.prefix}:cb:{cb_id}"

    @property
    def callbacks_due(self) -> str:
        return f"{self.prefix}:cb:due"

    @property
    def callbacks_open(self) -> str:
        return f"{self.prefix}:cb:open"

    @property
    def callbacks_queued(self) -> str:
        return f"{self.prefix}:cb:queued"

    @property
    def callbacks_ringing(self) -> str:
        return f"{self.prefix}:cb:ringing"

    @property
    def handle_times(self) -> str:
        return f"{self.prefix}:stats:handle_ms"

    @property
    def closed_index(self) -> str:
        return f"{self.prefix}:closed"

    @property
    def closed_indexed(self) -> str:
        return f"{self.prefix}:closed:indexed"

    @property
    def retention_lock(self) -> str:
        return f"{self.prefix}:retention:lock"

    def rate_bucket(self, kind: str, who: str, ident: str) -> str:
        return f"{self.prefix}:rl:{kind}:{who}:{ident}"

    def call_slots(self, who: str, ident: str) -> str:
        return f"{self.prefix}:calls:{who}:{ident}"

    def customer_channel(self, cust: str) -> str:
        return f"{self.prefix}:ch:customer:{cust}"

    def conv_channel(self, cid: str) -> str:
        return f"{self.prefix}:ch:conv:{cid}"

    def agent_channel(self, aid: str) -> str:
        return f"{self.prefix}:ch:agent:{aid}"

    @property
    def queue_channel(self) -> str:
        return f"{self.prefix}:ch:queue"


# A Lua helper shared by the scripts: XADD the event, then PUBLISH it as JSON
# {"kind":"event","id":..,"type":..,"data":{..}} on the conversation channel.
_APPEND = """
local function append(tl, conv, chan, typ, data, now)
  local id = redis.call('XADD', tl, '*', 'type', typ, 'data', data)
  redis.call('HSET', conv, 'updated_at', now)
  redis.call('PUBLISH', chan, '{"kind":"event","id":"' .. id .. '","type":"' .. typ .. '","data":' .. data .. '}')
  return id
end
"""

# KEYS: conv, timeline, client_ids   ARGV: client_id, channel, type, data, now, required_agent, conv id,
# max timeline events (0: no cap)
# Returns {"conv/event" id, status}: status 'ok', 'duplicate' (stored before under that client id),
# 'not_found', 'not_assigned', 'closed' or 'timeline_full'.
_APPEND_SCRIPT = _APPEND + """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'', 'not_found'} end
if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[6] then return {'', 'not_assigned'} end
if ARGV[1] ~= '' then
  local existing = redis.call('HGET', KEYS[3], ARGV[1])
  if existing then return {existing, 'duplicate'} end
end
if ARGV[3] == 'message' and state == 'closed' then return {'', 'closed'} end
if tonumber(ARGV[8]) > 0 and redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[8]) then return {'', 'timeline_full'} end
local id = append(KEYS[2], KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if ARGV[1] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[7] .. '/' .. id) end
return {ARGV[7] .. '/' .. id, 'ok'}
"""

# Token buckets (gateway/contact/limits.py): take one token from each chosen bucket, or from none.
# KEYS[kb .. kb+3]: message bucket of the customer, of the address, conversation bucket of the customer, of the
# address; ARGV[ab .. ab+7]: (capacity, ms per token) of each. ``msgs``: take the message tokens; ``opens``: the
# conversation tokens. Returns 0, -1 when taken, else the ms until it would be and which bucket (0-3) is short.
_TAKE_TOKENS = """
local function take_tokens(kb, ab, now, msgs, opens)
  local chosen = {}
  if msgs then chosen[#chosen + 1] = 0; chosen[#chosen + 1] = 1 end
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
"""

# Open a conversation for a customer unless one is open already.
# KEYS: customer, conv(new), ctx(new), timeline(new), queue, conv channel(new) [, the 4 token buckets]
# ARGV: new id, customer id, queue, now, opened data, state data, context json, conversation key prefix, initial
# state ('queued' or 'open') [, '1' to take message tokens, the buckets' 8 rates]
# Returns the current conversation id and 1 if it was created now; {'', -1, wait ms, bucket} if over a limit
# (with buckets: a message token, and conversation tokens when it opens one, are taken in the same step).
_OPEN_SCRIPT = _APPEND + _TAKE_TOKENS + """
local current = redis.call('HGET', KEYS[1], 'current')
local opens = true
local state = false
if current then
  state = redis.call('HGET', ARGV[8] .. current, 'state')
  if state and state ~= 'closed' then opens = false end
end
if #KEYS >= 10 then
  local wait, which = take_tokens(7, 11, tonumber(ARGV[4]), ARGV[10] == '1', opens)
  if wait > 0 then return {'', -1, wait, which} end
end
if not opens then return {current, 0, state} end
local queued = ARGV[9] == 'queued'
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'customer_id', ARGV[2], 'state', ARGV[9], 'queue', ARGV[3],
           'agent_id', '', 'created_at', ARGV[4], 'updated_at', ARGV[4], 'queued_at', queued and ARGV[4] or '',
           'preferred_agent', redis.call('HGET', KEYS[1], 'last_agent') or '')
local ctx = cjson.decode(ARGV[7])
for k, v in pairs(ctx) do redis.call('HSET', KEYS[3], k, v) end
redis.call('HSET', KEYS[1], 'current', ARGV[1])
append(KEYS[4], KEYS[2], KEYS[6], 'opened', ARGV[5], ARGV[4])
append(KEYS[4], KEYS[2], KEYS[6], 'state', ARGV[6], ARGV[4])
if queued then redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1]) end
return {ARGV[1], 1, ARGV[9]}
"""

# Hand an open conversation to routing.
# KEYS: conv, timeline, routing queue, conv channel   ARGV: conv id, now, data, queue name, skills, priority
_ENQUEUE_SCRIPT = _APPEND + """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state ~= 'open' then return state end
redis.call('HSET', KEYS[1], 'state', 'queued', 'queue', ARGV[4], 'queued_at', ARGV[2], 'skills', ARGV[5],
           'priority', ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
append(KEYS[2], KEYS[1], KEYS[4], 'state', ARGV[3], ARGV[2])
return 'ok'
"""

# Set context variables and record them.  KEYS: conv, ctx, timeline, conv channel
# ARGV: now, values json, max timeline events (0: no cap)
_CONTEXT_SCRIPT = _APPEND + """
if not redis.call('HGET', KEYS[1], 'state') then return 'not_found' end
if tonumber(ARGV[3]) > 0 and redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[3]) then return 'timeline_full' end
local values = cjson.decode(ARGV[2])
for k, v in pairs(values) do redis.call('HSET', KEYS[2], k, v) end
append(KEYS[3], KEYS[1], KEYS[4], 'context', '{"values":' .. ARGV[2] .. '}', ARGV[1])
return 'ok'
"""

# KEYS: conv, timeline, queue, agent, agent_convs, agent_sessions, conv channel
# ARGV: conv id, agent id, now, data
# Assign only if the conversation still waits and the agent is available, online and has room.
_ASSIGN_SCRIPT = _APPEND + """
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 'not_queued' end
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 'not_queued' end
if redis.call('HGET', KEYS[4], 'status') ~= 'available' then return 'agent_unavailable' end
if redis.call('ZCOUNT', KEYS[6], ARGV[3], '+inf') == 0 then return 'agent_offline' end
local capacity = tonumber(redis.call('HGET', KEYS[4], 'capacity') or '0')
if redis.call('SCARD', KEYS[5]) >= capacity then return 'agent_full' end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('HSET', KEYS[4], 'idle_since', ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'assigned', 'agent_id', ARGV[2], 'queued_at', '')
append(KEYS[2], KEYS[1], KEYS[7], 'assigned', ARGV[4], ARGV[3])
return 'ok'
"""

# Take a conversation back from its agent and put it in the queue at ``score`` (its first enqueue time, so it
# goes back ahead of everyone who came later): a call the agent missed, declined or dropped.
# KEYS: conv, timeline, queue, agent_convs, conv channel   ARGV: conv id, agent id, now, data, score, queue name
# ('' keeps the conversation's queue name)
_REQUEUE_SCRIPT = _APPEND + """
if redis.call('HGET', KEYS[1], 'state') ~= 'assigned' then return 'not_assigned' end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[2] then return 'not_assigned' end
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'queued', 'agent_id', '', 'queued_at', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'queue', ARGV[6]) end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
append(KEYS[2], KEYS[1], KEYS[5], 'state', ARGV[4], ARGV[3])
return 'ok'
"""

# Hand an assigned conversation from one agent straight to another (a transfer), if the other is available,
# online and has room.  KEYS: conv, timeline, from_convs, to_agent, to_convs, to_sessions, conv channel
# ARGV: conv id, from agent, to agent, now, data
_TRANSFER_SCRIPT = _APPEND + """
if redis.call('HGET', KEYS[1], 'state') ~= 'assigned' then return 'not_assigned' end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[2] then return 'not_assigned' end
if redis.call('HGET', KEYS[4], 'status') ~= 'available' then return 'agent_unavailable' end
if redis.call('ZCOUNT', KEYS[6], ARGV[4], '+inf') == 0 then return 'agent_offline' end
local capacity = tonumber(redis.call('HGET', KEYS[4], 'capacity') or '0')
if redis.call('SCARD', KEYS[5]) >= capacity then return 'agent_full' end
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('HSET', KEYS[1], 'agent_id', ARGV[3])
append(KEYS[2], KEYS[1], KEYS[7], 'assigned', ARGV[5], ARGV[4])
return 'ok'
"""

# KEYS: conv, timeline, queue, agent_convs, agent, conv channel, closed index   ARGV: conv id, agent id, now, data
_CLOSE_SCRIPT = _APPEND + """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state == 'closed' then return 'closed' end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[2] then return 'not_assigned' end
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[2] ~= '' then  -- '' : closed by a bot flow, no agent involved
  redis.call('SREM', KEYS[4], ARGV[1])
  redis.call('HSET', KEYS[5], 'idle_since', ARGV[3])
end
redis.call('HSET', KEYS[1], 'state', 'closed')
redis.call('ZADD', KEYS[7], ARGV[3], ARGV[1])
append(KEYS[2], KEYS[1], KEYS[6], 'closed', ARGV[4], ARGV[3])
return 'ok'
"""

def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Opened:
    """The customer's conversation after :meth:`Store.open_conversation`: which, whether it is new, its state."""

    conversation_id: str
    created: bool
    state: str


class Store:
    """Thin typed wrapper over the scripts; no business rules beyond the atomic checks."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, *, max_timeline_events: int = 0):
        self.redis = redis
        self.keys = keys
        self.max_timeline_events = max_timeline_events   # 0: no cap
        self._append = redis.register_script(_APPEND_SCRIPT)
        self._open = redis.register_script(_OPEN_SCRIPT)
        self._assign = redis.register_script(_ASSIGN_SCRIPT)
        self._close = redis.register_script(_CLOSE_SCRIPT)
        self._enqueue = redis.register_script(_ENQUEUE_SCRIPT)
        self._requeue = redis.register_script(_REQUEUE_SCRIPT)
        self._transfer = redis.register_script(_TRANSFER_SCRIPT)
        self._context = redis.register_script(_CONTEXT_SCRIPT)

    async def append(self, cid: str, typ: str, data: dict[str, Any], *, now: int, client_id: str = "",
                     client_ids_key: str | None = None, required_agent: str = "") -> tuple[str, str, str]:
        """Append one event; returns (conversation id, event id, status).

        With ``client_id`` the event is stored at most once per id in ``client_ids_key``
        (default: the conversation's own); a repeat returns the first one's ids. A full timeline raises
        Conflict ``timeline_full``.
        """
        k = self.keys
        ref, status = await self._append(
            keys=[k.conv(cid), k.timeline(cid), client_ids_key or k.client_ids(cid)],
            args=[client_id, k.conv_channel(cid), typ, encode(data), now, required_agent, cid,
                  self.max_timeline_events])
        if _s(status) == "timeline_full":
            raise _timeline_full(cid)
        conv_id, _, event_id = _s(ref).rpartition("/")
        return conv_id or cid, event_id, _s(status)

    async def seen_client_id(self, client_ids_key: str, client_id: str) -> tuple[str, str] | None:
        ref = await self.redis.hget(client_ids_key, client_id)
        if ref is None:
            return None
        conv_id, _, event_id = _s(ref).rpartition("/")
        return conv_id, event_id

    async def open_conversation(self, customer_id: str, new_id: str, queue: str, *, now: int,
                                context: dict[str, str], queued: bool = True,
                                buckets: Buckets | None = None, messages: bool = True) -> Opened:
        """The customer's open conversation, or a new one (waiting in ``queue``, or 'open' for a flow first).

        With ``buckets`` a message token is taken (unless ``messages`` is false: a call), and conversation tokens
        when it opens one, in the same step; over a limit it raises TooManyRequests with ``retry_after`` and changes nothing."""
        k = self.keys
        conv_prefix = k.conv("")
        keys = [k.customer(customer_id), k.conv(new_id), k.ctx(new_id), k.timeline(new_id), k.queue(queue),
                k.conv_channel(new_id)]
        args: list[str | int | float] = [
            new_id, customer_id, queue, now, encode({"customer_id": customer_id, "context": context}),
            encode({"state": "queued", "queue": queue} if queued else {"state": "open"}),
            encode(context) if context else "{}", conv_prefix, "queued" if queued else "open"]
        if buckets is not None:
            keys += buckets.keys
            args += ["1" if messages else "0", *buckets.rates]
        result = await self._open(keys=keys, args=args)
        if int(result[1]) == -1:
            raise rate_limited(int(result[2]), int(result[3]))
        return Opened(_s(result[0]), bool(int(result[1])), _s(result[2]))

    async def assign(self, cid: str, queue: str, agent_id: str, agent_name: str, *, now: int) -> str:
        k = self.keys
        return _s(await self._assign(
            keys=[k.conv(cid), k.timeline(cid), k.queue(queue), k.agent(agent_id), k.agent_convs(agent_id),
                  k.agent_sessions(agent_id), k.conv_channel(cid)],
            args=[cid, agent_id, now, encode({"agent_id": agent_id, "agent_name": agent_name})]))

    async def requeue(self, cid: str, routing_queue: str, agent_id: str, reason: str, *, score: int,
                      now: int, queue_name: str = "") -> str:
        """Unassign from ``agent_id`` and queue again at ``score`` (in ``queue_name`` if given): 'ok' or
        'not_assigned'."""
        k = self.keys
        data = {"state": "queued", "reason": reason, "agent_id": agent_id, **({"queue": queue_name} if queue_name else {})}
        return _s(await self._requeue(
            keys=[k.conv(cid), k.timeline(cid), k.queue(routing_queue), k.agent_convs(agent_id), k.conv_channel(cid)],
            args=[cid, agent_id, now, encode(data), score, queue_name]))

    async def transfer(self, cid: str, from_agent: str, to_agent: str, to_name: str, *, now: int) -> str:
        """Move an assigned conversation to another agent: 'ok', 'not_assigned', 'agent_unavailable',
        'agent_offline' or 'agent_full'."""
        k = self.keys
        return _s(await self._transfer(
            keys=[k.conv(cid), k.timeline(cid), k.agent_convs(from_agent), k.agent(to_agent), k.agent_convs(to_agent),
                  k.agent_sessions(to_agent), k.conv_channel(cid)],
            args=[cid, from_agent, to_agent, now,
                  encode({"agent_id": to_agent, "agent_name": to_name, "transferred_from": from_agent})]))

    async def close(self, cid: str, queue: str, agent_id: str, disposition: str, *, now: int) -> str:
        k = self.keys
        return _s(await self._close(
            keys=[k.conv(cid), k.timeline(cid), k.queue(queue), k.agent_convs(agent_id), k.agent(agent_id),
                  k.conv_channel(cid), k.closed_index],
            args=[cid, agent_id, now, encode({"agent_id": agent_id, "disposition": disposition})]))

    async def enqueue(self, cid: str, routing_queue: str, queue_name: str, *, now: int, skills: str = "",
                      priority: int = 0) -> str:
        """'ok', or the state that prevented it (queued, assigned, closed), or 'not_found'.

        ``skills``: what an agent needs (``"billing:3,spanish:1"``); ``priority``: higher goes first."""
        k = self.keys
        data = {"state": "queued", "queue": queue_name, **({"skills": skills} if skills else {}),
                **({"priority": priority} if priority else {})}
        return _s(await self._enqueue(
            keys=[k.conv(cid), k.timeline(cid), k.queue(routing_queue), k.conv_channel(cid)],
            args=[cid, now, encode(data), queue_name, skills, priority]))

    async def set_context(self, cid: str, values: dict[str, str], *, now: int) -> str:
        k = self.keys
        result = _s(await self._context(keys=[k.conv(cid), k.ctx(cid), k.timeline(cid), k.conv_channel(cid)],
                                        args=[now, encode(values), self.max_timeline_events]))
        if result == "timeline_full":
            raise _timeline_full(cid)
        return result

    async def conversation(self, cid: str) -> dict[str, str] | None:
        raw = await self.redis.hgetall(self.keys.conv(cid))
        return {_s(a): _s(b) for a, b in raw.items()} if raw else None

    async def context(self, cid: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.keys.ctx(cid))
        return {_s(a): _s(b) for a, b in raw.items()}

    async def events(self, cid: str, after: str | None = None, count: int | None = None) -> list[dict[str, Any]]:
        start = f"({after}" if after else "-"
        rows: list[tuple[bytes, dict[bytes, bytes]]] = await self.redis.xrange(  # type: ignore[assignment]
            self.keys.timeline(cid), min=start, max="+", count=count)
        return [to_event(cid, _s(eid), _s(fields[b"type"]), _s(fields[b"data"])) for eid, fields in rows]

    async def last_event(self, cid: str, typ: str) -> dict[str, Any] | None:
        rows: list[tuple[bytes, dict[bytes, bytes]]] = await self.redis.xrevrange(  # type: ignore[assignment]
            self.keys.timeline(cid), count=50)
        for eid, fields in rows:
            if _s(fields[b"type"]) == typ:
                return to_event(cid, _s(eid), typ, _s(fields[b"data"]))
        return None


@dataclass(frozen=True, slots=True)
class Buckets:
    """The token buckets a customer's requests take from (made by gateway/contact/limits.py)."""

    keys: tuple[str, str, str, str]   # messages of the customer, of the address; conversations of each
    rates: tuple[float, ...]          # (capacity, ms per token) of each, in that order


def rate_limited(wait_ms: int, bucket: int) -> TooManyRequests:
    """The error for a request ``wait_ms`` short of a token in ``bucket`` (0-1: messages, 2-3: conversations)."""
    retry_after = max(1, math.ceil(wait_ms / 1000))
    text = "You're sending messages too fast" if bucket in (0, 1) else "Too many new conversations"
    return TooManyRequests(f"{text}; try again in {retry_after} s", retry_after=retry_after)


def _timeline_full(cid: str) -> Conflict:
    return Conflict("this conversation has reached its length limit; nothing more can be added to it "
                    "(it can still be closed, and the next message then starts a new one)",
                    field="conversation_id", code="timeline_full")


def to_event(cid: str, event_id: str, typ: str, data: str | dict[str, Any]) -> dict[str, Any]:
    payload = json.loads(data) if isinstance(data, str) else data
    return {"id": event_id, "type": typ, "ts": int(event_id.split("-", 1)[0]), "conversation_id": cid, **payload}


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
