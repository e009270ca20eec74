"""How long a waiting caller will wait: position in the queue and an estimate from recent handle times.

Every call an agent answered adds its handle time (answer to hang-up) to a
short Redis list shared by all nodes (the last :data:`HISTORY` calls). The
estimate for the caller at ``position`` (1 = next) with ``agents`` agents
online is ``ceil(position / agents)`` handle times: each agent takes one
caller after another. With no history yet there is no estimate, and the
announcement gives the position only: a made-up number is worse than none.
"""

from __future__ import annotations

import math
from statistics import fmean

from gateway.contact.routing import now_ms
from gateway.store.store import Store

HISTORY = 50


def takes_callers(info: dict[str, str], active: int, sessions: int) -> bool:
    """Whether an agent (their presence hash, conversations held, live desks) takes the queue's callers one after
    another: online and available, with room for one more, or on a call (or rung, or in after-call work) that
    ends. An agent full of chats with no call takes nobody until they close one: counted, a caller heard "less
    than a minute" while the only agent was full (an exploratory test)."""
    if not sessions or info.get("status") != "available":
        return False
    try:
        capacity = int(info.get("capacity") or 1)
    except ValueError:
        capacity = 1
    return active < capacity or info.get("activity", "") in ("on_call", "ringing", "wrap_up")


def estimate_wait_ms(position: int, agents: int, handle_times_ms: list[int]) -> int | None:
    """Milliseconds until the caller at ``position`` is answered by ``agents`` taking work, or None without history
    or without an agent taking work (all away or signed out: no time can be promised; "less than a minute" was)."""
    if position < 1 or not handle_times_ms or agents < 1:
        return None
    return math.ceil(position / agents) * int(fmean(handle_times_ms))


def announcement(position: int, wait_ms: int | None) -> str:
    """What the caller hears, e.g. "You are number 2 in the queue. The wait is about 3 minutes."."""
    text = "You are next in the queue." if position == 1 else f"You are number {position} in the queue."
    if wait_ms is None:
        return text
    minutes = math.ceil(wait_ms / 60_000)
    if wait_ms < 60_000:
        return text + " The wait is less than a minute."
    return text + f" The wait is about {minutes} minute{'' if minutes == 1 else 's'}."


class WaitEstimates:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add_handle_time(self, ms: int) -> None:
        await self.store.add_handle_time(ms, keep=HISTORY)

    async def handle_times(self) -> list[int]:
        return await self.store.handle_times(HISTORY)

    async def agents_available(self) -> int:
        """The agents who will take the queue's callers (:func:`takes_callers`). Away agents, and agents full of
        chats with no call, are not counted: they take nobody until they come back or close one."""
        loads = await self.store.agent_loads(await self.store.agent_ids(), now_ms())
        return sum(1 for info, active, sessions in loads if takes_callers(info, active, sessions))
