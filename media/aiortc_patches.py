"""Process-wide speed-ups for aiortc hot paths and delays (opt-in, version-checked).

aiortc computes the RFC 6465 audio level of every frame it sends with a pure
Python loop over the samples (``aiortc.rtp.compute_audio_level_dbov``):
about 0.1 ms per 20 ms frame, a large share of a sending leg's CPU.
:func:`speed_up_aiortc` replaces it with the same arithmetic in numpy. The
result is identical (same formula, same rounding); the unit tests compare
both on random and edge-case frames.

aiortc's receiver holds audio in a jitter buffer that releases a frame only
once 4 later packets have arrived (``prefetch=4``): 80 ms on every leg the
gateway receives, paid twice on a bridged call and once more before the VAD
hears the end of an answer. :func:`shorten_audio_jitter_buffer` makes audio
buffers release after :data:`AUDIO_PREFETCH` packet(s) instead (video keeps
aiortc's settings). The price: a packet arriving more than that late behind
its successor is dropped; the browsers at the ends keep their own adaptive
buffers.

aioice binds ICE host candidates to any free UDP port; a firewall in front of the gateway needs a known
range. :func:`restrict_port_range` keeps call legs' sockets inside one (``--rtc-port-range``).

Behind 1:1 NAT, :func:`map_public_address` makes call legs offer the public address too (``--rtc-public-address``).

A bridge relays Opus packets between two legs without decoding them: :func:`relay_point` puts a
:class:`PacketRelay` in the place of one receiver's jitter buffer (per receiver, version-checked), so each
depayloaded packet can go to the other leg's sender as it arrives, to the buffer and decoder, or both.

aioice adds the sockets it binds for a component's candidates to its connection only once gathering returns;
a peer connection closed in between keeps them open until the garbage collector finds them.
:func:`close_late_candidate_sockets` closes them when gathering returns on a closing connection.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import math
import random
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aioice
import aioice.ice
import numpy as np
from aioice.candidate import candidate_foundation, candidate_priority
from aiortc import rtcrtpreceiver, rtp
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpsender import RTCRtpSender
from av import AudioFrame

from media.errors import MediaError, UnsupportedAiortcVersion

_MAX_SAMPLE_VALUE = 32767
_MIN_AUDIO_LEVEL = -127
_MAX_AUDIO_LEVEL = 0

#: aiortc's own implementation, kept for comparison and :func:`restore_aiortc`.
ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV = rtp.compute_audio_level_dbov


def compute_audio_level_dbov(frame: AudioFrame) -> int:
    """RFC 6465 Appendix A level of an s16 frame, in -dBov (0 loudest, -127 silence); numpy version.

    Same arithmetic as aiortc's: the sum of squares over the first plane
    divided by ``frame.samples`` (so a packed stereo frame counts both
    channels, exactly like aiortc).
    """
    samples = np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16)
    x = samples.astype(np.float64)
    rms = math.sqrt(float(np.dot(x, x)) / (frame.samples * _MAX_SAMPLE_VALUE * _MAX_SAMPLE_VALUE))
    if rms > 0:
        db = min(max(20 * math.log10(rms), _MIN_AUDIO_LEVEL), _MAX_AUDIO_LEVEL)
    else:
        db = _MIN_AUDIO_LEVEL
    return round(db)


def speed_up_aiortc() -> None:
    """Install the numpy audio level in aiortc (idempotent, process-wide).

    Raises :class:`UnsupportedAiortcVersion` if aiortc no longer calls
    ``rtp.compute_audio_level_dbov`` from ``RTCRtpSender``, so a silent no-op
    cannot hide after an upgrade.
    """
    code = RTCRtpSender._next_encoded_frame.__code__
    if "compute_audio_level_dbov" not in code.co_names or not hasattr(rtp, "compute_audio_level_dbov"):
        raise UnsupportedAiortcVersion(
            "aiortc's RTCRtpSender no longer calls rtp.compute_audio_level_dbov; review media/aiortc_patches.py"
        )
    rtp.compute_audio_level_dbov = compute_audio_level_dbov


def restore_aiortc() -> None:
    """Put aiortc's own implementation back (for tests and before/after measurements)."""
    rtp.compute_audio_level_dbov = ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV


def is_sped_up() -> bool:
    return rtp.compute_audio_level_dbov is compute_audio_level_dbov


#: Packets an audio jitter buffer waits for beyond the frame it releases (aiortc: 4, i.e. 80 ms).
AUDIO_PREFETCH = 1
ORIGINAL_JITTER_BUFFER = rtcrtpreceiver.JitterBuffer


class ShortAudioJitterBuffer(JitterBuffer):
    """aiortc's jitter buffer with at most :data:`AUDIO_PREFETCH` packets of prefetch for audio."""

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = False) -> None:
        super().__init__(capacity, prefetch if is_video else min(prefetch, AUDIO_PREFETCH), is_video)


