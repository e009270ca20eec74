"""Callbacks: "we'll call you back, you keep your place".

A flow's ``callback`` node books one (:class:`ivr.actions.RequestCallback`);
from then on it lives in Redis only, so any node can deliver it and a node
that stops loses nothing:

    scheduled --due--> queued --an agent is assigned--> ringing --the call connects--> closed (reached)
        ^                                                   |
        +------------- no answer, attempts left ------------+--> closed (unreachable / wrong_number)
    scheduled / queued / ringing --customer cancels, expiry, conversation closed--> closed

* **scheduled**: in ``P:cb:due`` until its time (``asap``: at once).
* **queued**: the conversation waits in the routing queue at the callback's
  *place*: the time it was booked, so an ``asap`` callback keeps the caller's
  place ahead of everyone who came later; a scheduled one enters at its time.
* **ringing**: an agent has the conversation (a "callback task" with its whole
  timeline); the customer's widget rings (the ``callback`` event with
  ``action: attempt``) for ``callback_ring_seconds``. Answering is an ordinary
  call from the widget, which rings that same agent. A callback with a phone
  number also shows the number: the agent may dial it and record the outcome.
* **closed**: with an outcome (``reached``, ``unreachable``, ``wrong_number``,
  ``cancelled``, ``declined``, ``expired``, ``conversation_closed``, ``replaced``).

Every transition is one Lua script that checks the state it starts from and
writes the timeline event in the same step: two nodes sweeping at once, or a
node restarting mid-way, can neither lose a callback nor deliver it twice.
``clock`` (ms) is replaceable so tests can move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gateway.contact.routing import Router, now_ms
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.store.store import _APPEND, Store, _s
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SWEEP_SECONDS = 0.5
RECOVERY_SECONDS = 5.0
BATCH = 100


class CallbackState:
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RINGING = "ringing"
    CONNECTING = "connecting"   # the customer answered: their call is on its way to the agent
    CLOSED = "closed"


# Book a callback on a conversation that is not closed and has no open callback.
# KEYS: conv, timeline, cb, due, open, conv channel   ARGV: id, now, due ms, expires ms, fields json, event json,
# callback key prefix.   Returns 'ok', 'not_found', 'closed' or 'exists:<open callback id>'.
_REQUEST = _APPEND + """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state == 'closed' then return 'closed' end
local existing = redis.call('HGET', KEYS[1], 'callback_id')
if existing and existing ~= '' then
  local other = redis.call('HGET', ARGV[7] .. existing, 'state')
  if other and other ~= 'closed' then return 'exists:' .. existing end
end
for k, v in pairs(cjson.decode(ARGV[5])) do redis.call('HSET', KEYS[3], k, v) end
redis.call('HSET', KEYS[3], 'state', 'scheduled', 'attempts', 0)
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[1], 'callback_id', ARGV[1])
append(KEYS[2], KEYS[1], KEYS[6], 'callback', ARGV[6], ARGV[2])
return 'ok'
"""

# Move one due callback into the routing queue (its conversation, at the callback's place).
# KEYS: cb, due, open, routing queue, queued set   ARGV: id, now, conv key prefix, conv channel prefix
_CLAIM = _APPEND + """
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 'not_due' end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], 'state') ~= 'scheduled' then return 'not_scheduled' end
local cid = redis.call('HGET', KEYS[1], 'conversation_id')
local conv = ARGV[3] .. cid
local tl, chan = conv .. ':tl', ARGV[4] .. cid
local cstate = redis.call('HGET', conv, 'state')
if (not cstate) or cstate == 'closed' then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'outcome', 'conversation_closed', 'closed_ms', ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
  if cstate then
    redis.call('HDEL', conv, 'callback_id')
    append(tl, conv, chan, 'callback', cjson.encode({callback_id = ARGV[1], action = 'closed', state = 'closed',
      outcome = 'conversation_closed'}), ARGV[2])
  end
  return 'closed'
end
-- 'routed': this callback put the conversation in the queue (it was open), so ending the callback takes it out
-- again; a conversation already waiting or with an agent (a chat) stays where it is whatever the callback does
redis.call('HSET', KEYS[1], 'routed', cstate == 'open' and '1' or '0')
if cstate == 'open' then
  local f = redis.call('HMGET', KEYS[1], 'place_ms', 'queue', 'skills', 'priority')
  redis.call('HSET', conv, 'state', 'queued', 'queue', f[2], 'queued_at', f[1], 'skills', f[3] or '',
             'priority', f[4] or '0')
  redis.call('ZADD', KEYS[4], f[1], cid)
  append(tl, conv, chan, 'state', cjson.encode({state = 'queued', queue = f[2], reason = 'callback'}), ARGV[2])
