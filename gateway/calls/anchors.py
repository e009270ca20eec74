"""Which node holds each call, and where every live call stands: the call registry in Redis (``P:call:ID``).

A call is registered when its node answers the caller's offer (:class:`~gateway.calls.manager.CallManager`) and
leaves the registry when it ends, in the same step that writes ``call_ended`` on its conversation's timeline
(``end_call-7.lua``): whoever ends it first, its own node or the survivor that took a dead node over
(:mod:`gateway.calls.takeover`), writes the end, the other finds nothing. In between, the entry says where the
call stands: ``status`` (what the customer sees: connecting, ivr, waiting, ringing, connected), the hand-off
``state`` (:class:`~gateway.calls.handoff.HandoffState`, '' before the queue), ``agent_id`` and
``consult_agent_id``, ``answered``, ``queued_ms`` (its place in the queue), ``held``, ``supervisors`` (whom the
agent hears: :func:`~gateway.calls.monitors.audible`), ``started_ms`` and the
caller's ``address`` (its call slot, gateway/contact/limits.py). It is indexed per node, per customer and per
agent, so a ``welcome`` on any node lists the live calls of the customer or agent (:meth:`calls_of_customer`,
:meth:`calls_of_agent`) and the commands (:mod:`gateway.calls.commands`) find the node that holds a call.

Writes follow the call without holding it up: :meth:`moved` (from a status change or a hand-off step) marks the
call and one writer task per call writes what changed since the last write, in order, until nothing has.

A write or an end that Redis refuses is not dropped: the node keeps it and tries again every
:data:`RETRY_SECONDS` until Redis takes it (an update: what changed since the last write that went through; an
end: the entry and ``call_ended`` as they were when the call ended), so a short outage at the end of a call leaves
no live-looking entry behind. An end still refused when the node stops is left to the node that takes it over.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from gateway.contact.routing import now_ms
from gateway.protocol.states import MonitorMode
from gateway.store.node_store import NodeStore
from gateway.store.store import Store, StoreError
from gateway.tasks import Tasks

log = logging.getLogger(__name__)

#: Where a call stands now: the registry fields that change during the call.
Where = Callable[[], dict[str, str]]

MOVED_RETRIES = 3
RETRY_SECONDS = 1.0  # between two tries of the writes and ends Redis refused


class CallAnchors:
    def __init__(self, store: Store, node_id: str, *, on_change: Callable[[], None] | None = None) -> None:
        """``on_change``: told after every write that went through (the supervisors' wallboard follows)."""
        self.db = NodeStore(store)
        self.on_change = on_change
        self.node_id = node_id
        self.max_events = store.max_timeline_events
        self._where: dict[str, Where] = {}  # call id -> where it stands now, for the calls of this node
        self._written: dict[str, dict[str, str]] = {}  # call id -> its fields as last written
        self._dirty: set[str] = set()
        self._writers: dict[str, asyncio.Task[None]] = {}
        self._stale: set[str] = set()  # live calls whose last update Redis refused: written again
        self._ending: dict[str, tuple[dict[str, str], dict[str, Any], int]] = {}  # refused ends: entry, data, at
        self._retrier: asyncio.Task[None] | None = None
        self._tasks = Tasks(f"call-registry-{node_id}", log)

    async def register(
        self, call_id: str, customer_id: str, conversation_id: str, where: Where, *, address: str = ""
    ) -> None:
        """The call is live on this node (raises StoreError if it could not be written: the call is refused)."""
        fields = {
            "node": self.node_id,
            "customer_id": customer_id,
            "conversation_id": conversation_id,
            "started_ms": str(now_ms()),
            "address": address,
            **where(),
        }
        await self.db.register_call(call_id, fields)
        self._where[call_id] = where
        self._written[call_id] = fields
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def moved(self, call_id: str) -> None:
        """The call's status or hand-off changed: its entry is brought up to date soon (in order)."""
        if call_id not in self._where:
            return
        self._dirty.add(call_id)
        if call_id not in self._writers:
            self._writers[call_id] = self._tasks.spawn(self._write(call_id), "write")

    async def _write(self, call_id: str) -> None:
        try:
            while call_id in self._dirty:
                self._dirty.discard(call_id)
                where, before = self._where.get(call_id), self._written.get(call_id)
                if where is None or before is None:
                    return
                now = where()
                changed = {name: value for name, value in now.items() if before.get(name) != value}
                if not changed:
                    continue
                old = {before.get("agent_id", ""), before.get("consult_agent_id", "")} - {""}
                new = {now.get("agent_id", ""), now.get("consult_agent_id", "")} - {""}
                try:
                    result = await self.db.update_call(call_id, changed, leave=old - new, join=new - old)
                except StoreError as exc:  # written again soon (it is still a difference), or by the next change
                    if call_id not in self._stale:
                        log.warning("call registry entry of %s not updated (retried): %s", call_id, exc)
                    self._stale.add(call_id)
                    self._retry_soon()
                    return
                self._stale.discard(call_id)
                self._written[call_id] = {**before, **changed}
                self._changed()
                if result == "gone":
                    return
        finally:
            self._writers.pop(call_id, None)

    async def ended(self, call_id: str, data: dict[str, Any]) -> str | None:
        """The call ended on this node: its entry goes and ``call_ended`` (``data``) is written, once. Returns
        'ok', 'not_recorded' (no timeline to write on), 'gone' (another node ended it: it took this node over)
        or None (the call was never registered). Raises StoreError when Redis refused it: the end is kept and
        written as soon as Redis takes it."""
        self._where.pop(call_id, None)
        self._dirty.discard(call_id)
        writer = self._writers.get(call_id)
        if writer is not None:
            await asyncio.gather(writer, return_exceptions=True)
        self._stale.discard(call_id)
        entry = self._written.pop(call_id, None)
        if entry is None:
            return None
        end = (entry, data, now_ms())
        try:
            return await self._end(call_id, *end)
        except StoreError:
            self._ending[call_id] = end
            self._retry_soon()
            raise

    async def _end(self, call_id: str, entry: dict[str, str], data: dict[str, Any], at: int) -> str:
        for _ in range(MOVED_RETRIES):
            result = await self.db.end_call(call_id, entry, data, now=at, max_events=self.max_events)
            if result != "moved":
                self._changed()
                return result
            found = await self.db.call(call_id)  # a write failed earlier: the stored agents are not the ones we had
            if found is None:
                return "gone"
            entry = found
        return "moved"

    async def taken_over(self, call_id: str) -> bool:
        """Whether a call registered here was ended by another node (it took this one over): its entry is gone
        (or another node's) while this node still has it."""
        if call_id not in self._written:
            return False
        return await self.db.call_node(call_id) != self.node_id

    async def entry(self, call_id: str) -> dict[str, str] | None:
        """The call's registry entry as every node sees it (None: no live call of that id)."""
        return await self.db.call(call_id)

    async def node_of(self, call_id: str) -> str | None:
        """The node holding the call, if any node does."""
        return await self.db.call_node(call_id)

    async def calls_of_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's live calls on every node (``welcome.calls``)."""
        return [
            {
                "call_id": call_id,
                "conversation_id": e.get("conversation_id", ""),
                "status": e.get("status", ""),
                # the agent's leg dropped and the caller holds for their desk (else ''): the widget says so
                "reason": "agent_reconnecting" if e.get("rejoin") == "1" else "",
                "supervisors": caller_view(listed(e.get("supervisors"))),
            }
            for call_id, e in await self.db.calls_of_customer(customer_id)
        ]

    async def calls_of_agent(self, agent_id: str) -> list[dict[str, Any]]:
        """What rings for or is connected to the agent on every node (the agent's ``welcome.calls``)."""
        return [
            {
                "call_id": call_id,
                "conversation_id": e.get("conversation_id", ""),
                "status": e.get("status", ""),
                "held": e.get("held") == "1",
                "ring_seconds": float(e.get("ring_seconds") or 0),
                "supervisors": listed(e.get("supervisors")),
                "rejoin": e.get("rejoin") == "1",  # its leg dropped: the agent's desk may offer a new one
                "answered_ms": int(e.get("answered_ms") or 0),
            }
            for call_id, e in await self.db.calls_of_agent(agent_id)
            if e.get("agent_id") == agent_id
        ]

    def _retry_soon(self) -> None:
        if self._retrier is None and not self._tasks.closed:
            self._retrier = self._tasks.spawn(self._retry(), "retry")

    async def _retry(self) -> None:
        """Every RETRY_SECONDS while Redis refuses: the refused updates written again, then the refused ends."""
        try:
            while self._stale or self._ending:
                await asyncio.sleep(RETRY_SECONDS)
                for call_id in list(self._stale):
                    self._stale.discard(call_id)
                    self.moved(call_id)  # a failure marks it again
                await self._retry_ends()
        finally:
            self._retrier = None

    async def _retry_ends(self) -> None:
        for call_id, end in list(self._ending.items()):
            try:
                result = await self._end(call_id, *end)
            except StoreError:
                return  # still refused: the next round
            self._ending.pop(call_id, None)
            log.info("call end of %s written after a Redis failure: %s", call_id, result)

    async def stop(self) -> None:
        await self._tasks.close()
        await self._retry_ends()  # once more (the calls ended just before); what is left, a survivor ends
        if self._ending:
            log.warning(
                "%d call ends not written (Redis refused them); the node that takes this one over ends them",
                len(self._ending),
            )


def listed(registry_field: str | None) -> list[dict[str, str]]:
    """The call registry's ``supervisors`` field (:func:`gateway.calls.monitors.audible` as JSON) back as the
    list; [] when unset."""
    value = json.loads(registry_field or "[]")
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


def caller_view(supervisors: list[dict[str, str]]) -> list[dict[str, str]]:
    """What the caller may know of them: one ``{"mode": "barge"}`` per supervisor barging in, no names, no ids."""
    return [{"mode": MonitorMode.BARGE} for s in supervisors if s.get("mode") == MonitorMode.BARGE]
