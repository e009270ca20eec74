"""Admission by load: while the node's event loop runs late, a new call hears "all lines busy" and /readyz says full.

A real node in this process (real Redis, the test flow) and a real aiortc caller. The load is real: a task of this
process blocks the event loop the node runs on (``time.sleep`` in slices, as a CPU-bound step would), so the node's
own metrics sampler measures the lag; nothing of the gateway is replaced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from gateway.config import Settings
from gateway.protocol.states import CallStatus
from gateway.tasks import cancel_and_wait
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.servers import Node, start_node

BLOCK_SECONDS = 0.2  # each slice the loop is held: the sampler's sleeps wake up to this late


async def hog(stop: asyncio.Event) -> None:
    """Hold the event loop most of the time, as a CPU-bound step on it would."""
    while not stop.is_set():
        time.sleep(BLOCK_SECONDS)
        await asyncio.sleep(0.005)


async def readiness(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(url + "/readyz") as r:
        return r.status, await r.json()


async def until_status(url: str, wanted: str, seconds: float = 30) -> dict[str, object]:
    async with asyncio.timeout(seconds):
        while True:
            _, body = await readiness(url)
            if body["status"] == wanted:
                return body
            await asyncio.sleep(0.1)


@pytest.fixture
async def loaded_node(settings: Settings) -> AsyncIterator[Node]:
    started = await start_node(replace(settings, admission_max_lag_ms=25))
    yield started
    await bounded(started.stop(), "stopping the gateway node")


async def test_a_saturated_loop_refuses_new_calls_and_readyz_says_full(loaded_node: Node) -> None:
    clients = Clients(loaded_node.url)
    stop = asyncio.Event()
    load = None
    refused = Caller(clients.customer())
    admitted = Caller(clients.customer())
    try:
        await refused.customer.hello()
        await admitted.customer.hello()
        assert await readiness(loaded_node.url) == (
            200,
            {"status": "ready", "redis": "ok", "node": loaded_node.services.settings.node_id},
        )

        load = asyncio.create_task(hog(stop), name="test-loop-hog")
        body = await until_status(loaded_node.url, "full")
        assert body["loop_lag_ms"] > 25  # type: ignore[operator]
        code, _ = await readiness(loaded_node.url)
        assert code == 503

        await refused.customer.send(
            {"type": "call_offer", "call_id": refused.call_id, "sdp": await refused.make_offer()}
        )
        status = await refused.customer.expect("call_status", timeout=30)
        assert (status["status"], status["reason"]) == ("ended", "lines_busy")
        assert "chatting" in status["message"]  # the chat alternative
        assert loaded_node.services.calls.calls == {}

        stop.set()
        await cancel_and_wait(load)
        load = None
        await until_status(loaded_node.url, "ready")
        await admitted.dial()
        await admitted.status(CallStatus.IVR)
        assert len(loaded_node.services.calls.calls) == 1
    finally:
        stop.set()
        await cancel_and_wait(load)
        await refused.close()
        await admitted.close()
        await bounded(clients.close(), "closing the test clients")
