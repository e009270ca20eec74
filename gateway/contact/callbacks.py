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
  call from the widget to that same agent, whose desk connects it at once (the
  ``ringing`` it gets has reason ``callback``). A callback with a phone
  number also shows the number: the agent may dial it and record the outcome.
* **closed**: with an outcome (``reached``, ``unreachable``, ``wrong_number``,
  ``cancelled``, ``declined``, ``expired``, ``conversation_closed``, ``replaced``,
  ``agent_cancelled``).

A customer who writes in the chat while a callback is booked for later is
answered in the chat now (gateway/wire/customer_socket.py queues the
conversation like any chat); the callback stays booked and rides along with
the conversation (``routed`` 0): the agent sees it and may cancel it
(:meth:`Callbacks.cancel_by_agent`) or keep it, and when it falls due while
the conversation is still theirs, it rings for them. Closing the conversation
closes it (``conversation_closed``).

Every transition is one Lua script that checks the state it starts from and
writes the timeline event in the same step: two nodes sweeping at once, or a
node restarting mid-way, can neither lose a callback nor deliver it twice
(``gateway/store/lua/*_callback-N.lua``, run by ``gateway/store/callback_store.py``).
``clock`` (ms) is replaceable so tests can move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.contact.routing import DEFAULT_QUEUE, now_ms
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.metrics import Metrics
from gateway.protocol import bus
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import AttemptOutcome, CallbackState
from gateway.store.callback_store import CallbackStore
from gateway.store.store import Store, StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SWEEP_SECONDS = 0.5
RECOVERY_SECONDS = 5.0
BATCH = 100


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The customer answered a callback ringing in their widget: the agent who holds it, and its place in line (the
    booking: a call that goes back to the queue keeps it)."""

    agent_id: str
    place_ms: int


class Callbacks:
    def __init__(
        self,
        store: Store,
        queue: str = DEFAULT_QUEUE,
        *,
        wake_router: Callable[[], None],
        ring_seconds: float,
        clock: Callable[[], int] = now_ms,
        recovery_seconds: float | None = RECOVERY_SECONDS,
        metrics: Metrics | None = None,
    ) -> None:
        """``queue``: the router's queue key (where a due callback waits for an agent); ``wake_router``: tells
        routing that something waits (the router is built after this, with :meth:`assigned` as its hook).
        ``recovery_seconds``: how often a sweep also offers queued callbacks an agent already holds
        (None: only when asked, ``sweep(recover=True)``; tests that watch a callback wait in the queue)."""
        self.metrics = metrics if metrics is not None else Metrics()  # bookings and outcomes (gateway/metrics.py)
        self.store = store
        self.queue = queue
        self.wake_router = wake_router
        self.ring_ms = int(ring_seconds * 1000)
        self.clock = clock
        self.recovery_seconds = recovery_seconds
        self.db = CallbackStore(store)
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
            except StoreError as exc:  # Redis down or restarting: the next sweep tries again (no traceback)
                log.warning("callback sweep failed: %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(SWEEP_SECONDS)
            except Exception:
                log.exception("callback sweep failed")
                await asyncio.sleep(SWEEP_SECONDS)

    # ---------------------------------------------------------------- booking

    async def request(
        self,
        cid: str,
        *,
        queue: str,
        due: datetime | None,
        label: str,
        priority: int = 0,
        skills: str = "",
        phone: str = "",
        attempts: int = 3,
        retry_after: float = 600.0,
        expire_after: float = 86400.0,
        place_ms: int | None = None,
    ) -> str:
        """Book a callback for conversation ``cid``; returns its id. A callback still open on the conversation
        is replaced (closed with outcome ``replaced``). ``place_ms``: its place in line when it is queued (default:
        when it falls due; a conversation that waited already keeps its place)."""
        conv = await self.store.conversation(cid)
        if conv is None:
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        now = self.clock()
        due_ms = now if due is None else max(now, int(due.timestamp() * 1000))
        cb_id = "cb_" + secrets.token_hex(8)
        existing: str | None = conv.get("callback_id", "")
        expires_ms = due_ms + int(expire_after * 1000)
        fields: dict[str, str | int] = {
            "id": cb_id,
            "conversation_id": cid,
            "customer_id": conv.get("customer_id", ""),
            "queue": queue,
            "priority": priority,
            "skills": skills,
            "phone": phone[:40],
            "label": label[:100],
            "created_ms": now,
            "due_ms": due_ms,
            "place_ms": due_ms if place_ms is None else min(place_ms, due_ms),
            "max_attempts": max(1, attempts),
            "retry_ms": int(retry_after * 1000),
            "expires_ms": expires_ms,
        }
        event = {
            "callback_id": cb_id,
            "action": "requested",
            "state": CallbackState.SCHEDULED,
            "queue": queue,
            "asap": due is None,
            "due_ms": due_ms,
            "label": fields["label"],
            "phone": fields["phone"],
            "max_attempts": fields["max_attempts"],
        }
        for _ in range(3):
            result = await self.db.request(
                cid,
                cb_id,
                now=now,
                due_ms=due_ms,
                expires_ms=expires_ms,
                fields=fields,
                event=event,
                existing_hint=existing,
            )
            existing = None  # a second round reads it again
            if result == "ok":
                log.info(
                    "callback %s booked (%s)",
                    cb_id,
                    "asap" if due is None else due.isoformat(),
                    extra={"conversation_id": cid},
                )
                self.metrics.callbacks_booked.inc()
                self.kick()
                return cb_id
            if result.startswith("exists:"):
                await self.finish(result.split(":", 1)[1], "replaced", "cancel")
                continue
            raise Conflict(
                f"cannot book a callback: the conversation is {result.replace('_', ' ')}", field="conversation_id"
            )
        raise Conflict("the conversation's callback kept changing; try again", field="conversation_id")

    # ---------------------------------------------------------------- reading

    async def get(self, cb_id: str) -> dict[str, str] | None:
        return await self.db.get(cb_id)

    async def of_conversation(self, cid: str) -> dict[str, Any] | None:
        """The conversation's open callback, as clients see it, or None."""
        cb_id = await self.db.of_conversation(cid)
        if not cb_id:
            return None
        cb = await self.get(cb_id)
        if cb is None or cb.get("state") == CallbackState.CLOSED:
            return None
        return public(cb)

    async def open_ones(self, cb_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """:meth:`of_conversation` for callbacks whose ids are known, in one round trip: id -> public view, None
        where closed or gone."""
        found = await self.db.many(cb_ids)
        return {
            cb_id: public(cb) if cb and cb.get("state") != CallbackState.CLOSED else None
            for cb_id, cb in zip(cb_ids, found, strict=True)
        }

    async def listing(self, limit: int = 500) -> list[dict[str, Any]]:
        """Open callbacks with their conversation and customer, soonest due first (supervisors' view)."""
        out = []
        for cb in await self.db.many(await self.db.open_ids(limit)):
            if cb and cb.get("state") != CallbackState.CLOSED:
                out.append(
                    {
                        **public(cb),
                        "conversation_id": cb.get("conversation_id", ""),
                        "customer_id": cb.get("customer_id", ""),
                        "agent_id": cb.get("agent_id", ""),
                        "expires_ms": int(cb.get("expires_ms") or 0),
                    }
                )
        return sorted(out, key=lambda c: (c["due_ms"], c["id"]))

    # ---------------------------------------------------------------- delivery

    async def sweep(self, *, recover: bool = False) -> None:
        """One pass: due callbacks into the queue, expired ones closed, unanswered ringing counted, and (every
        ``recovery_seconds``, or now with ``recover``) any queued callback whose conversation an agent already
        has (a node stopped before starting the attempt) offered."""
        now = self.clock()
        due = await self.db.due(now, BATCH)
        for cb_id, cid in zip(due, await self.db.conversations_of(due), strict=True):
            result = await self.db.claim(cb_id, self.queue, now=now, cid_hint=cid)
            if result == "queued":
                log.info("callback %s is in the queue", cb_id)
                await self._queue_changed()
        for cb_id in await self.db.expired(now, BATCH):
            await self.finish(cb_id, "expired", "cancel", only="scheduled,queued")
        for cb_id in await self.db.ring_ended(now, BATCH):
            cb = await self.get(cb_id)
            if cb is not None and cb.get("phone"):
                await self.db.stop_ring_timer(cb_id)  # the agent dials the number and says how it went
            else:
                await self.finish(cb_id, "no_answer", "retry", only="ringing")
        if recover or (self.recovery_seconds is not None and time.monotonic() >= self._next_recovery):
            self._next_recovery = time.monotonic() + (self.recovery_seconds or 0.0)
            await self._recover()

    async def _recover(self) -> None:
        """Queued callbacks whose conversation an agent already holds: the node that assigned it stopped before
        starting the attempt. Checked every few seconds, in two pipelined round trips."""
        for cid in await self.db.queued_with_agent():
            await self.assigned(cid)

    async def assigned(self, cid: str, agent_id: str = "") -> None:
        """Routing gave ``cid`` to an agent: if it carries a queued callback, an attempt starts.

        A routing hook: a failure here is logged and left to the recovery sweep (which offers queued callbacks
        whose conversation an agent holds), so the routing pass goes on and the agent is told."""
        try:
            offered = await self.db.offer(cid, now=self.clock(), ring_ms=self.ring_ms)
        except (Conflict, StoreError) as exc:
            log.warning(
                "callback not offered yet (the recovery sweep retries): %s", exc, extra={"conversation_id": cid}
            )
            return
        if offered is not None and offered[1] == "ok":
            log.info("callback %s: ringing the customer", offered[0], extra={"conversation_id": cid})

    async def answering(self, cid: str) -> CallbackAnswer | None:
        """The customer called in on a conversation whose callback rings: no ring timeout while it connects.
        Returns who holds that callback (they took the task: their desk connects without ringing) and its place in
        line, or None when no callback of ``cid`` was ringing."""
        cb_id = await self.db.of_conversation(cid)
        if not cb_id:
            return None
        cb = await self.get(cb_id)
        if cb is None or cb.get("state") != CallbackState.RINGING or await self.db.answering(cb_id) != "ok":
            return None
        return CallbackAnswer(cb.get("agent_id", ""), int(cb.get("place_ms") or 0))

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

    async def record_outcome(self, agent_id: str, cb_id: str, outcome: AttemptOutcome) -> str:
        """The agent's word on an attempt: reached, no_answer (retry or unreachable) or wrong_number. A callback
        without a phone number rings the customer's browser: it is reached when they answer (the gateway records
        it), so the agent's word is only ``no_answer`` (give this attempt up)."""
        cb = await self.get(cb_id)
        browser = cb is not None and cb.get("agent_id") == agent_id and not cb.get("phone")
        if browser and outcome != AttemptOutcome.NO_ANSWER:
            raise Conflict(
                "this callback rings the customer's browser (there is no number to dial): it is reached when "
                "they answer; 'no_answer' gives this attempt up",
                field="outcome",
                code=ErrorCode.BAD_FIELD,
            )
        mode = "retry" if outcome == AttemptOutcome.NO_ANSWER else "keep"
        result = await self.finish(cb_id, outcome, mode, agent_id=agent_id, only="ringing,connecting")
        if result == "not_found":
            raise NotFound(f"no callback {cb_id}", field="callback_id")
        if result == "not_yours":
            raise Forbidden("this callback is being delivered by another agent", field="callback_id")
        if result not in ("retry", "closed_now"):
            raise Conflict(
                f"the callback is not being delivered now ({result.replace('state_', '')})",
                field="callback_id",
                code=ErrorCode.NOT_RINGING,
            )
        return result

    async def cancel(self, customer_id: str, cb_id: str, reason: str = "cancelled") -> None:
        cb = await self.get(cb_id)
        if cb is None or cb.get("customer_id") != customer_id:
            raise NotFound(f"no callback {cb_id} of yours", field="callback_id")
        result = await self.finish(cb_id, reason, "cancel")
        if result == "closed":
            raise Conflict("the callback is already closed", field="callback_id", code=ErrorCode.CALLBACK_CLOSED)

    async def cancel_by_agent(self, agent_id: str, cb_id: str) -> None:
        """The agent who holds the conversation (the customer wrote while its callback was booked, and the chat
        reached them) cancels the booked callback: closed as ``agent_cancelled``, the conversation stays theirs.
        A callback being delivered is ended with an outcome instead (:meth:`record_outcome`)."""
        cb = await self.get(cb_id)
        conv = await self.store.conversation(cb["conversation_id"]) if cb is not None else None
        if cb is None or conv is None:
            raise NotFound(f"no callback {cb_id}", field="callback_id")
        if conv.get("agent_id") != agent_id:
            raise Forbidden("the callback's conversation is not assigned to you", field="callback_id")
        result = await self.finish(cb_id, "agent_cancelled", "keep", only="scheduled,queued")
        if result in ("closed", "not_found"):
            raise Conflict("the callback is already closed", field="callback_id", code=ErrorCode.CALLBACK_CLOSED)
        if result != "closed_now":  # ringing or connecting
            raise Conflict("the callback is ringing the customer now: say how the attempt went", field="callback_id")

    async def finish(self, cb_id: str, outcome: str, mode: str, *, agent_id: str = "", only: str = "") -> str:
        result, released = await self.db.finish(
            cb_id, self.queue, now=self.clock(), outcome=outcome, mode=mode, agent_id=agent_id, only=only
        )
        if result in ("retry", "closed_now"):
            self.metrics.callback_finished(outcome)
            log.info(
                "callback %s: %s (%s)", cb_id, outcome, "next attempt scheduled" if result == "retry" else "closed"
            )
            cb = await self.get(cb_id)
            if released and cb is not None:
                await self.store.publish(
                    self.store.keys.agent_channel(released),
                    bus.Unassigned(cb["conversation_id"], f"callback_{outcome}"),
                )
            await self._queue_changed()
        return result

    async def _queue_changed(self) -> None:
        self.wake_router()
        await self.store.publish(self.store.keys.queue_channel, bus.QueueChanged())


def public(cb: dict[str, str]) -> dict[str, Any]:
    """What the customer's widget and the agent's desk see of a callback."""
    return {
        "id": cb["id"],
        "state": cb.get("state", ""),
        "queue": cb.get("queue", ""),
        "label": cb.get("label", ""),
        "phone": cb.get("phone", ""),
        "due_ms": int(cb.get("due_ms") or 0),
        "attempt": int(cb.get("attempts") or 0),
        "max_attempts": int(cb.get("max_attempts") or 1),
        "ring_until": int(cb.get("ring_until") or 0) if cb.get("state") == CallbackState.RINGING else 0,
    }