def shorten_audio_jitter_buffer() -> None:
    """Make every receiver created from now on use :class:`ShortAudioJitterBuffer` (idempotent, process-wide).

    Raises :class:`UnsupportedAiortcVersion` when aiortc's receiver no longer builds its buffer from
    ``rtcrtpreceiver.JitterBuffer`` with a ``prefetch`` argument.
    """
    code = rtcrtpreceiver.RTCRtpReceiver.__init__.__code__
    if "JitterBuffer" not in code.co_names or "prefetch" not in ORIGINAL_JITTER_BUFFER.__init__.__code__.co_varnames:
        raise UnsupportedAiortcVersion(
            "aiortc's RTCRtpReceiver no longer makes rtcrtpreceiver.JitterBuffer(prefetch=...); "
            "review media/aiortc_patches.py"
        )
    rtcrtpreceiver.JitterBuffer = ShortAudioJitterBuffer  # type: ignore[misc]


def restore_jitter_buffer() -> None:
    rtcrtpreceiver.JitterBuffer = ORIGINAL_JITTER_BUFFER  # type: ignore[misc]


# ---------------------------------------------------------------- UDP port range for ICE host candidates


class RtcPortsExhausted(MediaError):
    """Every UDP port of the configured range is taken on an address a call leg must bind."""

    code = "rtc_ports_exhausted"


ORIGINAL_GET_COMPONENT_CANDIDATES = aioice.ice.Connection.get_component_candidates
_port_range: tuple[int, int] | None = None
_gathering: ContextVar[tuple[int, int] | None] = ContextVar("rtc_port_range_gathering", default=None)
_exempt: ContextVar[bool] = ContextVar("rtc_port_range_exempt", default=False)


def restrict_port_range(port_range: tuple[int, int] | None) -> None:
    """Call legs bind their UDP sockets (ICE host candidates) only to ports ``first..last`` (process-wide).

    aioice binds each host candidate to port 0 (any) and has no option for a range, so the host gathering
    of :class:`aioice.ice.Connection` runs with a marker, and the event loop's ``create_datagram_endpoint``
    then binds a socket inside the range itself for those calls (a random start, the next free port).
    ``None`` lifts the restriction. When every port is taken, gathering raises :class:`RtcPortsExhausted`
    (aioice would otherwise skip the address and answer with no candidate at all). The client socket of a
    TURN allocation is not a host candidate and still uses an ephemeral port (outgoing to the TURN server).

    Raises :class:`UnsupportedAiortcVersion` if aioice no longer gathers host candidates with
    ``loop.create_datagram_endpoint(..., local_addr=(address, 0))``.
    """
    global _port_range
    code = ORIGINAL_GET_COMPONENT_CANDIDATES.__code__
    keywords = {name for const in code.co_consts if isinstance(const, tuple) for name in const}
    if "create_datagram_endpoint" not in code.co_names or "local_addr" not in keywords:
        raise UnsupportedAiortcVersion(
            "aioice's Connection.get_component_candidates no longer binds host "
            "candidates with create_datagram_endpoint(local_addr=...); "
            "review media/aiortc_patches.py"
        )
    if port_range is not None and not (0 < port_range[0] <= port_range[1] < 65536):
        raise ValueError(f"not a UDP port range: {port_range!r}")
    _port_range = port_range
    aioice.ice.Connection.get_component_candidates = _get_component_candidates  # type: ignore[method-assign]


def restore_port_range() -> None:
    """Lift the range (any port again). The gathering wrapper stays: without a range it is aioice's own gathering
    plus :func:`close_late_candidate_sockets`."""
    global _port_range
    _port_range = None


def close_late_candidate_sockets() -> None:
    """A connection closed while aioice still binds its candidates' sockets closes them too (process-wide,
    idempotent; :func:`restrict_port_range` installs it as well).

    aioice's ``Connection.get_component_candidates`` adds the sockets it bound to the connection only after all
    are bound (and STUN/TURN answered). A ``close()`` in between (a peer connection closed while its offer or
    answer is gathering) closes what the connection held then, and the late sockets stay open, unowned, until the
    garbage collector finds them: an "unclosed transport" ResourceWarning in whatever runs at that moment.
    ``tests/unit/test_media_aiortc_patches.py`` holds a gathering at that point and checks no socket stays open.

    Raises :class:`UnsupportedAiortcVersion` if aioice's ``Connection.close`` no longer sets ``_closing``.
    """
    if "_closing" not in aioice.ice.Connection.close.__code__.co_names:
        raise UnsupportedAiortcVersion(
            "aioice's Connection.close() no longer sets _closing; "
            "review close_late_candidate_sockets in media/aiortc_patches.py"
        )
    aioice.ice.Connection.get_component_candidates = _get_component_candidates  # type: ignore[method-assign]


