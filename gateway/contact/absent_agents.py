"""Agents who left without saying so: their chats go back to the queue.

A logout, a disable or a removal through a node's API releases an agent's chats at once (gateway/contact/handover.py).
Nothing does when the agent simply goes: a laptop shut, a browser closed without logging out, a login session that
expired, a node that died with their desk on it, or an agent removed with the ``agents`` command (which runs no
routing). Their customers would write to nobody.

So every ``SWEEP_SECONDS`` (any node; each release is one atomic script per conversation, so two nodes sweeping at
once act once) the agents holding chats are checked:

- an agent the directory no longer has, or has disabled: their chats go back now;
- an agent with no desk open for ``--agent-gone-seconds`` (a closed desk, or the last of its connections expired):
  their chats go back, and they are set away (they come back to their desk away, not to a flood of chats).

A desk that drops for a moment (a reload, a network blip) keeps its chats: the clock starts when the last desk
closed and stops as soon as one opens. Chats with a call in progress stay with the call; a call's conversation whose
call is over is closed (gateway/contact/handover.py).

Redis keeps a desk's expiry where its node last refreshed it: while Redis is down, or the node restarts, nobody can,
and when it is back every desk looks closed since then. So the expiries alone never decide: this node must also have
seen the agent without a desk itself, sweep after sweep, for ``CONFIRM_SECONDS`` (the whole limit when that is
shorter; longer than a node's presence heartbeat and a desk's reconnection), counting again from zero after a sweep
that could not read Redis and after its own start. Just before a release the agent's desks are read once more.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from gateway.contact.agents import Agent
from gateway.contact.routing import now_ms
from gateway.store.presence_store import DeskAbsence, PresenceStore
from gateway.store.store import Store, StoreError
from gateway.tasks import Every

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15.0
CONFIRM_SECONDS = 30.0

Release = Callable[[str, str], Awaitable[list[str]]]  # (agent id, reason) -> the chats put back in the queue
Lookup = Callable[[str], Awaitable[Agent | None]]  # the agent as the directory has it (this node's copy)


class AbsentAgents:
    def __init__(
        self,
        store: Store,
        release: Release,
        lookup: Lookup,
        *,
        gone_seconds: float,
        sweep_seconds: float = SWEEP_SECONDS,
        clock: Callable[[], int] = now_ms,
    ):
        self.store = store
        self.db = PresenceStore(store)
        self.release = release
        self.lookup = lookup
        self.gone_ms = int(gone_seconds * 1000)  # 0: an absent agent keeps their chats
        self.confirm_ms = min(self.gone_ms, int(CONFIRM_SECONDS * 1000))
        # a few sweeps per limit: released within a quarter of it after it passed
        self.sweep_seconds = min(sweep_seconds, gone_seconds / 4) if gone_seconds else sweep_seconds
        self.clock = clock
        self._absent: dict[str, int] = {}  # agent id -> since when this node has seen them without a desk
        self._done: dict[str, int] = {}  # agent id -> their chats when last released (not again for the same)
        self._every = Every(self.sweep_seconds, self.sweep, "absent-agents sweep", log, expected=(StoreError,))

    async def start(self) -> None:
        await self._every.start()

    async def stop(self) -> None:
        await self._every.stop()

    async def sweep(self) -> dict[str, list[str]]:
        """Release the chats of every agent who left (above): agent id -> the conversations put back. A StoreError
        (Redis down) forgets every absence seen so far: what was seen before says nothing of after (the docstring)."""
        try:
            return await self._sweep()
        except StoreError:
            self._absent.clear()
            raise

    async def _sweep(self) -> dict[str, list[str]]:
        now = self.clock()
        released: dict[str, list[str]] = {}
        for seen in await self.db.absences(await self.store.agent_ids(), now):
            aid = seen.agent_id
            if seen.live or not seen.chats:
                self._absent.pop(aid, None)
                self._done.pop(aid, None)
                continue
            since = self._absent.setdefault(aid, now)
            if self._done.get(aid) == seen.chats:
                continue  # what is left stays with them (a call in progress): nothing new to do
            try:
                reason = await self._why_release(seen, now - since, now)
                if reason:
                    released[aid] = await self._release(aid, reason)
            except StoreError:
                raise
            except Exception:  # a bug about one agent: logged with its traceback; the others are still swept
                log.exception("absent-agents sweep failed for an agent", extra={"agent_id": aid})
        return {aid: back for aid, back in released.items() if back}

    async def _why_release(self, seen: DeskAbsence, watched_ms: int, now: int) -> str:
        """Why the agent's chats go back now ('' if they do not)."""
        agent = await self.lookup(seen.agent_id)
        if agent is None:
            return "agent_removed"
        if agent.disabled:
            return "agent_disabled"
        if not self.gone_ms:
            return ""
        if not seen.last_seen_ms:
            await self.db.absent_from(seen.agent_id, now)  # nothing on record (the data predates it): from now on
            return ""
        if now - seen.last_seen_ms < self.gone_ms or watched_ms < self.confirm_ms:
            return ""
        return "agent_absent"

    async def _release(self, aid: str, reason: str) -> list[str]:
        (fresh,) = await self.db.absences([aid], self.clock())
        if fresh.live:  # a desk of theirs opened just now
            return []
        if reason == "agent_absent":
            log.info(
                "no desk of the agent's open for %d s (the limit is %d s): their chats go back to the queue",
                (self.clock() - fresh.last_seen_ms) // 1000,
                self.gone_ms // 1000,
                extra={"agent_id": aid},
            )
        back = await self.release(aid, reason)
        (left,) = await self.db.absences([aid], self.clock())
        self._done[aid] = left.chats  # what stays with them (a call in progress): not released again and again
        return back
