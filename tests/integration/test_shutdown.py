"""A node told to stop (SIGTERM) ends its calls, and tells the people on them, before it closes their sockets.

The real ``contact-gateway serve`` in a child process on a real Redis; a real aiortc caller in the IVR, another
bridged to an agent's real aiortc softphone. After SIGTERM each socket must carry the call's ``ended`` (reason
``gateway_shutdown``) and only then close with 1012 (service restart: the clients reconnect elsewhere).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp

from gateway.protocol.server import CloseCode
from gateway.protocol.states import CallStatus
from tests.conftest import PASSWORDS, TEST_FLOWS
from tests.support.caller import Caller
from tests.support.clients import Agent, Client, Customer
from tests.support.servers import GatewayProcess, RedisServer
from tests.support.softphone import Softphone


async def until_closed(client: Client, timeout: float = 20) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame the client gets until its socket closes (those not read yet first), and the close code the
    gateway sent in its close frame (1006 if none came).

    The code is the close frame's, not ``close_code``: aiohttp's client overwrites that with 1006 when its close
    reply cannot be written, and the gateway closes the connection right after its close frame (aiohttp's server
    does not wait for the reply when another task closes a socket whose handler is reading). This test reads the
    three clients one after the other, so the last one's reply could come after the connection was gone although
    its close frame said 1012 (a CI failure); a browser reads at once."""
    assert client.ws is not None
    frames = list(client._unread)
    client._unread.clear()
    async with asyncio.timeout(timeout):
        while True:
            msg = await client.ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                frames.append(msg.json())
                continue
            if msg.type == aiohttp.WSMsgType.CLOSE:
                return frames, msg.data
            return frames, aiohttp.WSCloseCode.ABNORMAL_CLOSURE


def ended(frames: list[dict[str, Any]], call_id: str) -> list[str]:
    return [
        f["reason"]
        for f in frames
        if f.get("type") == "call_status" and f["call_id"] == call_id and f["status"] == CallStatus.ENDED
    ]


async def test_sigterm_ends_calls_before_the_sockets_close(
    tmp_path: Path, agents_file: Path, redis_server: RedisServer
) -> None:
    redis_server.flush()
    gw = GatewayProcess(
        tmp_path / "data",
        *("--redis-url", redis_server.url, "--agents-file", str(agents_file), "--flows-dir", str(TEST_FLOWS)),
        *("--secret", "test-secret-0123456789abcdef", "--log-format", "text", "--rtc-addresses", "127.0.0.1"),
    )
    await gw.start()
    in_ivr, to_agent = Customer(gw.url), Customer(gw.url)
    alice = Agent(gw.url, "alice", PASSWORDS["alice"])
    ivr_caller = bridged = phone = None
    try:
        await alice.hello()
        await in_ivr.hello()
        ivr_caller = Caller(in_ivr)
        await ivr_caller.dial()
        await ivr_caller.status(CallStatus.IVR)

        await to_agent.hello()
        bridged = Caller(to_agent)
        await bridged.dial()
        await bridged.status(CallStatus.IVR)
        await bridged.heard_prompt()
        await bridged.press("1")
        await bridged.status(CallStatus.WAITING)
        phone = Softphone(alice)
        ring = await phone.ringing()
        assert ring["call_id"] == bridged.call_id
        await phone.answer(bridged.call_id)
        await bridged.status(CallStatus.CONNECTED)

        assert gw.proc is not None
        gw.proc.send_signal(signal.SIGTERM)
        seen = {
            "caller in the IVR": (await until_closed(in_ivr), ivr_caller.call_id),
            "caller with the agent": (await until_closed(to_agent), bridged.call_id),
            "the agent": (await until_closed(alice), bridged.call_id),
        }
        for who, ((frames, code), call_id) in seen.items():
            assert (who, ended(frames, call_id), code) == (who, ["gateway_shutdown"], CloseCode.RESTARTING), frames
        assert await asyncio.wait_for(gw.proc.wait(), 20) == 0
    finally:
        for closing in (ivr_caller, bridged, phone):
            if closing is not None:
                await closing.close()
        for client in (in_ivr, to_agent, alice):
            await client.close()
        if gw.proc is not None:
            await gw.stop()
