"""Received SRTP packets handled as the socket is read, not one event-loop pass later.

aioice hands every datagram of an ICE connection that is not STUN to a queue (``Connection.data_received``);
aiortc's DTLS transport has a task (``RTCDtlsTransport.__run``) that awaits that queue and, for each SRTP
packet, counts it, decrypts it, parses it and routes it to its receiver (``_handle_rtp_data``), which hands it
to the jitter buffer or, on a leg of this project, to the relay point (media.aiortc_patches.PacketRelay: the
bridge forwards it, the IVR decodes it beside). So every packet costs a task wake-up: a future, a task step,
four coroutine frames resumed and suspended again, and one more pass of the event loop before the packet is
looked at. A call leg receives 50 packets a second; a bridged call's two legs 100.

:func:`direct_receive` gives one DTLS transport a shorter way: an SRTP packet (not SRTCP) that arrives while
the connection's queue is empty is handled in the datagram callback itself (:class:`DirectReceive`): the same
counters, the same SRTP session, aiortc's own ``_handle_rtp_data`` run to its end at once. That coroutine
never suspends for audio: what it awaits is the receiver's RTCP feedback (REMB, NACK and PLI are video's), and
sending RTCP is ``RTCDtlsTransport._send_rtp``, which does not suspend on aioice's pairs (media/direct_send.py
relies on the same). Everything else goes to the queue as before: DTLS records (the handshake, its
retransmissions, the close), SRTCP, any packet that arrives while earlier ones still wait in the queue, and
every packet until DTLS says its handshake is over (aiortc's task reads through a timer until then, holding a
packet it took for a few loop passes), so nothing is reordered. A packet SRTP refuses (replayed, forged, over
1500 bytes) is dropped, as aiortc drops what it refuses (an oversized one ends the call on aiortc's path).
Should a packet's handling ever suspend or raise, that packet is dropped and the transport goes back to the
queue for good (logged): aiortc's task handles what follows as it always did, and ends the transport on the
next failure as aiortc would.

The code this relies on is checked by a hash of its source (aiortc 1.16.0, aioice 0.13.0); on another version
:func:`direct_receive` raises :class:`~media.errors.UnsupportedAiortcVersion` and packets take aiortc's task.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

import aioice.ice
import pylibsrtp
from aiortc import clock
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import is_rtcp

from media.direct_send import run_at_once
from media.errors import UnsupportedAiortcVersion
from media.source_check import unsupported

log = logging.getLogger(__name__)

#: sha256 (first 16 hex digits) of the source of what this module copies or relies on, as written against.
KNOWN_SOURCES = {
    "RTCDtlsTransport._recv_next": {"998076720c05aa13"},  # aiortc 1.16.0: what a packet goes through
    "RTCDtlsTransport.__run": {"24d63d929a104e16"},  # each item handled in the step that takes it
    "RTCDtlsTransport.start": {"3b3522667fe0a3da"},  # CONNECTED only once the SRTP sessions exist
    "RTCDtlsTransport._handle_rtp_data": {"5def9061cc3da1f6"},
    "RTCRtpReceiver._handle_rtp_packet": {"4e54983d021a6336"},  # its awaits: RTCP feedback only
    "RTCRtpReceiver._send_rtcp": {"9f0bc9f6a8ddb289"},  # that feedback: sent without suspending
    "RTCDtlsTransport._send_rtp": {"763b02bceb0b0ab9"},
    "Connection.data_received": {"5631b17fab717d6b"},  # aioice 0.13.0: the queue
    "Connection.recvfrom": {"676acc01e4a9a9da"},
    "Connection.send": {"8f91d54578f0ca74"},
    "Connection.sendto": {"bf162ec03bdce2cc"},
    "StunProtocol.datagram_received": {"ff4c8b910d45fb3a"},  # calls data_received for what is not STUN
    "StunProtocol.send_data": {"8bfbce074a897482"},
}
_D = "_RTCDtlsTransport__"  # aiortc's private attributes of the DTLS transport (name-mangled)


def _relied_on() -> Iterator[Any]:
    yield from (
        RTCDtlsTransport._recv_next,
        RTCDtlsTransport._RTCDtlsTransport__run,  # type: ignore[attr-defined]
        RTCDtlsTransport.start,
        RTCDtlsTransport._handle_rtp_data,
        RTCRtpReceiver._handle_rtp_packet,
        RTCRtpReceiver._send_rtcp,
        RTCDtlsTransport._send_rtp,
        aioice.ice.Connection.data_received,
        aioice.ice.Connection.recvfrom,
        aioice.ice.Connection.send,
        aioice.ice.Connection.sendto,
        aioice.ice.StunProtocol.datagram_received,
        aioice.ice.StunProtocol.send_data,
    )


@functools.cache
def _unsupported() -> str | None:
    """Why this module cannot run on the installed aiortc/aioice, or None."""
    return unsupported(_relied_on(), KNOWN_SOURCES, "media/direct_receive.py")


class DirectReceive:
    """One DTLS transport's SRTP packets, handled in its ICE connection's datagram callback (module docstring)."""

    def __init__(self, dtls: RTCDtlsTransport, connection: aioice.ice.Connection) -> None:
        self.dtls = dtls
        self.connection = connection
        self.queued: Callable[[bytes, int], None] = connection.data_received  # aioice's own: to the queue
        self.handled = 0  # packets handled here (the rest went to the queue)
        self.on = True  # False once a packet's handling suspended or raised: the queue from then on

    def data_received(self, data: bytes, component: int) -> None:
        dtls = self.dtls
        if not (
            self.on
            and data
            and 127 < data[0] < 192  # RTP or RTCP (RFC 7983); DTLS records are 20-63
            and not is_rtcp(data)
            and dtls._state == State.CONNECTED
            and dtls._rx_srtp is not None
            # the task reads through a timer until DTLS says the handshake is over (DTLS 1.3's last flight): it
            # may then hold a packet taken from the queue for a few loop passes, and one handled here would pass it
            and getattr(dtls, _D + "handshake_done")
            and self.connection._queue.empty()  # nothing earlier waits: handling this now reorders nothing
        ):
            self.queued(data, component)
            return
        # what _recv_next does with an SRTP packet
        setattr(dtls, _D + "rx_bytes", getattr(dtls, _D + "rx_bytes") + len(data))
        setattr(dtls, _D + "rx_packets", getattr(dtls, _D + "rx_packets") + 1)
        arrival_time_ms = clock.current_ms()
        try:
            plain = dtls._rx_srtp.unprotect(data)
        except (pylibsrtp.Error, ValueError):  # replayed, forged, or longer than SRTP takes (1500 bytes): dropped
            return
        self.handled += 1
        try:
            done = run_at_once(dtls._handle_rtp_data(plain, arrival_time_ms=arrival_time_ms))
        except Exception:  # aiortc's task would end the transport on it: the queue's path decides from now on
            self.on = False
            log.exception("handling a received packet at once failed; this call's packets take aiortc's task")
            return
        if not done:  # the rest of this packet's handling is lost
            self.on = False
            log.error(
                "a received packet's handling suspended (aiortc changed?); this call's packets take aiortc's task"
            )


def direct_receive(dtls: RTCDtlsTransport) -> DirectReceive:
    """Handle ``dtls``'s received SRTP packets at once from now on (idempotent; returns the handler).

    Raises :class:`UnsupportedAiortcVersion` when the installed aiortc or aioice is not the code this was written
    against, and ValueError when the transport has no ICE connection yet.
    """
    why = _unsupported()
    if why is not None:
        raise UnsupportedAiortcVersion(f"{why}; received packets go through aiortc's task")
    connection = getattr(dtls.transport, "_connection", None)
    if connection is None:
        raise ValueError("the DTLS transport has no ICE connection yet")
    current = connection.__dict__.get("data_received")
    if current is not None and isinstance(getattr(current, "__self__", None), DirectReceive):
        return current.__self__  # type: ignore[no-any-return]
    handler = DirectReceive(dtls, connection)
    connection.data_received = handler.data_received
    return handler
