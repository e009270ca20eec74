"""The data directory's Redis server kept running: killed while the gateway runs, it is started again on the same
socket (or port and password) from its append-only file; a Ctrl+C in the terminal does not reach it (its own
session): the gateway drains, then stops it last (an operator's findings: it stayed down with /healthz ok, and a
Ctrl+C killed it first under a draining gateway)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import redis.asyncio as aioredis

from gateway.store.embedded_redis import EmbeddedRedis


async def _answers(url: str) -> bool:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        return bool(await client.ping())
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


async def test_a_killed_embedded_redis_is_started_again_with_its_data(tmp_path: Path) -> None:
    for data in (tmp_path / "short", tmp_path / ("d" * 100) / "long"):  # a unix socket, and loopback TCP
        embedded = EmbeddedRedis(data)
        url = await embedded.start()
        try:
            first = embedded.process
            assert first is not None
            assert os.getsid(first.pid) == first.pid  # a session of its own: not the terminal's Ctrl+C
            client = aioredis.Redis.from_url(url)
            try:
                await client.set("kept", "yes")
                await asyncio.sleep(1.2)  # (appendfsync everysec)
            finally:
                await client.aclose()
            os.kill(first.pid, signal.SIGKILL)
            async with asyncio.timeout(10):
                while embedded.process is first or not await _answers(url):
                    await asyncio.sleep(0.05)
            client = aioredis.Redis.from_url(url)  # the same address and password
            try:
                assert await client.get("kept") == b"yes"
            finally:
                await client.aclose()
        finally:
            await embedded.stop()
        assert embedded.process is None and not await _answers(url)
