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
