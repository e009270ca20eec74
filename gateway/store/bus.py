"""Cross-node delivery: one Redis pub/sub connection per node, fanned out to local listeners.

A WebSocket connection registers a callback for the channels it cares about
(its conversation, its agent, the queue). The first local listener of a
channel subscribes it in Redis and waits for Redis to confirm, so a caller can
read history *after* ``subscribe`` returns and be sure no later event is
missed; the last listener to leave unsubscribes. Messages are the typed ones of
``gateway/protocol/bus.py``, parsed here once for all the listeners of a channel.

Redis going away (stopped, restarted, a dropped connection): whatever is published while this node's pub/sub
connection is down is lost to it. The reader reconnects (redis-py subscribes every channel again) and, for each
channel confirmed again, calls the ``resync`` callback its listeners gave *before* it dispatches any later message
on that channel: a listener reads what it missed from the store (gateway/wire/connection.py replays the
timelines) and the live messages that follow come after it, in order. On a Redis Cluster (cluster mode) the pub/sub
connection belongs to one node, which a failover may replace for good: after a loss the reader opens a new one
(where the channels' slot is now) and subscribes every channel there, with the same catching up.

Leaving never fails on Redis: the listener is gone locally at once; a channel Redis could not be told to drop is
dropped when it is confirmed again with nobody listening.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.protocol.bus import BadMessage, Flush, Message, parse
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Listener = Callable[[str, Message], None]
Resync = Callable[[str], None]  # called with the channel when it is subscribed again after a loss

RECONNECT_MAX_SECONDS = 1.0  # the reader tries again at most this long after the pub/sub connection failed
READ_WINDOW_SECONDS = 1.0  # the reader's one timer: how often it checks the connection's health and whether to stop
#: How long Redis may take to confirm a subscription, or to answer the pub/sub connection's PING (the node passes
#: ``--redis-timeout``). A connection that heard nothing for a read window is sent a PING, and one whose PING went
#: unanswered this long counts as lost: a Redis that froze, or one behind a network cut, closes nothing, and a node
#: still "subscribed" there would never hear what is published on the master that replaced it.
REPLY_TIMEOUT_SECONDS = 10.0


class Bus:
    def __init__(
        self, redis: aioredis.Redis, *, read_window: float = READ_WINDOW_SECONDS, timeout: float = REPLY_TIMEOUT_SECONDS
    ):
        self._redis = redis
        self._read_window = read_window
        self._timeout = timeout
        self._pubsub = redis.pubsub()
        self._listeners: dict[str, dict[Listener, Resync | None]] = {}
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = False
        self._always = ""
        self._lost = False  # the reader lost the pub/sub connection and is reconnecting it (it alone does)
        # a cluster's pub/sub connection belongs to one node, which a failover may have replaced for good: after a
        # loss the reader opens a new one (on the node that owns the channels' slot now) instead of retrying it
        self._renew = isinstance(redis, RedisCluster)
        self._stale = False  # the pub/sub must be opened anew before it is read again
        self._replies = 0  # replies read on the pub/sub connection (any: messages, confirmations, pongs)
        self._replies_seen = -1  # the count when the last read window started
        self._pinged_at: float | None = None  # when the silent connection was sent a PING not answered since

    async def start(self, always: str) -> None:
        """Start reading; ``always`` is a channel kept subscribed for the node's lifetime."""
        self._always = always
        fut = self._want(always)
        await self._pubsub.subscribe(always)
        self._reader = asyncio.create_task(self._read(), name="bus-reader")
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout=self._timeout)
        except BaseException:  # not confirmed (or cancelled): the caller will not stop a bus that did not start
            await self.stop()
            raise

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

    async def subscribe(self, channel: str, listener: Listener, resync: Resync | None = None) -> None:
        """Listen to ``channel`` from the moment Redis confirms it. ``resync(channel)``, if given, is called when
        the channel is subscribed again after the pub/sub connection was lost. Raises StoreError (the listener is
        then not registered) when Redis cannot be reached."""
        async with self._lock:
            if self._lost:  # only the reader reconnects: two tasks reconnecting one connection trip over each other
                raise aioredis.ConnectionError("the pub/sub connection is down; reconnecting")
            listeners = self._listeners.setdefault(channel, {})
            listeners[listener] = resync
            fut = self._want(channel)
            if len(listeners) == 1 and not fut.done():
                try:
                    await self._pubsub.subscribe(channel)
                except BaseException:
                    self._forget(channel, listener)
                    raise
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout=self._timeout)
        except BaseException as exc:  # not confirmed in time, or the caller cancelled: it is not subscribed
            # (synchronous: a cancelled caller cannot wait for the lock; a confirmation still to come finds nobody
            # listening and drops the channel, :meth:`_confirm`)
            self._forget(channel, listener)
            if isinstance(exc, TimeoutError):
                raise RedisTimeoutError(f"Redis did not confirm the subscription to {channel}") from None
            raise

    def _forget(self, channel: str, listener: Listener) -> bool:
        """Drop ``listener`` locally; True when it was the channel's last one."""
        listeners = self._listeners.get(channel)
        if listeners is None or listener not in listeners:
            return False
        del listeners[listener]
        if listeners:
            return False
        del self._listeners[channel]
        self._confirmed.pop(channel, None)
        return True

    async def unsubscribe(self, channel: str, listener: Listener) -> None:
        """Stop listening; never fails on Redis (the listener is gone locally whatever Redis does)."""
        async with self._lock:
            if self._forget(channel, listener):
                await self._drop(channel)

    async def _drop(self, channel: str) -> None:
        if self._lost:
            log.info("unsubscribing %s once the pub/sub connection is back", channel)
            return
        try:
            await self._pubsub.unsubscribe(channel)
        except (RedisError, OSError) as exc:  # confirmed again with nobody listening: dropped then
            log.info("unsubscribing %s later (%s)", channel, exc)

    def listening(self, channel: str) -> int:
        """How many local listeners ``channel`` has."""
        return len(self._listeners.get(channel, ()))

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

    def _resubscribed(self, channel: str) -> None:
        """``channel`` is live again after a loss: its listeners catch up before any later message reaches them."""
        for resync in list(self._listeners.get(channel, {}).values()):
            if resync is None:
                continue
            try:
                resync(channel)
            except Exception:  # one broken listener must not starve the others
                log.exception("bus resync failed on %s", channel)

    async def _read(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                if self._stale:
                    await self._renew_pubsub()
                if self._renew:  # cluster: redis-py's reader, which follows the channels' node
                    if self._pubsub.connection is not None:
                        await self._check_alive(self._pubsub.connection)
                    msg = await self._pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
                    if msg is not None:
                        self._replies += 1
                    await self._handle(msg)
                else:
                    await self._read_for(self._read_window)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:  # down, restarting, loading, timed out: try again
                if not self._lost:
                    log.warning("pub/sub connection lost (%s); reconnecting", exc)
                self._lost = True
                self._stale = self._renew
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_SECONDS)
                continue
            except Exception:  # a bug, not the connection: the node would stop hearing every channel, silently
                log.exception("pub/sub reader failed; reading on with a fresh connection")
                self._lost = True
                self._stale = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_SECONDS)
                continue
            backoff = 0.1
            self._back()

    def _back(self) -> None:
        if self._lost:
            log.warning("pub/sub connection back; resubscribed channels replay what they missed")
            self._lost = False

    async def _read_for(self, seconds: float) -> None:
        """Read and dispatch the pub/sub connection's replies for ``seconds``, under one timer for them all.

        redis-py's ``get_message(timeout=...)`` arms a timer, and goes through its retry and reply-shaping layers,
        for every message: about 12 us of the 15 a message cost there (a measurement, redis-py 8.2, hiredis). Here
        a message (``[b'message', channel, data]``) is read with no timer of its own and dispatched as it comes;
        any other reply (subscribe, unsubscribe, the health check's pong) goes through redis-py's ``handle_message``,
        which keeps its channel bookkeeping (what it subscribes again after a reconnect). When the time is up the
        read in progress is cancelled (a reply half read stays in the parser for the next read), as redis-py's
        own timeout does. A failed read drops the connection, so the next round connects it again (redis-py then
        subscribes every channel again, and each is confirmed anew: :meth:`_confirm`)."""
        pubsub = self._pubsub
        conn = pubsub.connection
        if conn is None:
            raise aioredis.ConnectionError("the pub/sub connection was closed")
        try:
            await pubsub.check_health()  # a PING when the connection has been idle a while (its pong comes back)
            if not conn.is_connected:
                await conn.connect()
                self._replies_seen, self._pinged_at = -1, None
            await self._check_alive(conn)
            self._back()
            async with asyncio.timeout(seconds):
                while not self._stopping:
                    reply = await conn.read_response(timeout=math.inf, disconnect_on_error=False, push_request=True)
                    self._replies += 1
                    if isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message":
                        channel = reply[1]
                        self._dispatch(channel.decode() if isinstance(channel, bytes) else channel, reply[2])
                    else:
                        await self._handle(await pubsub.handle_message(reply, ignore_subscribe_messages=False))
        except TimeoutError:
            return
        except (RedisError, OSError):
            self._replies_seen, self._pinged_at = -1, None  # a PING sent on the lost connection is not waited for
            await conn.disconnect()
            raise

    async def _check_alive(self, conn: AbstractConnection) -> None:
        """Before a read window: a connection that heard nothing in the last one gets a PING, and one whose PING
        went unanswered for the bus's timeout raises (the caller drops it and connects again)."""
        now = asyncio.get_running_loop().time()
        if self._replies != self._replies_seen:  # it spoke: alive
            self._replies_seen, self._pinged_at = self._replies, None
        elif self._pinged_at is None:
            await conn.send_command("PING", check_health=False)
            self._pinged_at = now
        elif now - self._pinged_at > self._timeout:
            self._pinged_at = None
            raise aioredis.ConnectionError(f"Redis did not answer the pub/sub connection's PING in {self._timeout:g} s")

    async def _handle(self, msg: dict[str, Any] | None) -> None:
        """A reply as redis-py shapes it: a subscription confirmed, or a message to dispatch."""
        if msg is None:
            return
        channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
        if msg["type"] == "subscribe":
            await self._confirm(channel)
        elif msg["type"] == "message":
            self._dispatch(channel, msg["data"])

    async def _renew_pubsub(self) -> None:
        """A new pub/sub connection (cluster mode), subscribed to every channel listened to: each is confirmed
        again, and its listeners catch up (:meth:`_resubscribed`). Raises (the old one stays closed) when the
        cluster cannot take it yet."""
        async with self._lock:
            old, self._pubsub = self._pubsub, self._redis.pubsub()
            try:
                await old.aclose()
            except (RedisError, OSError) as exc:  # its node is gone: nothing to say goodbye to
                log.info("closing the old pub/sub connection: %s", exc)
            await self._pubsub.subscribe(self._always, *self._listeners)
            self._stale = False
            self._replies_seen, self._pinged_at = -1, None
            log.info("pub/sub connection opened anew for %d channels", len(self._listeners) + 1)

    async def _confirm(self, channel: str) -> None:
        fut = self._confirmed.get(channel)
        if fut is not None and not fut.done():
            fut.set_result(None)
        elif fut is not None:
            self._resubscribed(channel)
        elif channel != self._always and channel not in self._listeners:
            async with self._lock:  # nobody listens (Redis was down when the last one left): drop it now
                if channel not in self._listeners:
                    await self._drop(channel)
