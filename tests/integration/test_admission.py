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

from gateway.calls.admission import WINDOW
from gateway.config import Settings
from gateway.protocol.states import CallStatus
from gateway.tasks import cancel_and_wait
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.servers import Node, start_node

BLOCK_SECONDS = 0.2  # each slice the loop is held: the sampler's sleeps wake up to this late


async def hog(stop: asyncio.Event, block: float = BLOCK_SECONDS) -> None:
    """Hold the event loop most of the time, as a CPU-bound step on it would."""
    while not stop.is_set():
        time.sleep(block)
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


async def stall(seconds: float) -> None:
    """Hold the event loop once, as a first call's import or a model loaded on first use does."""
    time.sleep(seconds)


async def until_sampled(node: Node, at_least_s: float) -> None:
    """Wait until the node's own sampler has measured a lag of ``at_least_s`` (the stall reached admission)."""
    admission = node.services.calls.admission
    async with asyncio.timeout(30):
        while not any(lag >= at_least_s for lag in admission.samples):
            await asyncio.sleep(0.05)


async def samples_taken(node: Node, count: int) -> None:
    """Wait until the node's sampler has measured the loop's lag ``count`` more times."""
    registry = node.services.metrics.recorder.registry

    def taken() -> float:
        return registry.get_sample_value("contact_gateway_event_loop_lag_seconds_count") or 0

    before = taken()
    async with asyncio.timeout(30):
        while taken() < before + count:
            await asyncio.sleep(0.05)


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


async def test_a_node_whose_start_up_held_its_loop_takes_calls_at_once(settings: Settings) -> None:
    """The start-up's own work (here: the loop held while the node starts) is not load: the node serves ready."""
    stop = asyncio.Event()
    # each step of the start-up that waits (Redis, a thread) waits for a 0.5 s slice too: the start-up after the
    # node's sampler began lasts several of its windows, all of them late
    load: asyncio.Task[None] | None = asyncio.create_task(hog(stop, 0.5), name="test-start-up-hog")
    node: Node | None = None
    clients: Clients | None = None
    caller: Caller | None = None
    try:
        node = await start_node(replace(settings, admission_max_lag_ms=25))
        stop.set()
        await cancel_and_wait(load)
        load = None
        # three on-time samples since: a window of the last four would hold the start-up's lag still
        await samples_taken(node, 3)
        assert await readiness(node.url) == (
            200,
            {"status": "ready", "redis": "ok", "node": node.services.settings.node_id},
        )
        clients = Clients(node.url)
        caller = Caller(clients.customer())
        await caller.customer.hello()
        await caller.dial()
        await caller.status(CallStatus.IVR)
        assert len(node.services.calls.calls) == 1
    finally:
        stop.set()
        await cancel_and_wait(load)
        if caller is not None:
            await caller.close()
        if clients is not None:
            await bounded(clients.close(), "closing the test clients")
        if node is not None:
            await bounded(node.stop(), "stopping the gateway node")


async def test_one_stall_of_the_loop_refuses_no_call(loaded_node: Node) -> None:
    """One long stall, then on time again: the node stays ready and takes the next call."""
    clients = Clients(loaded_node.url)
    caller = Caller(clients.customer())
    try:
        await caller.customer.hello()
        async with asyncio.timeout(30):  # serving for a whole window: the node judges its lag
            while len(loaded_node.services.calls.admission.samples) < WINDOW:
                await asyncio.sleep(0.05)
        await stall(0.6)  # the sampler's sleep (0.25 s) began before it: it wakes 0.35-0.6 s late
        await until_sampled(loaded_node, 0.3)
        code, body = await readiness(loaded_node.url)
        assert (code, body["status"]) == (200, "ready")
        await caller.dial()
        await caller.status(CallStatus.IVR)
        assert len(loaded_node.services.calls.calls) == 1
    finally:
        await caller.close()
        await bounded(clients.close(), "closing the test clients")


