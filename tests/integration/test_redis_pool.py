"""The node's Redis connection pool under a burst larger than it (gateway/store/connect.py, ``FairLine``), with a
real Redis: callers beyond the pool wait in line and are served in turn, slower but without errors, however long
the line, as long as it moves; ``store_unavailable`` (a StoreError) still comes at once when Redis refuses
connections, and to the callers in line when Redis stops answering.

Each burst's commands are BLPOPs on an empty list with a 50 ms timeout: each holds its connection 50 ms without
keeping Redis busy, so a burst of 300 through 4 connections takes about 3.75 s, nearly four times the line's stall
bound (1 s here): redis-py's own pool failed every caller that waited longer than its timeout."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import pytest

from gateway.config import from_sources
from gateway.store import connect
from gateway.store.store import StoreError
from tests.support.servers import RedisServer

POOL = 4
STALL = 1.0  # seconds without a connection coming free before a caller in line gives up (0.5 failed on a loaded CI)
HOLD = 0.05  # each command holds its connection this long
BURST = 300  # 300 x 50 ms through 4 connections: at least 3.75 s, well past twice the stall bound
WITHIN = 60.0  # a generous bound for a burst or a failure to finish


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of its own (this test stops or pauses it)."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()


async def test_a_burst_larger_than_the_pool_waits_in_line_and_completes_without_errors(redis_url: str) -> None:
    redis = connect.client(from_sources({}, {}), redis_url, pool_size=POOL, stall_seconds=STALL)
    served: list[int] = []

    async def one(i: int) -> None:
        await redis.blpop(["cg-test:nothing"], timeout=HOLD)
        served.append(i)

    try:
        t0 = time.monotonic()
        results = await asyncio.wait_for(
            asyncio.gather(*(one(i) for i in range(BURST)), return_exceptions=True), WITHIN
        )
        took = time.monotonic() - t0
        in_use = len(redis.connection_pool._in_use_connections) + len(redis.connection_pool._available_connections)
    finally:
        await redis.aclose()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], f"{len(errors)} of {BURST} failed, e.g. {errors[0]!r}"
    assert took > 2 * STALL, "the burst was not longer than the stall bound: the test proves nothing"
    assert in_use <= POOL
    # first come, first served: the line hands connections out in arrival order (a batch of POOL at a time)
    late = [i for pos, i in enumerate(served) if abs(pos - i) > 2 * POOL]
    assert late == [], f"served out of turn: {late[:10]}"


async def test_redis_refusing_connections_is_store_unavailable_at_once(own_redis: RedisServer) -> None:
    redis = connect.client(from_sources({}, {}), own_redis.url, pool_size=POOL, stall_seconds=60.0)
    try:
        await redis.ping()
        own_redis.halt()  # gone: every connection is refused
        results = await asyncio.wait_for(
            asyncio.gather(*(redis.ping() for _ in range(50)), return_exceptions=True), WITHIN
        )
    finally:
        await redis.aclose()
    assert all(isinstance(r, StoreError) for r in results), results[:3]


async def test_callers_in_line_fail_when_redis_stops_answering(own_redis: RedisServer) -> None:
    """Redis paused (SIGSTOP): the commands on the pool's connections hang (as any would), and the callers in line
    behind them fail once no connection has come free for the stall bound: store_unavailable, not a wait forever.
    Once Redis answers again the hung ones complete."""
    redis = connect.client(from_sources({}, {}), own_redis.url, pool_size=POOL, stall_seconds=STALL)
    assert own_redis.proc is not None
    try:
        await redis.ping()
        os.kill(own_redis.proc.pid, signal.SIGSTOP)
        stuck = [asyncio.create_task(redis.ping()) for _ in range(POOL)]
        await asyncio.sleep(0)
        in_line = await asyncio.wait_for(
            asyncio.gather(*(redis.ping() for _ in range(20)), return_exceptions=True), WITHIN
        )
        os.kill(own_redis.proc.pid, signal.SIGCONT)
        assert await asyncio.wait_for(asyncio.gather(*stuck), WITHIN) == [True] * POOL
        assert await redis.ping()  # and the pool serves again
    finally:
        os.kill(own_redis.proc.pid, signal.SIGCONT)
        await redis.aclose()
    assert all(isinstance(r, StoreError) for r in in_line), in_line[:3]
    assert "not answering" in str(in_line[0])
