"""Cross-node delivery: one Redis pub/sub connection per node, fanned out to local listeners.

A WebSocket connection registers a callback for the channels it cares about
(its conversation, its agent, the queue). The first local listener of a
channel subscribes it in Redis and waits for Redis to confirm, so a caller can
read history *after* ``subscribe`` returns and be sure no later event is
missed; the last listener to leave unsubscribes. Messages are the typed ones of
``gateway/protocol/bus.py``, parsed here once for all the listeners of a channel.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

import redis.asyncio as aioredis

from gateway.protocol.bus import BadMessage, Flush, Message, parse
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Listener = Callable[[str, Message], None]


class Bus:
    def __init__(self, redis: aioredis.Redis):
        self._redis = redis
        self._pubsub = redis.pubsub()
        self._listeners: dict[str, set[Listener]] = {}
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = False

    async def start(self, always: str) -> None:
        """Start reading; ``always`` is a channel kept subscribed for the node's lifetime."""
        fut = self._want(always)
        await self._pubsub.subscribe(always)
        self._reader = asyncio.create_task(self._read(), name="bus-reader")
        await asyncio.wait_for(asyncio.shield(fut), timeout=10)

    async def stop(self) -> None:
        self._stopping = True  # the reader also checks this: a cancel can be lost in redis-py's read timeout
        await cancel_and_wait(self._reader)
        self._reader = None
        await self._pubsub.aclose()

    def _want(self, channel: str) -> asyncio.Future[None]:
        fut = self._confirmed.get(channel)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._confirmed[channel] = fut
        return fut

    async def subscribe(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.setdefault(channel, set())
            listeners.add(listener)
            fut = self._want(channel)
            if len(listeners) == 1 and not fut.done():
                await self._pubsub.subscribe(channel)
        await asyncio.wait_for(asyncio.shield(fut), timeout=10)

    async def unsubscribe(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.get(channel)
            if not listeners:
                return
            listeners.discard(listener)
            if not listeners:
                del self._listeners[channel]
                self._confirmed.pop(channel, None)
                await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Message) -> None:
        await self._redis.publish(channel, message.to_json())

    async def flush(self, channel: str, timeout: float = 5.0) -> None:
        """Wait until everything this node published before the call has reached its local listeners.

        A :class:`Flush` marker goes out on ``channel`` (one only this node listens to) and comes back through
        the node's one pub/sub connection, which Redis feeds in the order it ran the publishes: when it is
        here, every earlier message is dispatched. TimeoutError (or a Redis error) if it does not come back."""
        token = secrets.token_hex(8)
        arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def listener(_channel: str, message: Message) -> None:
            if isinstance(message, Flush) and message.token == token and not arrived.done():
                arrived.set_result(None)

        await self.subscribe(channel, listener)
        try:
            await self.publish(channel, Flush(token))
            await asyncio.wait_for(arrived, timeout)
        finally:
            await self.unsubscribe(channel, listener)

    def _dispatch(self, channel: str, data: bytes) -> None:
        listeners = self._listeners.get(channel)
        if not listeners:
            return
        try:
            message = parse(data)
        except BadMessage as exc:
            log.error("dropping a malformed bus message on %s: %s", channel, exc)
            return
        for listener in list(listeners):
            try:
                listener(channel, message)
            except Exception:  # one broken listener must not starve the others
                log.exception("bus listener failed on %s", channel)

    async def _read(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                msg = await self._pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except (aioredis.ConnectionError, OSError) as exc:
                log.warning("pub/sub connection lost (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            if msg is None:
                continue
            channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
            if msg["type"] == "subscribe":
                fut = self._confirmed.get(channel)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            elif msg["type"] == "message":
                self._dispatch(channel, msg["data"])
