"""media/direct_receive.py on two real aiortc peers over loopback: SRTP packets handled in the socket's callback
reach the receiver as through aiortc's task (decoded, heard, counted), SRTCP still takes the task, and a packet
whose handling raises or suspends sends that transport back to aiortc's task without losing the call."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aioice.ice
import numpy as np
import pytest
from aiortc import RTCPeerConnection

from media import direct_receive as direct_receive_module
from media.audio import Audio
from media.direct_receive import DirectReceive, direct_receive
from media.errors import UnsupportedAiortcVersion
from media.loopback import TrackRecorder, connect, loopback_only_host, peer_pair
from media.player import PromptPlayer

RATE = 48000
WAIT = 15.0  # a bound for conditions, never a timing assertion


@pytest.fixture(autouse=True)
def ice_on_this_host(monkeypatch: pytest.MonkeyPatch) -> None:
    if loopback_only_host():
        monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {WAIT} s: {what}")
        await asyncio.sleep(0.02)


class Pair:
    """``a`` plays a 440 Hz tone to ``b``, which records it."""

    def __init__(self, a: RTCPeerConnection, b: RTCPeerConnection) -> None:
        self.a, self.b = a, b
        self.mic = PromptPlayer()
        self.recorder: TrackRecorder | None = None

    async def start(self) -> None:
        self.a.addTrack(self.mic)

        @self.b.on("track")
        def on_track(track: Any) -> None:
            self.recorder = TrackRecorder(track).start()

        await connect(self.a, self.b)
        t = np.arange(RATE) / RATE
        self.mic.loop(Audio((np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16), RATE), "tone")

    @property
    def dtls(self) -> Any:
        return self.b.getTransceivers()[0].receiver.transport

    async def inbound(self) -> Any:
        """The receiver's inbound-rtp statistics, once it has them: aiortc reports none before the first packet,
        which on a loaded machine can come after ``connect`` returns."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            stats = await self.b.getTransceivers()[0].receiver.getStats()
            found = [s for s in stats.values() if s.type == "inbound-rtp"]
            if found:
                return found[0]
            assert asyncio.get_running_loop().time() < deadline, "no packet reached the receiver"
            await asyncio.sleep(0.02)

    def heard(self) -> int:
        return 0 if self.recorder is None else len(self.recorder.samples)

    async def stop(self) -> None:
        if self.recorder is not None:
            await self.recorder.stop()
        self.mic.end()


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    async with peer_pair() as (a, b):
        one = Pair(a, b)
        await one.start()
        try:
            yield one
        finally:
            await one.stop()


