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
closed and stops as soon as one opens. Chats with a call in progress stay with the call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from gateway.contact.agents import Agent
from gateway.contact.routing import now_ms
from gateway.store.presence_store import PresenceStore
from gateway.store.store import Store, StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15.0

Release = Callable[[str, str], Awaitable[list[str]]]  # (agent id, reason) -> the chats put back in the queue
Fetch = Callable[[str], Awaitable[Agent | None]]  # the agent as the directory has it now


class AbsentAgents:
    def __init__(
        self,
        store: Store,
        release: Release,
        fetch: Fetch,
        *,
        gone_seconds: float,
        sweep_seconds: float = SWEEP_SECONDS,
        clock: Callable[[], int] = now_ms,
    ):
        self.store = store
        self.db = PresenceStore(store)
        self.release = release
        self.fetch = fetch
        self.gone_ms = int(gone_seconds * 1000)  # 0: an absent agent keeps their chats
        # a few sweeps per limit: released within a quarter of it after it passed
        self.sweep_seconds = min(sweep_seconds, gone_seconds / 4) if gone_seconds else sweep_seconds
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="absent-agents")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.sweep()
            except StoreError as exc:  # Redis down: the next sweep tries again
                log.warning("absent-agents sweep failed: %s: %s", type(exc).__name__, exc)
            except Exception:  # a bug: logged with its traceback; the sweeps go on
                log.exception("absent-agents sweep failed")

    async def sweep(self) -> dict[str, list[str]]:
        """Release the chats of every agent who left (above): agent id -> the conversations put back."""
        now = self.clock()
        released: dict[str, list[str]] = {}
        for seen in await self.db.absences(await self.store.agent_ids(), now):
            if not seen.chats:
                continue
            agent = await self.fetch(seen.agent_id)
            if agent is None or agent.disabled:
                reason = "agent_removed" if agent is None else "agent_disabled"
            elif not self.gone_ms or seen.live:
                continue
            elif not seen.last_seen_ms:
                await self.db.absent_from(seen.agent_id, now)  # from now on
                continue
            elif now - seen.last_seen_ms < self.gone_ms:
                continue
            else:
                reason = "agent_absent"
                log.info(
                    "no desk of the agent's open for %d s (the limit is %d s): their chats go back to the queue",
                    (now - seen.last_seen_ms) // 1000,
                    self.gone_ms // 1000,
                    extra={"agent_id": seen.agent_id},
                )
            back = await self.release(seen.agent_id, reason)
            if back:
                released[seen.agent_id] = back
        return released
