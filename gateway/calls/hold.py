"""A caller on hold: how often they hear their place and the expected wait, by the queue they wait in.

The interval is the queue's ``announce_seconds`` (gateway/contact/queues.py), read again before every announcement,
so an admin's change, or an overflow into another queue, holds for the next one; 0 means no announcements in that
queue. A conversation whose queue has no settings takes the node's ``--announce-seconds``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from gateway.contact.conversations import Conversations

IDLE_CHECK_SECONDS = 5.0  # a queue without announcements is looked at again this often (its settings may change)


async def interval(conversations: Conversations, cid: str, default: float) -> float:
    """Seconds until the next announcement for the caller of ``cid`` (0: none in this queue)."""
    if conversations.queues is None:
        return default
    conv = await conversations.get(cid)
    queue = await conversations.queues.get(conv.get("queue", "")) if conv else None
    return float(queue.announce_seconds) if queue is not None else default


async def announce_every(
    waiting: Callable[[], bool], announce: Callable[[], Awaitable[None]], seconds: Callable[[], Awaitable[float]]
) -> None:
    """Announce now and after every interval while ``waiting()``; runs until cancelled (the hand-off's end)."""
    every = await seconds()
    while True:
        if waiting() and every > 0:
            await announce()
        await asyncio.sleep(every if every > 0 else IDLE_CHECK_SECONDS)
        every = await seconds()
