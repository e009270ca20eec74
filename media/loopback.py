"""Two aiortc peers in one process, and a recorder that drains a remote audio track.

The harness the media tests and benchmarks share: :func:`peer_pair` makes
two ``RTCPeerConnection`` s without STUN (``iceServers=[]``) and always closes
them; :func:`connect` runs a non-trickle offer/answer between them and waits
until both are connected; :class:`TrackRecorder` drains a received track
(aiortc's decoder queue is unbounded: an undrained track grows forever),
converting every frame to 48 kHz mono int16 and remembering when it came.

aioice leaves 127.0.0.1 out of its host candidates; two peers in one process
still connect through the host's other interface addresses (both ends are
local). On a machine with only ``lo``, see :func:`loopback_only_host`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.audio import FrameConverter, Samples

SAMPLE_RATE = 48000


def loopback_only_host() -> bool:
    """True when aioice would find no host address at all (only ``lo``): ICE cannot connect then.

    Tests then point aioice at 127.0.0.1 themselves (``monkeypatch`` of
    ``aioice.ice.get_host_addresses``), never the production code.
    """
    import aioice.ice

    return not aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True)


@asynccontextmanager
async def peer_pair() -> AsyncIterator[tuple[RTCPeerConnection, RTCPeerConnection]]:
    """Two peer connections without STUN servers, closed (both) on the way out."""
    config = RTCConfiguration(iceServers=[])
    a, b = RTCPeerConnection(config), RTCPeerConnection(config)
    try:
        yield a, b
    finally:
        await asyncio.gather(a.close(), b.close())


async def connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection, timeout: float = 10.0) -> None:
    """Offer/answer (non-trickle: candidates are in the descriptions) and wait for "connected" on both."""
    connected = [_state_reached(pc, "connected") for pc in (offerer, answerer)]
    try:
        await offerer.setLocalDescription(await offerer.createOffer())
        await answerer.setRemoteDescription(offerer.localDescription)
        await answerer.setLocalDescription(await answerer.createAnswer())
        await offerer.setRemoteDescription(answerer.localDescription)
        async with asyncio.timeout(timeout):
            await asyncio.gather(*connected)
    finally:
        for fut in connected:
            fut.cancel()


def _state_reached(pc: RTCPeerConnection, state: str) -> asyncio.Future[None]:
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def check() -> None:
        if fut.done():
            return
        if pc.connectionState == state:
            fut.set_result(None)
        elif pc.connectionState in ("failed", "closed"):
            fut.set_exception(ConnectionError(f"peer connection {pc.connectionState} before {state!r}"))

    pc.on("connectionstatechange", check)
    check()
    return fut


@dataclass
class ReceivedFrame:
    """One decoded frame: when it arrived (monotonic seconds) and where it sits in ``samples``."""

    arrived: float
    offset: int
    length: int
    pts: int | None


@dataclass
class TrackRecorder:
    """Drains a remote audio track into 48 kHz mono int16 samples until stopped or the track ends.

    ``on_samples`` (optional) sees each converted frame as it arrives, e.g. a
    DTMF detector's ``feed``.
    """

    track: MediaStreamTrack
    on_samples: Callable[[Samples], object] | None = None
    clock: Callable[[], float] = time.monotonic
    frames: list[ReceivedFrame] = field(default_factory=list)
    _chunks: list[Samples] = field(default_factory=list)
    _length: int = 0
    _task: asyncio.Task[None] | None = None
    _converter: FrameConverter = field(default_factory=FrameConverter)

    def start(self) -> TrackRecorder:
        self._task = asyncio.ensure_future(self._run())
        return self

    async def stop(self) -> None:
        """Stop draining (the task is cancelled and awaited)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    @property
    def samples(self) -> Samples:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, dtype=np.int16)

    async def wait_for_samples(self, count: int, timeout: float = 10.0) -> None:
        """Wait until at least ``count`` samples arrived."""
        async with asyncio.timeout(timeout):
            while self._length < count:
                await asyncio.sleep(0.02)

    async def _run(self) -> None:
        while True:
            try:
                frame = await self.track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                raise TypeError(f"TrackRecorder records audio tracks, got {type(frame).__name__}")
            pts = frame.pts
            mono = self._converter.convert(frame)
            self.frames.append(ReceivedFrame(self.clock(), self._length, len(mono), pts))
            self._chunks.append(mono)
            self._length += len(mono)
            if self.on_samples is not None:
                self.on_samples(mono)