async def test_packets_handled_at_once_are_decoded_heard_and_counted(pair: Pair) -> None:
    handler = direct_receive(pair.dtls)
    assert direct_receive(pair.dtls) is handler  # once per transport
    received0, heard0 = (await pair.inbound()).packetsReceived, pair.heard()
    handled0 = handler.handled  # read after the statistics: a packet between the two counts only in ``received``
    await until(lambda: handler.handled - handled0 >= 50, "a second of packets handled at once")
    assert handler.on
    handled = handler.handled - handled0
    received = (await pair.inbound()).packetsReceived - received0
    # aiortc's receiver counted them (its statistics run inside _handle_rtp_data) and decoded them
    assert received >= handled - 1, (received, handled)
    await until(lambda: pair.heard() - heard0 >= RATE // 2, "half a second of the tone heard")
    samples = pair.recorder.samples[heard0:] if pair.recorder else np.zeros(0)
    assert np.abs(samples).max() > 4000  # the tone, not silence


async def test_rtcp_still_reaches_aiortcs_task(pair: Pair) -> None:
    """Sender reports are SRTCP: left to aiortc's task, which turns them into the remote-outbound statistics."""
    handler = direct_receive(pair.dtls)

    async def reports() -> int:
        stats = await pair.b.getTransceivers()[0].receiver.getStats()
        return sum(1 for s in stats.values() if s.type == "remote-outbound-rtp")

    deadline = asyncio.get_running_loop().time() + WAIT
    while not await reports():
        assert asyncio.get_running_loop().time() < deadline, "no sender report reached the receiver"
        await asyncio.sleep(0.1)
    assert handler.handled > 0


async def test_what_is_handled_at_once_and_what_is_left_to_aiortcs_task(pair: Pair) -> None:
    """Decided per datagram, in the callback: nothing between the lines below lets the loop run, so the live
    packets of the pair cannot interleave."""
    handler = direct_receive(pair.dtls)
    dtls, queue = pair.dtls, pair.dtls.transport._connection._queue
    junk = b"\x80\x6f" + bytes(98)  # shaped like RTP, not a packet of this SRTP session
    await until(queue.empty, "nothing waiting for aiortc's task")
    packets, octets, handled = dtls._RTCDtlsTransport__rx_packets, dtls._RTCDtlsTransport__rx_bytes, handler.handled
    handler.data_received(junk, 1)  # taken here, counted as aiortc counts it; SRTP refuses it: dropped
    assert queue.qsize() == 0 and handler.handled == handled and handler.on
    assert dtls._RTCDtlsTransport__rx_packets == packets + 1 and dtls._RTCDtlsTransport__rx_bytes == octets + 100
    handler.data_received(b"\x80" + bytes(1599), 1)  # longer than SRTP takes: dropped, the call goes on
    assert queue.qsize() == 0 and handler.on
    handler.data_received(bytes([0x80, 200]) + bytes(26), 1)  # SRTCP (a sender report): aiortc's task
    assert queue.qsize() == 1
    handler.data_received(junk, 1)  # something waits before it: behind it, in the queue
    assert queue.qsize() == 2
    await until(queue.empty, "aiortc's task took them")
    dtls._RTCDtlsTransport__handshake_done = False  # aiortc's task still reads through DTLS's timer
    try:
        handler.data_received(junk, 1)
        assert queue.qsize() == 1
    finally:
        dtls._RTCDtlsTransport__handshake_done = True
    await until(queue.empty, "aiortc's task took it")
    assert handler.on and pair.b.connectionState == "connected"


@pytest.mark.parametrize("failure", ["raises", "suspends"])
async def test_a_packet_that_fails_at_once_sends_the_transport_back_to_aiortcs_task(
    pair: Pair, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = pair.b.getTransceivers()[0].receiver
    original = receiver._handle_rtp_packet
    tripped = False

    async def handle(packet: Any, arrival_time_ms: int) -> None:
        nonlocal tripped
        if not tripped and asyncio.current_task() is None:  # the first packet handled at once
            tripped = True
            if failure == "raises":
                raise RuntimeError("a bug in what listens")
            await asyncio.sleep(0)
        await original(packet, arrival_time_ms=arrival_time_ms)

    receiver._handle_rtp_packet = handle
    handler = direct_receive(pair.dtls)
    with caplog.at_level(logging.ERROR, logger="media.direct_receive"):
        await until(lambda: tripped, "a packet handled at once")
        assert not handler.on
        handled, heard = handler.handled, pair.heard()
        await until(lambda: pair.heard() - heard >= RATE // 2, "the call still heard, through aiortc's task")
    assert handler.handled == handled  # nothing more at once
    assert any("aiortc's task" in r.getMessage() for r in caplog.records)


async def test_another_aiortc_is_refused(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(direct_receive_module.KNOWN_SOURCES, "Connection.data_received", {"0000000000000000"})
    direct_receive_module._unsupported.cache_clear()
    try:
        with pytest.raises(UnsupportedAiortcVersion, match="Connection.data_received"):
            direct_receive(pair.dtls)
    finally:
        direct_receive_module._unsupported.cache_clear()
    assert not isinstance(getattr(pair.dtls.transport._connection.data_received, "__self__", None), DirectReceive)
