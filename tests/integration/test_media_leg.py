"""An AudioLeg closed while it is still answering: nothing it opened stays open."""

from __future__ import annotations

import asyncio
import os

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from media.leg import AudioLeg
from media.loopback import loopback_only_host
from media.player import PromptPlayer


@pytest.fixture(autouse=True)
def ice_on_this_host(monkeypatch: pytest.MonkeyPatch) -> None:
    if loopback_only_host():
        monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


async def browser_offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(PromptPlayer())
    await pc.setLocalDescription(await pc.createOffer())
    return pc, str(pc.localDescription.sdp)


def open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # the listing's own descriptor, gone already
            pass
    return count


async def test_a_leg_closed_while_gathering_candidates_leaves_no_socket_open() -> None:
    browser, offer = await browser_offer()
    try:
        before = open_sockets()
        for _ in range(5):
            leg = AudioLeg(on_audio=lambda _s: None, on_closed=lambda _w: None)
            answering = asyncio.ensure_future(leg.accept(offer))
            while leg.pc.iceGatheringState != "gathering":  # the answer is being gathered right now
                await asyncio.sleep(0)
            await leg.close()
            await asyncio.gather(answering, return_exceptions=True)
            assert open_sockets() == before
    finally:
        await browser.close()


async def test_a_leg_whose_closing_is_cancelled_still_closes_and_leaves_no_socket_open() -> None:
    """An owner cancels the task that is closing a leg (a call ending cancels the hand-off task that was closing
    the agent's leg): the closing goes on, a later close() waits for it, the connection ends closed and nothing it
    opened stays open. Cancelled at each of the closing's first suspension points in turn."""
    browser, offer = await browser_offer()
    try:
        for steps in range(8):
            before = open_sockets()
            leg = AudioLeg(on_audio=lambda _s: None, on_closed=lambda _w: None)
            await leg.accept(offer)
            closing = asyncio.ensure_future(leg.close())
            for _ in range(steps):
                await asyncio.sleep(0)
            closing.cancel()
            await asyncio.gather(closing, return_exceptions=True)
            async with asyncio.timeout(5):  # aiortc alone: a second close() of a half-closed connection hangs
                await leg.close()
            assert leg.pc.connectionState == "closed", steps
            assert open_sockets() == before, steps
    finally:
        await browser.close()
