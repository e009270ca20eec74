"""The waiting list every agent desk shows, computed once per node and shared.

Any change to the queue or to agent presence is announced on the queue
channel. The board coalesces those announcements (at most one recomputation
per ``interval``), reads the waiting list once, and hands the same list to
every agent connection on this node, only when it differs from the last one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from gateway.contact.conversations import Conversations
from gateway.protocol.bus import Message
from gateway.store.bus import Bus
from gateway.store.store import StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Watcher = Callable[[list[dict[str, Any]]], None]


class QueueBoard:
    def __init__(self, bus: Bus, conversations: Conversations, channel: str, interval: float = 0.2):
        self.bus = bus
        self.conversations = conversations
        self.channel = channel
        self.interval = interval
        self._watchers: set[Watcher] = set()
        self._task: asyncio.Task[None] | None = None
        self._last: list[dict[str, Any]] | None = None

    async def start(self) -> None:
        await self.bus.subscribe(self.channel, self._on_bus, self._on_resubscribed)

    async def stop(self) -> None:
        await self.bus.unsubscribe(self.channel, self._on_bus)
        await cancel_and_wait(self._task)

    def watch(self, watcher: Watcher) -> None:
        self._watchers.add(watcher)

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    def _on_resubscribed(self, channel: str) -> None:
        """The channel is back after a Redis outage: the queue may have changed meanwhile."""
        self._kick()

    def _on_bus(self, channel: str, message: Message) -> None:
        self._kick()

    def _kick(self) -> None:
        if self._watchers and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._refresh(), name="queue-board")

    async def _refresh(self) -> None:
        await asyncio.sleep(self.interval)
        try:
            waiting = await self.conversations.waiting()
        except StoreError as exc:  # Redis down: read again when its channel is back (resync)
            log.warning("could not read the waiting queue: %s: %s", type(exc).__name__, exc)
            return
        except Exception:
            log.exception("could not read the waiting queue")
            return
        if waiting == self._last:
            return
        self._last = waiting
        for watcher in list(self._watchers):
            watcher(waiting)
