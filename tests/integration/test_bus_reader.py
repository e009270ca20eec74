"""The node's pub/sub reader (gateway/store/bus.py) against a real Redis: messages in order across its read
windows, redis-py's channel bookkeeping kept (what it subscribes again after a reconnect), and a dropped connection
taken up again with only the channels still listened to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from gateway.protocol.bus import Message, Typing
from gateway.protocol.states import Author
from gateway.store.bus import Bus


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def bus(redis: aioredis.Redis) -> AsyncIterator[Bus]:
    b = Bus(redis, read_window=0.05)  # many windows in a test: a message may arrive as one ends
    await b.start("node:test")
    yield b
    await b.stop()


def typing(n: int) -> Typing:
    return Typing(Author.AGENT, n % 2 == 0, f"agent {n}")


async def until(check: object, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_messages_arrive_in_order_across_read_windows(bus: Bus, redis: aioredis.Redis) -> None:
    got: list[tuple[str, Message]] = []
    for ch in ("a", "b"):
        await bus.subscribe(ch, lambda channel, message: got.append((channel, message)))
    sent = []
    for n in range(300):
        ch = "a" if n % 3 else "b"
        await redis.publish(ch, typing(n).to_json())
        sent.append((ch, typing(n)))
        if n % 50 == 0:
            await asyncio.sleep(0.06)  # the reader's window ends between two messages
    await until(lambda: len(got) == len(sent))
    assert got == sent


async def test_channels_left_are_forgotten_and_a_lost_connection_resubscribes_only_those_listened_to(
    bus: Bus, redis: aioredis.Redis
) -> None:
    got: list[str] = []
    resynced: list[str] = []

    def listener(channel: str, message: Message) -> None:
        got.append(channel)

    for n in range(20):
        await bus.subscribe(f"c{n}", listener, resynced.append)
    for n in range(1, 20):
        await bus.unsubscribe(f"c{n}", listener)
    # redis-py's record of the channels (what it subscribes again after a reconnect) lost the ones left
    await until(lambda: set(bus._pubsub.channels) == {b"node:test", b"c0"})
    assert set(await redis.pubsub_channels()) == {b"node:test", b"c0"}

    await redis.client_kill_filter(_type="pubsub")  # the node's pub/sub connection drops
    await until(lambda: resynced == ["c0"])  # confirmed again: its listener catches up
    assert set(await redis.pubsub_channels()) == {b"node:test", b"c0"}
    for n in range(20):
        await redis.publish(f"c{n}", typing(n).to_json())
    await until(lambda: got == ["c0"])
    await asyncio.sleep(0.2)
    assert got == ["c0"]


async def test_a_subscribe_cancelled_before_redis_confirmed_it_leaves_no_listener(
    bus: Bus, redis: aioredis.Redis, redis_url: str
) -> None:
    """A caller cancelled while it waits for Redis to confirm its channel (a WebSocket closed as it subscribed)
    is not subscribed (gateway/wire/connection.py forgets the channel): the bus must forget its listener too, and
    drop the channel in Redis, or the closed connection's listener is called for every later message, forever."""
    got: list[str] = []
    sleeper = aioredis.Redis.from_url(redis_url)
    try:
        sleeping = asyncio.create_task(sleeper.execute_command("DEBUG", "SLEEP", "0.4"))  # Redis confirms late
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(bus.subscribe("late", lambda channel, message: got.append(channel)))
        await asyncio.sleep(0.15)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await sleeping
    finally:
        await sleeper.aclose()
    assert bus.listening("late") == 0
    await until(lambda: b"late" not in bus._pubsub.channels)  # the late confirmation dropped it
    assert b"late" not in set(await redis.pubsub_channels())
    await redis.publish("late", typing(1).to_json())
    await asyncio.sleep(0.2)
    assert got == []


async def test_a_bug_in_the_reader_is_logged_and_the_channels_are_heard_again(
    bus: Bus, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[Message] = []
    await bus.subscribe("a", lambda channel, message: got.append(message))
    dispatch = bus._dispatch
    failures = []

    def once_broken(channel: str, data: bytes) -> None:
        if not failures:
            failures.append(channel)
            raise RuntimeError("a bug in the dispatch")
        dispatch(channel, data)

    monkeypatch.setattr(bus, "_dispatch", once_broken)
    await redis.publish("a", typing(1).to_json())
    await until(lambda: failures)
    await asyncio.sleep(0.3)  # past the reader's backoff
    await redis.publish("a", typing(2).to_json())
    await until(lambda: typing(2) in got)  # the reader died with the bug before: nothing was heard again
    assert "pub/sub reader failed" in caplog.text