end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('SADD', KEYS[5], ARGV[1])
append(tl, conv, chan, 'callback', cjson.encode({callback_id = ARGV[1], action = 'queued', state = 'queued',
  attempt = tonumber(redis.call('HGET', KEYS[1], 'attempts')) + 1}), ARGV[2])
return 'queued'
"""

# The conversation of a queued callback is with an agent now: one delivery attempt starts (the widget rings).
# KEYS: cb, ringing, queued set   ARGV: id, now, ring ms, conv key prefix, conv channel prefix, agent key prefix
_OFFER = _APPEND + """
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 'not_queued' end
local cid = redis.call('HGET', KEYS[1], 'conversation_id')
local conv = ARGV[4] .. cid
if redis.call('HGET', conv, 'state') ~= 'assigned' then return 'not_assigned' end
local agent = redis.call('HGET', conv, 'agent_id')
local name = redis.call('HGET', ARGV[6] .. agent, 'name') or agent
local f = redis.call('HMGET', KEYS[1], 'attempts', 'max_attempts', 'phone', 'label')
local attempt = tonumber(f[1]) + 1
local ring_until = tonumber(ARGV[2]) + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'ringing', 'attempts', attempt, 'agent_id', agent, 'ring_until', ring_until)
redis.call('ZADD', KEYS[2], ring_until, ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
append(conv .. ':tl', conv, ARGV[5] .. cid, 'callback', cjson.encode({callback_id = ARGV[1], action = 'attempt',
  state = 'ringing', attempt = attempt, max_attempts = tonumber(f[2]), agent_id = agent, agent_name = name,
  ring_until = ring_until, phone = f[3], label = f[4]}), ARGV[2])
return 'ok'
"""

# The customer answered the ringing: their call is on its way to the agent (no ring timeout any more).
# KEYS: cb, ringing   ARGV: id
_ANSWERING = """
if redis.call('HGET', KEYS[1], 'state') ~= 'ringing' then return 'not_ringing' end
redis.call('HSET', KEYS[1], 'state', 'connecting')
redis.call('ZREM', KEYS[2], ARGV[1])
return 'ok'
"""

# End an attempt or the callback. mode 'keep': close, the conversation stays where it is (reached, wrong number);
# 'retry': no answer: schedule the next attempt (the conversation leaves its agent) or close as unreachable once
# the attempts are used up (the conversation stays with the agent to wrap up); 'cancel': close and take the
# conversation out of the queue / away from its agent. Only a conversation the callback itself routed is taken
# back (see 'routed' in the claim): a chat that was waiting or with an agent before stays there.
# KEYS: cb, due, open, ringing, routing queue, queued set
# ARGV: id, now, outcome, mode, required agent ('' any), conv key prefix, conv channel prefix, agent key prefix,
#       allowed states (comma list, '' any)
# Returns {result, released agent id}: result 'retry', 'closed_now', or why nothing changed.
_FINISH = _APPEND + """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'not_found', ''} end
if state == 'closed' then return {'closed', ''} end
if ARGV[9] ~= '' and not string.find(',' .. ARGV[9] .. ',', ',' .. state .. ',', 1, true) then
  return {'state_' .. state, ''}
end
if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[5] then return {'not_yours', ''} end
local cid = redis.call('HGET', KEYS[1], 'conversation_id')
local conv = ARGV[6] .. cid
local tl, chan = conv .. ':tl', ARGV[7] .. cid
local f = redis.call('HMGET', KEYS[1], 'attempts', 'max_attempts', 'retry_ms')
local attempts, max_attempts = tonumber(f[1]), tonumber(f[2])
local retry = ARGV[4] == 'retry' and attempts < max_attempts
local released = ''
if (retry or ARGV[4] == 'cancel') and redis.call('HGET', KEYS[1], 'routed') == '1' then
  local cstate = redis.call('HGET', conv, 'state')
  if cstate == 'queued' then
    redis.call('ZREM', KEYS[5], cid)
    redis.call('HSET', conv, 'state', 'open', 'queued_at', '')
    append(tl, conv, chan, 'state', cjson.encode({state = 'open', reason = 'callback_' .. ARGV[3]}), ARGV[2])
  elseif cstate == 'assigned' and state ~= 'scheduled' then
    released = redis.call('HGET', conv, 'agent_id')
    redis.call('SREM', ARGV[8] .. released .. ':convs', cid)
    redis.call('HSET', conv, 'state', 'open', 'agent_id', '')
    append(tl, conv, chan, 'state', cjson.encode({state = 'open', reason = 'callback_' .. ARGV[3],
      agent_id = released}), ARGV[2])
  end
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
if retry then
  local due = tonumber(ARGV[2]) + tonumber(f[3])
  redis.call('HSET', KEYS[1], 'state', 'scheduled', 'due_ms', due, 'agent_id', '')
  redis.call('ZADD', KEYS[2], due, ARGV[1])
  append(tl, conv, chan, 'callback', cjson.encode({callback_id = ARGV[1], action = 'outcome', state = 'scheduled',
    outcome = ARGV[3], attempt = attempts, max_attempts = max_attempts, next_attempt_ms = due}), ARGV[2])
  return {'retry', released}