@contextmanager
def ports_outside_range() -> Iterator[None]:
    """Peers gathered inside this block are not call legs (test callers, benchmark clients in the gateway's
    process): they bind any port and leave the range to the legs."""
    marker = _exempt.set(True)
    try:
        yield
    finally:
        _exempt.reset(marker)


# ---------------------------------------------------------------- public address behind 1:1 NAT

_public_address: str | None = None


def map_public_address(address: str | None) -> None:
    """Call legs offer ``address`` beside each host candidate of the same IP version, with the host candidate's
    port (process-wide; ``None``: no mapping).

    For a gateway behind 1:1 NAT (a cloud VM whose public IP is not on an interface, every port forwarded as is):
    the candidate is what STUN would have found, a server-reflexive one whose related address is the host
    candidate, without asking a STUN server. aioice pairs only its sockets' own candidates, so the mapped one
    changes the SDP, not where checks are sent from; the remote's checks to it reach the host socket through
    the NAT. Test callers inside :func:`ports_outside_range` get no mapping.

    Raises :class:`UnsupportedAiortcVersion` when aioice's gathering no longer matches (see
    :func:`close_late_candidate_sockets`).
    """
    global _public_address
    if address is not None:
        ipaddress.ip_address(address)  # ValueError for nonsense
    close_late_candidate_sockets()
    _public_address = address


def _mapped(candidates: list[aioice.Candidate], public: str) -> list[aioice.Candidate]:
    version = ipaddress.ip_address(public).version
    out = []
    for c in candidates:
        if c.type != "host" or c.host == public or ipaddress.ip_address(c.host.split("%")[0]).version != version:
            continue
        out.append(
            aioice.Candidate(
                foundation=candidate_foundation("srflx", "udp", c.host),
                component=c.component,
                transport=c.transport,
                priority=candidate_priority(c.component, "srflx"),
                host=public,
                port=c.port,
                type="srflx",
                related_address=c.host,
                related_port=c.port,
            )
        )
    return out


async def _get_component_candidates(
    self: aioice.ice.Connection, component: int, addresses: list[str], timeout: int = 5
) -> list[aioice.Candidate]:
    if _exempt.get():
        return await _gather_closing_late_sockets(self, component, addresses, timeout)
    public = _public_address
    candidates = await _gather_in_range(self, component, addresses, timeout)
    return candidates + _mapped(candidates, public) if public is not None else candidates


async def _gather_in_range(
    self: aioice.ice.Connection, component: int, addresses: list[str], timeout: int
) -> list[aioice.Candidate]:
    chosen = _port_range
    if chosen is None:
        return await _gather_closing_late_sockets(self, component, addresses, timeout)
    loop = asyncio.get_running_loop()
    if not isinstance(getattr(loop, "create_datagram_endpoint", None), _RangeBinder):
        loop.create_datagram_endpoint = _RangeBinder(loop.create_datagram_endpoint)  # type: ignore[method-assign,assignment]
    marker = _gathering.set(chosen)
    try:
        return await _gather_closing_late_sockets(self, component, addresses, timeout)
    finally:
        _gathering.reset(marker)


async def _gather_closing_late_sockets(
    self: aioice.ice.Connection, component: int, addresses: list[str], timeout: int
) -> list[aioice.Candidate]:
    """aioice's gathering; if the connection began closing meanwhile, the sockets it added are closed here (a
    close() still running closes them too: closing twice is harmless, missing one leaks it)."""
    held = list(self._protocols)  # the objects, not their ids: close() may free them and an id be reused
    candidates = await ORIGINAL_GET_COMPONENT_CANDIDATES(self, component, addresses, timeout)
    if getattr(self, "_closing", False):
        for protocol in [p for p in self._protocols if not any(p is h for h in held)]:
            await protocol.close()
    return candidates


class _RangeBinder:
    """The loop's ``create_datagram_endpoint``, binding inside the range while aioice gathers host candidates."""

    def __init__(self, original: Callable[..., Awaitable[Any]]) -> None:
        self.original = original

    async def __call__(
        self,
        protocol_factory: Callable[[], Any],
        local_addr: tuple[str, int] | None = None,
        remote_addr: tuple[str, int] | None = None,
        **kwargs: Any,
    ) -> Any:
        chosen = _gathering.get()
        if chosen is None or local_addr is None or remote_addr is not None or local_addr[1] != 0:
            return await self.original(protocol_factory, local_addr=local_addr, remote_addr=remote_addr, **kwargs)
        sock = bind_in_range(local_addr[0], chosen)
        try:
            return await self.original(protocol_factory, sock=sock, **kwargs)
        except BaseException:
            sock.close()
            raise