async def hears_lines_busy(caller: Caller) -> None:
    """``caller`` offers a call and is told "all lines busy" (the call ends at once)."""
    await caller.customer.send({"type": "call_offer", "call_id": caller.call_id, "sdp": await caller.make_offer()})
    status = await caller.customer.expect("call_status", timeout=30)
    assert (status["status"], status["reason"]) == ("ended", "lines_busy")


async def test_a_node_whose_frames_go_out_late_refuses_new_calls(settings: Settings) -> None:
    """The lag rule off, the late-frame rule on: two calls in the IVR, the loop held 30 ms of every 40 (late in
    bursts, never long enough for the player to skip frames), and a new call hears "all lines busy"; on time again,
    the node takes calls."""
    node = await start_node(replace(settings, admission_max_lag_ms=0, admission_max_late_percent=2))
    clients = Clients(node.url)
    stop = asyncio.Event()
    load: asyncio.Task[None] | None = None
    callers = [Caller(clients.customer()) for _ in range(3)]
    try:
        for caller in callers:
            await caller.customer.hello()
        for caller in callers[:2]:
            await caller.dial()
            await caller.status(CallStatus.IVR)
        await until_status(node.url, "ready")  # a loaded test machine may have made a dialling moment late

        load = asyncio.create_task(hog(stop, block=0.03), name="test-loop-hog")
        body = await until_status(node.url, "full")
        assert body["late_frames_percent"] > 2  # type: ignore[operator]
        refused = callers[2]
        await hears_lines_busy(refused)
        assert len(node.services.calls.calls) == 2

        stop.set()
        await cancel_and_wait(load)
        load = None
        await until_status(node.url, "ready")
    finally:
        stop.set()
        await cancel_and_wait(load)
        for caller in callers:
            await caller.close()
        await bounded(clients.close(), "closing the test clients")
        await bounded(node.stop(), "stopping the gateway node")


async def cpu_hog(stop: asyncio.Event, block: float = 0.1) -> None:
    """Keep the event loop's thread computing most of the time (a CPU-bound step, not a sleep)."""
    while not stop.is_set():
        until = time.perf_counter() + block
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(0.005)


async def test_a_loop_using_its_core_refuses_new_calls_before_frames_go_late(settings: Settings) -> None:
    """The loop-CPU rule alone (a low limit: on a loaded test machine the thread may not get a whole core): with a
    call on the node, its own thread computing most of the time makes it full, and a new call hears "all lines
    busy"."""
    node = await start_node(
        replace(settings, admission_max_lag_ms=0, admission_max_late_percent=0, admission_max_loop_cpu_percent=25)
    )
    clients = Clients(node.url)
    stop = asyncio.Event()
    load: asyncio.Task[None] | None = None
    admitted = Caller(clients.customer())
    caller = Caller(clients.customer())
    try:
        await admitted.customer.hello()
        await admitted.dial()
        await admitted.status(CallStatus.IVR)  # a node without calls is never full by its CPU
        await caller.customer.hello()
        async with asyncio.timeout(30):  # a whole window of samples: the rule judges
            while len(node.services.calls.admission.cpu) < WINDOW + 1:
                await asyncio.sleep(0.05)
        await until_status(node.url, "ready")  # an idle loop: a few % of a core

        load = asyncio.create_task(cpu_hog(stop), name="test-cpu-hog")
        body = await until_status(node.url, "full")
        # the answer rounds: 25.3 % of a core is above the limit and reads 25
        assert body["loop_cpu_percent"] >= 25  # type: ignore[operator]
        await hears_lines_busy(caller)

        stop.set()
        await cancel_and_wait(load)
        load = None
        await until_status(node.url, "ready")
    finally:
        stop.set()
        await cancel_and_wait(load)
        await caller.close()
        await admitted.close()
        await bounded(clients.close(), "closing the test clients")
        await bounded(node.stop(), "stopping the gateway node")