end
local outcome = ARGV[3]
if ARGV[4] == 'retry' then outcome = 'unreachable' end
redis.call('HSET', KEYS[1], 'state', 'closed', 'outcome', outcome, 'closed_ms', ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', conv, 'callback_id')
append(tl, conv, chan, 'callback', cjson.encode({callback_id = ARGV[1], action = 'closed', state = 'closed',
  outcome = outcome, last = ARGV[3], attempt = attempts, max_attempts = max_attempts}), ARGV[2])
return {'closed_now', released}
"""


class Callbacks:
    def __init__(self, store: Store, router: Router, *, ring_seconds: float = 60.0,
                 clock: Callable[[], int] = now_ms) -> None:
        self.store = store
        self.router = router
        self.ring_ms = int(ring_seconds * 1000)
        self.clock = clock
        redis = store.redis
        self._request = redis.register_script(_REQUEST)
        self._claim = redis.register_script(_CLAIM)
        self._offer = redis.register_script(_OFFER)
        self._answering = redis.register_script(_ANSWERING)
        self._finish = redis.register_script(_FINISH)
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_recovery = 0.0

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="callbacks")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def kick(self) -> None:
        self._kick.set()

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=SWEEP_SECONDS)
            except TimeoutError:
                pass
            self._kick.clear()
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("callback sweep failed")
                await asyncio.sleep(SWEEP_SECONDS)

    # ---------------------------------------------------------------- booking

    async def request(self, cid: str, *, queue: str, due: datetime | None, label: str, priority: int = 0,
                      skills: str = "", phone: str = "", attempts: int = 3, retry_after: float = 600.0,
                      expire_after: float = 86400.0) -> str:
        """Book a callback for conversation ``cid``; returns its id. A callback still open on the conversation
        is replaced (closed with outcome ``replaced``)."""
        k = self.store.keys
        conv = await self.store.conversation(cid)
        if conv is None:
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        now = self.clock()
        due_ms = now if due is None else max(now, int(due.timestamp() * 1000))
        cb_id = "cb_" + secrets.token_hex(8)
        expires_ms = due_ms + int(expire_after * 1000)
        fields: dict[str, str | int] = {
            "id": cb_id, "conversation_id": cid, "customer_id": conv.get("customer_id", ""), "queue": queue,
            "priority": priority, "skills": skills, "phone": phone[:40], "label": label[:100], "created_ms": now,
            "due_ms": due_ms, "place_ms": due_ms, "max_attempts": max(1, attempts),
            "retry_ms": int(retry_after * 1000), "expires_ms": expires_ms}
        event = {"callback_id": cb_id, "action": "requested", "state": CallbackState.SCHEDULED, "queue": queue,
                 "asap": due is None, "due_ms": due_ms, "label": fields["label"], "phone": fields["phone"],
                 "max_attempts": fields["max_attempts"]}
        for _ in range(3):
            result = _s(await self._request(
                keys=[k.conv(cid), k.timeline(cid), k.callback(cb_id), k.callbacks_due, k.callbacks_open,
                      k.conv_channel(cid)],
                args=[cb_id, now, due_ms, expires_ms, json.dumps(fields), json.dumps(event),
                      k.callback("")]))
            if result == "ok":
                log.info("callback %s booked (%s)", cb_id, "asap" if due is None else due.isoformat(),
                         extra={"conversation_id": cid})
                self.kick()
                return cb_id
            if result.startswith("exists:"):
                await self.finish(result.split(":", 1)[1], "replaced", "cancel")
                continue
            raise Conflict(f"cannot book a callback: the conversation is {result.replace('_', ' ')}",
                           field="conversation_id")
        raise Conflict("the conversation's callback kept changing; try again", field="conversation_id")

    # ---------------------------------------------------------------- reading

    async def get(self, cb_id: str) -> dict[str, str] | None:
        raw = await self.store.redis.hgetall(self.store.keys.callback(cb_id))
        return {_s(a): _s(b) for a, b in raw.items()} if raw else None

    async def of_conversation(self, cid: str) -> dict[str, Any] | None:
        """The conversation's open callback, as clients see it, or None."""
        cb_id = await self.store.redis.hget(self.store.keys.conv(cid), "callback_id")
        if not cb_id:
            return None
        cb = await self.get(_s(cb_id))
        if cb is None or cb.get("state") == CallbackState.CLOSED:
            return None
        return public(cb)

    async def listing(self, limit: int = 500) -> list[dict[str, Any]]:
        """Open callbacks with their conversation and customer, soonest due first (supervisors' view)."""
        k = self.store.keys
        ids = [_s(i) for i in await self.store.redis.zrange(k.callbacks_open, 0, limit - 1)]
        pipe = self.store.redis.pipeline(transaction=False)
        for cb_id in ids:
            pipe.hgetall(k.callback(cb_id))
        out = []
        for raw in await pipe.execute() if ids else []:
            cb = {_s(a): _s(b) for a, b in raw.items()}
            if cb and cb.get("state") != CallbackState.CLOSED:
                out.append({**public(cb), "conversation_id": cb.get("conversation_id", ""),
                            "customer_id": cb.get("customer_id", ""), "agent_id": cb.get("agent_id", ""),
                            "expires_ms": int(cb.get("expires_ms") or 0)})
        return sorted(out, key=lambda c: (c["due_ms"], c["id"]))

    # ---------------------------------------------------------------- delivery

    async def sweep(self) -> None:
        """One pass: due callbacks into the queue, expired ones closed, unanswered ringing counted, and (every
        few seconds) any queued callback whose conversation an agent already has (a node stopped before
        starting the attempt) offered."""
        k = self.store.keys
        redis = self.store.redis
        now = self.clock()
        for cb_id in await redis.zrangebyscore(k.callbacks_due, "-inf", now, start=0, num=BATCH):
            result = _s(await self._claim(keys=[k.callback(_s(cb_id)), k.callbacks_due, k.callbacks_open,
                                                k.queue(self.router.queue), k.callbacks_queued],
                                          args=[_s(cb_id), now, k.conv(""), k.conv_channel("")]))
            if result == "queued":
                log.info("callback %s is in the queue", _s(cb_id))
                await self._queue_changed()
        for cb_id in await redis.zrangebyscore(k.callbacks_open, "-inf", now, start=0, num=BATCH):
            await self.finish(_s(cb_id), "expired", "cancel", only="scheduled,queued")
        for cb_id in await redis.zrangebyscore(k.callbacks_ringing, "-inf", now, start=0, num=BATCH):
            cb = await self.get(_s(cb_id))
            if cb is not None and cb.get("phone"):
                await redis.zrem(k.callbacks_ringing, _s(cb_id))  # the agent dials the number and says how it went
            else:
                await self.finish(_s(cb_id), "no_answer", "retry", only="ringing")
        if time.monotonic() >= self._next_recovery:
            self._next_recovery = time.monotonic() + RECOVERY_SECONDS
            await self._recover()

    async def _recover(self) -> None:
        """Queued callbacks whose conversation an agent already holds: the node that assigned it stopped before
        starting the attempt. Checked every few seconds, in two pipelined round trips."""
        k = self.store.keys
        redis = self.store.redis
        ids = [_s(i) for i in await redis.smembers(k.callbacks_queued)]
        if not ids:
            return
        pipe = redis.pipeline(transaction=False)
        for cb_id in ids:
            pipe.hget(k.callback(cb_id), "conversation_id")
        cids = [_s(c) if c is not None else "" for c in await pipe.execute()]
        pipe = redis.pipeline(transaction=False)
        for cid in cids:
            pipe.hget(k.conv(cid), "state")
        states = await pipe.execute()
        for cid, state in zip(cids, states, strict=True):
            if cid and state is not None and _s(state) == "assigned":
                await self.assigned(cid)

    async def assigned(self, cid: str, agent_id: str = "") -> None:
        """Routing gave ``cid`` to an agent: if it carries a queued callback, an attempt starts."""
        k = self.store.keys
        cb_id = await self.store.redis.hget(k.conv(cid), "callback_id")
        if not cb_id:
            return
        result = _s(await self._offer(keys=[k.callback(_s(cb_id)), k.callbacks_ringing, k.callbacks_queued],
                                      args=[_s(cb_id), self.clock(), self.ring_ms, k.conv(""), k.conv_channel(""),
                                            k.agent("")]))
        if result == "ok":
            log.info("callback %s: ringing the customer", _s(cb_id), extra={"conversation_id": cid})

    async def answering(self, cid: str) -> None:
        """The customer called in on a conversation whose callback rings: no ring timeout while it connects."""
        cb = await self.of_conversation(cid)
        if cb is not None:
            k = self.store.keys
            await self._answering(keys=[k.callback(cb["id"]), k.callbacks_ringing], args=[cb["id"]])

    async def reached(self, cid: str) -> None:
        """An agent is talking with the customer of ``cid``: its callback is done."""
        cb = await self.of_conversation(cid)
        if cb is not None and cb["state"] in (CallbackState.RINGING, CallbackState.CONNECTING):
            await self.finish(cb["id"], "reached", "keep", only="ringing,connecting")

    async def call_ended(self, cid: str) -> None:
        """The customer's call ended; a callback still connecting (nobody answered) counts as not reached."""
        cb = await self.of_conversation(cid)
        if cb is not None and cb["state"] == CallbackState.CONNECTING:
            await self.finish(cb["id"], "no_answer", "retry", only="connecting")

    async def conversation_closed(self, cid: str) -> None:
        """The agent closed the conversation: a callback still open in it ends with it."""
        cb = await self.of_conversation(cid)
        if cb is not None:
            await self.finish(cb["id"], "conversation_closed", "keep")

    async def record_outcome(self, agent_id: str, cb_id: str, outcome: str) -> str:
        """The agent's word on an attempt: reached, no_answer (retry or unreachable) or wrong_number."""
        mode = "retry" if outcome == "no_answer" else "keep"
        result = await self.finish(cb_id, outcome, mode, agent_id=agent_id, only="ringing,connecting")
        if result == "not_found":
            raise NotFound(f"no callback {cb_id}", field="callback_id")
        if result == "not_yours":
            raise Forbidden("this callback is being delivered by another agent", field="callback_id")
        if result not in ("retry", "closed_now"):
            raise Conflict(f"the callback is not being delivered now ({result.replace('state_', '')})",
                           field="callback_id", code="not_ringing")
        return result

    async def cancel(self, customer_id: str, cb_id: str, reason: str = "cancelled") -> None:
        cb = await self.get(cb_id)
        if cb is None or cb.get("customer_id") != customer_id:
            raise NotFound(f"no callback {cb_id} of yours", field="callback_id")
        result = await self.finish(cb_id, reason, "cancel")
        if result == "closed":
            raise Conflict("the callback is already closed", field="callback_id", code="callback_closed")

    async def finish(self, cb_id: str, outcome: str, mode: str, *, agent_id: str = "", only: str = "") -> str:
        k = self.store.keys
        result, released = await self._finish(
            keys=[k.callback(cb_id), k.callbacks_due, k.callbacks_open, k.callbacks_ringing,
                  k.queue(self.router.queue), k.callbacks_queued],
            args=[cb_id, self.clock(), outcome, mode, agent_id, k.conv(""), k.conv_channel(""), k.agent(""), only])
        result, released = _s(result), _s(released)
        if result in ("retry", "closed_now"):
            log.info("callback %s: %s (%s)", cb_id, outcome, "next attempt scheduled" if result == "retry" else "closed")
            cb = await self.get(cb_id)
            if released and cb is not None:
                await self.store.redis.publish(k.agent_channel(released), json.dumps({
                    "kind": "unassigned", "conversation_id": cb["conversation_id"], "reason": f"callback_{outcome}"}))
            await self._queue_changed()
        return result

    async def _queue_changed(self) -> None:
        self.router.kick()
        await self.store.redis.publish(self.store.keys.queue_channel, '{"kind":"queue"}')


def public(cb: dict[str, str]) -> dict[str, Any]:
    """What the customer's widget and the agent's desk see of a callback."""
    return {"id": cb["id"], "state": cb.get("state", ""), "queue": cb.get("queue", ""),
            "label": cb.get("label", ""), "phone": cb.get("phone", ""), "due_ms": int(cb.get("due_ms") or 0),
            "attempt": int(cb.get("attempts") or 0), "max_attempts": int(cb.get("max_attempts") or 1),
            "ring_until": int(cb.get("ring_until") or 0) if cb.get("state") == CallbackState.RINGING else 0}