def bind_in_range(address: str, port_range: tuple[int, int]) -> socket.socket:
    """A UDP socket bound to ``address`` on a free port of ``port_range`` (scanned from a random start)."""
    first, last = port_range
    size = last - first + 1
    family = socket.AF_INET6 if ipaddress.ip_address(address.split("%")[0]).version == 6 else socket.AF_INET
    start = random.randrange(size)
    for i in range(size):
        port = first + (start + i) % size
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((address, port))
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise
        return sock
    raise RtcPortsExhausted(
        f"no free UDP port for a call leg on {address}: all {size} ports of the RTC port "
        f"range {first}-{last} are in use (widen --rtc-port-range or lower --max-calls)"
    )


# ---------------------------------------------------------------- relaying a receiver's packets (media.bridge)

_JITTER_BUFFER_ATTR = "_RTCRtpReceiver__jitter_buffer"


class PacketRelay:
    """One audio receiver's packets, taken before aiortc's jitter buffer (the bridge relays them untouched).

    aiortc hands every depayloaded RTP packet of a receiver to its jitter buffer, which releases frames to
    the decoder thread. :func:`relay_point` puts this object in the buffer's place. With a ``sink``, each
    packet of ``payload_type`` (the negotiated Opus) goes to it the moment it arrives (no buffering, no
    decode); ``decode`` says whether the packet is also decoded (a tap listens): by ``beside`` when the
    owner gave one (the leg decodes it at once, in arrival order, without aiortc's jitter buffer and decoder
    thread: a lost packet is a gap in what the tap hears, never in what the other side hears), else it goes
    on to the buffer and aiortc's decoder.
    Without a sink, each packet is decoded by ``beside`` when the owner gave one (a leg the IVR listens to
    decodes its packets as they arrive, on the event loop: aiortc's buffer would hold each 20 ms more and its
    decoder thread hand every frame back to the loop with a wake-up), else it goes to the buffer as before.
    Other payload types (a codec other than the negotiated Opus) take aiortc's path. When decoding starts
    again the buffer starts empty (a stale one would wait for sequence numbers long gone).
    """

    def __init__(self, inner: JitterBuffer, payload_type: int) -> None:
        self.inner = inner
        self.payload_type = payload_type
        self.sink: Callable[[rtp.RtpPacket], None] | None = None
        self.beside: Callable[[rtp.RtpPacket], None] | None = None  # decodes a relayed packet for the taps
        self._decode = True
        self.received = 0  # packets of any payload type (what says the far end still sends)
        self.relayed = 0  # packets handed to the sink
        self.decoded_beside = 0  # packets handed to ``beside`` (relayed and tapped, or not relayed)
        self.buffered = 0  # packets handed to the jitter buffer (and on to the decoder)

    @property
    def capacity(self) -> int:
        return self.inner.capacity

    @property
    def decode(self) -> bool:
        return self._decode

    @decode.setter
    def decode(self, on: bool) -> None:
        if on and not self._decode:
            self.inner = type(self.inner)(self.inner.capacity, self.inner._prefetch)
        self._decode = on

    def add(self, packet: rtp.RtpPacket) -> tuple[bool, Any]:
        self.received += 1
        if packet.payload_type == self.payload_type:
            if self.sink is not None:
                self.relayed += 1
                self.sink(packet)
                if not self._decode:
                    return False, None
            if self.beside is not None:  # relayed and tapped, or not relayed at all (an IVR leg, a held call)
                self.decoded_beside += 1
                self.beside(packet)
                return False, None
        self.buffered += 1
        return self.inner.add(packet)


def relay_point(receiver: rtcrtpreceiver.RTCRtpReceiver, payload_type: int) -> PacketRelay:
    """Put a :class:`PacketRelay` between ``receiver`` and its jitter buffer (once per receiver; returns it).

    Raises :class:`UnsupportedAiortcVersion` when aiortc's receiver no longer hands packets to
    ``self.__jitter_buffer.add`` in ``_handle_rtp_packet``.
    """
    code = rtcrtpreceiver.RTCRtpReceiver._handle_rtp_packet.__code__
    current = getattr(receiver, _JITTER_BUFFER_ATTR, None)
    if _JITTER_BUFFER_ATTR not in code.co_names or "add" not in code.co_names or current is None:
        raise UnsupportedAiortcVersion(
            "aiortc's RTCRtpReceiver no longer feeds self.__jitter_buffer.add(packet); review relay_point in "
            "media/aiortc_patches.py"
        )
    if isinstance(current, PacketRelay):
        current.payload_type = payload_type
        return current
    relay = PacketRelay(current, payload_type)
    setattr(receiver, _JITTER_BUFFER_ATTR, relay)
    return relay
