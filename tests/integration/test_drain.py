"""SIGTERM drains: the node takes no new call or chat, /readyz says draining, and a call in progress finishes.

The real ``contact-gateway serve`` in a child process on a real Redis, real aiortc callers on loopback.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from gateway.protocol.server import CloseCode
from gateway.protocol.states import CallStatus
from tests.conftest import TEST_FLOWS
from tests.support.caller import Caller
from tests.support.clients import Customer
from tests.support.servers import GatewayProcess, RedisServer

DRAIN = 120  # far longer than the test: the node must stop because the call ended, not because time ran out


async def readiness(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url + "/readyz") as r:
        return r.status, (await r.json())["status"]


async def test_sigterm_drains_a_call_in_progress_to_its_end(tmp_path: Path, redis_server: RedisServer) -> None:
    redis_server.flush()
    gw = GatewayProcess(
        tmp_path / "data",
        *("--redis-url", redis_server.url, "--flows-dir", str(TEST_FLOWS), "--rtc-addresses", "127.0.0.1"),
        *("--secret", "test-secret-0123456789abcdef", "--log-format", "text"),
        env={"CG_DRAIN_SECONDS": str(DRAIN)},
    )
    await gw.start()
    talking, waiting, late = Customer(gw.url), Customer(gw.url), Customer(gw.url)
    call = Caller(talking)
    refused = Caller(waiting)
    try:
        await talking.hello()
        await waiting.hello()
        await call.dial()
        await call.status(CallStatus.IVR)
        assert gw.proc is not None
        gw.proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            while await readiness(gw.url) != (503, "draining"):
                await asyncio.sleep(0.1)

        # a new call on a socket opened before: all lines busy; a new socket: closed at once, to reconnect elsewhere
        await waiting.send({"type": "call_offer", "call_id": refused.call_id, "sdp": await refused.make_offer()})
        status = await waiting.expect("call_status", lambda f: f["call_id"] == refused.call_id, timeout=15)
        assert (status["status"], status["reason"]) == ("ended", "lines_busy")
        await late.connect()
        assert late.ws is not None
        msg = await asyncio.wait_for(late.ws.receive(), 15)
        assert msg.type == aiohttp.WSMsgType.CLOSE and late.ws.close_code == CloseCode.RESTARTING

        # the call in progress goes on (the caller still hears the flow), then ends as the caller wants
        await call.heard_prompt(after=call.recorded_seconds())
        assert gw.proc.returncode is None
        await call.hangup()
        assert (await call.status(CallStatus.ENDED))["reason"] == "caller_hangup"
        assert await asyncio.wait_for(gw.proc.wait(), 30) == 0  # the last call ended: the node stops, long before
        assert "draining: no new calls or chats; 1 calls in progress" in gw.log.read_text()
    finally:
        await call.close()
        await refused.close()
        for client in (talking, waiting, late):
            await client.close()
        if gw.proc is not None:
            await gw.stop()
