"""The waiting list every agent desk shows, computed once per node and shared.

Any change to the queue or to agent presence is announced on the queue
channel. The board coalesces the queue's announcements (at most one
recomputation per ``interval``; presence does not change the list), reads the
waiting list once, and hands the same list to every agent connection on this
node whose last list differs. A desk's welcome takes the board's list too
(:meth:`QueueBoard.current`): a shift of desks logging in at once reads the
queue once, not once per desk.

The board also tells each waiting customer on this node their new place when the queue changes
(:meth:`QueueBoard.watch_position`): one pipelined read of every watched conversation's rank per refresh, and a
frame only to those whose place moved. (A socket that read its own rank on every change of the queue made
N waiting customers cost N round trips per change: N squared to drain the queue.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from gateway.contact.conversations import Conversations
from gateway.protocol import server
from gateway.protocol.bus import AgentsChanged, Message
from gateway.store.bus import Bus
from gateway.store.store import StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

#: Places are read at most this often (a drain of thousands moves every place on each assignment; a place a second
#: late is still right, and one read covers every change meanwhile).
POSITIONS_SECONDS = 1.0
#: ... and a node tells about this many places a second at most: with 5,000 waiting on it, every place every 10 s
#: (each assignment of a drain moved every place: a frame to every waiting customer per second, so the cost of an
#: assignment grew with the queue).
POSITIONS_PER_SECOND = 500
#: While changes keep coming (a drain, a shift logging in), the list goes to the desks at most this often: each
#: refresh is the same 50 summaries to every desk on the node.
BUSY_SECONDS = 1.0

Watcher = Callable[[list[dict[str, Any]]], None]
#: told a waiting conversation's new place in the queue: (conversation id, position from 1)
PositionWatcher = Callable[[str, int], None]


class QueueBoard:
    def __init__(self, bus: Bus, conversations: Conversations, channel: str, interval: float = 0.2):
        self.bus = bus
        self.conversations = conversations
        self.channel = channel
        self.interval = interval
        #: each watcher and the list it was last given (None: none yet; :meth:`current` gives it its first)
        self._watchers: dict[Watcher, list[dict[str, Any]] | None] = {}
        self._task: asyncio.Task[None] | None = None
        self._gen = 0  # counts the announced changes
        self._last: list[dict[str, Any]] | None = None  # the newest list read, and the count when its read began
        self._last_gen = -1
        self._lock = asyncio.Lock()  # one read for every desk that asks at once (:meth:`current`)
        #: waiting conversations on this node -> each watcher and the position it was last told (None: not yet)
        self._positions: dict[str, dict[PositionWatcher, int | None]] = {}
        self._positions_at = 0.0  # monotonic time of the last read of the places
        self._list_gen = -1  # the change count when the last read of the list began
        self._positions_gen = -1  # the change count when it began
        self._text: tuple[list[dict[str, Any]] | None, str] = (None, "")  # the last list given, as a frame's text

    async def start(self) -> None:
        await self.bus.subscribe(self.channel, self._on_bus, self._on_resubscribed)

    async def stop(self) -> None:
        await self.bus.unsubscribe(self.channel, self._on_bus)
        await cancel_and_wait(self._task)

    def watch(self, watcher: Watcher) -> None:
        self._watchers[watcher] = None

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.pop(watcher, None)

    def watch_position(self, cid: str, watcher: PositionWatcher, position: int | None = None) -> None:
        """Tell ``watcher`` the place of ``cid`` whenever the queue changes it (``position``: what it knows)."""
        self._positions.setdefault(cid, {})[watcher] = position

    def unwatch_position(self, cid: str, watcher: PositionWatcher) -> None:
        watchers = self._positions.get(cid)
        if watchers is not None:
            watchers.pop(watcher, None)
            if not watchers:
                del self._positions[cid]

    async def current(self, watcher: Watcher) -> list[dict[str, Any]]:
        """The waiting list for a desk that watches (its welcome): the board's newest list when it was read after
        every change announced so far, otherwise one read that every desk asking meanwhile shares (a few hundred
        desks logging in at once read the queue once, not once each). A change announced after that read reaches
        the desk with the next refresh, as any change does."""
        wanted = self._gen
        if self._last is None or self._last_gen < wanted:
            async with self._lock:
                if self._last is None or self._last_gen < wanted:
                    gen = self._gen
                    self._keep(await self.conversations.waiting(), gen)
        waiting, gen = self._last, self._last_gen
        assert waiting is not None
        if watcher in self._watchers:
            self._watchers[watcher] = waiting
        if gen != self._gen:
            self._schedule()
        return waiting

    def frame_text(self, waiting: list[dict[str, Any]]) -> str:
        """The ``queue`` frame of a list the board gave out, serialized once for every desk it goes to (500 desks
        told of each change of a drain serialized the same 50 summaries 500 times)."""
        given, text = self._text
        if given is not waiting:
            text = json.dumps(server.Waiting(waiting).as_dict())
            self._text = (waiting, text)
        return text

    def _keep(self, waiting: list[dict[str, Any]], gen: int) -> None:
        if gen >= self._last_gen:
            self._last, self._last_gen = waiting, gen

    def _on_resubscribed(self, channel: str) -> None:
        """The channel is back after a Redis outage: the queue may have changed meanwhile."""
        self._kick()

    def _on_bus(self, channel: str, message: Message) -> None:
        if not isinstance(message, AgentsChanged):  # agents come and go (presence): the waiting list is the same
            self._kick()

    def _kick(self) -> None:
        self._gen += 1
        self._schedule()

    def _schedule(self) -> None:
        if (self._watchers or self._positions) and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._refresh(), name="queue-board")

    async def _refresh(self) -> None:
        """Read the list (``interval`` after a change, then at most once per :data:`BUSY_SECONDS` while changes keep
        coming) and hand it to every watcher that has another one, and the watched conversations' places (at most
        once per :data:`POSITIONS_SECONDS`, less often for thousands: :data:`POSITIONS_PER_SECOND`); again while
        changes were announced since a read."""
        pause = self.interval
        while True:
            await asyncio.sleep(pause)
            pause = max(self.interval, BUSY_SECONDS)  # changes kept coming while the last read ran
            gen = self._gen
            try:
                if self._watchers and self._list_gen != gen:
                    self._list_gen = gen
                    waiting = await self.conversations.waiting()
                    self._keep(waiting, gen)
                    same: dict[int, bool] = {}  # per list given out (most desks had the same one): compared once
                    for watcher, given in list(self._watchers.items()):
                        if given is None:
                            continue
                        if id(given) not in same:
                            same[id(given)] = given == waiting
                        if not same[id(given)]:
                            self._watchers[watcher] = waiting
                            watcher(waiting)
                every = max(POSITIONS_SECONDS, len(self._positions) / POSITIONS_PER_SECOND)
                due = time.monotonic() - self._positions_at >= every
                if self._positions and self._positions_gen != gen and due:
                    self._positions_at, self._positions_gen = time.monotonic(), gen
                    await self._tell_positions()
            except StoreError as exc:  # Redis down: read again when its channel is back (resync)
                log.warning("could not read the waiting queue: %s: %s", type(exc).__name__, exc)
                return
            except Exception:
                log.exception("could not read the waiting queue")
                return
            list_told = not self._watchers or self._list_gen == self._gen
            places_told = not self._positions or self._positions_gen == self._gen
            if list_told and places_told:
                return

    async def _tell_positions(self) -> None:
        cids = list(self._positions)
        for cid, position in zip(cids, await self.conversations.queue_positions(cids), strict=True):
            watchers = self._positions.get(cid)
            if position is None or watchers is None:  # no longer waiting (its socket stops watching), or gone
                continue
            for watcher, told in list(watchers.items()):
                if told != position:
                    watchers[watcher] = position
                    watcher(cid, position)
