"""The event loop a node runs on: asyncio's, except that a UDP socket is read until it is empty on each wake-up.

asyncio's selector loop reads one datagram per socket per loop iteration
(``_SelectorDatagramTransport._read_ready`` calls ``recvfrom`` once). A call leg
receives 50 packets a second, so once one iteration takes longer than 20 ms
(many legs, a decode, another process on the core) every leg's socket gains a
packet per iteration that it never catches up on, even when the CPU has room:
the queue only grows. Measured: ``bench speech --steps 30`` on a loaded 2-core
machine, the node's sockets held 13 MB (seconds of audio each), the peers' ICE
consent checks waited in the same queues past aioice's 0.5 s, and all 30 calls
ended "Consent to send expired"; ``bench bridge --modes tap --steps 16``, 3.4-3.8
MB and 1-3 legs lost that way (docs/benchmarks.md, "A node under load keeps up with its
sockets").

:class:`NodeEventLoop` reads up to :data:`READS_PER_WAKEUP` datagrams per
wake-up, as libuv (and so uvloop and Node.js) does, so a socket drains at the
rate the CPU allows rather than one packet per iteration. The cap keeps one
flooded socket from holding the loop: 32 datagrams are under a millisecond of
``recvfrom``. Everything else is asyncio's own loop; TCP is unchanged (a stream
read already takes everything buffered).

It overrides one private method of ``asyncio.selector_events`` and subclasses
its datagram transport; :func:`check_supported` (run when the module is
imported) fails at start-up, not on the first packet, if a Python changes them.
"""

from __future__ import annotations

import asyncio
import socket
from asyncio import selector_events
from typing import Any

from media.errors import UnsupportedPython

#: Datagrams read from one socket per wake-up at most (libuv reads 32).
READS_PER_WAKEUP = 32

_Transport: Any = getattr(selector_events, "_SelectorDatagramTransport", None)


def check_supported() -> None:
    """Raise if this Python's selector loop no longer has what :class:`NodeEventLoop` overrides."""
    missing = [
        name
        for owner, name in (
            (_Transport, "_read_ready"),
            (_Transport, "_fatal_error"),
            (asyncio.SelectorEventLoop, "_make_datagram_transport"),
        )
        if owner is None or not callable(getattr(owner, name, None))
    ]
    if missing:
        raise UnsupportedPython(
            f"this Python's asyncio lacks {', '.join(missing)}: media.event_loop cannot drain UDP sockets"
        )


check_supported()


class DrainingDatagramTransport(_Transport):  # type: ignore[misc]
    """asyncio's datagram transport, reading until the socket is empty (at most READS_PER_WAKEUP) per wake-up."""

    _sock: socket.socket
    _protocol: asyncio.DatagramProtocol
    _conn_lost: int
    _closing: bool
    _paused: bool
    max_size: int

    def _read_ready(self) -> None:
        for _ in range(READS_PER_WAKEUP):
            if self._conn_lost or self._closing or self._paused:  # closed or paused by the protocol: read no more
                return
            try:
                data, addr = self._sock.recvfrom(self.max_size)
            except (BlockingIOError, InterruptedError):
                return  # drained
            except OSError as exc:  # e.g. an ICMP error queued on the socket: the protocol's to see, as in asyncio
                self._protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # asyncio's own edge: logged by the loop and the transport closed
                self._fatal_error(exc, "Fatal read error on datagram transport")
                return
            self._protocol.datagram_received(data, addr)


class NodeEventLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop with :class:`DrainingDatagramTransport` for every UDP endpoint it creates."""

    def _make_datagram_transport(  # type: ignore[override]
        self,
        sock: socket.socket,
        protocol: asyncio.BaseProtocol,
        address: Any = None,
        waiter: asyncio.Future[None] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> asyncio.DatagramTransport:
        ensure = getattr(self, "_ensure_fd_no_transport", None)  # 3.12+: one transport per fd
        if ensure is not None:
            ensure(sock)
        transport: asyncio.DatagramTransport = DrainingDatagramTransport(self, sock, protocol, address, waiter, extra)
        return transport


def run(main: Any) -> Any:
    """``asyncio.run(main)`` on a :class:`NodeEventLoop`."""
    with asyncio.Runner(loop_factory=NodeEventLoop) as runner:
        return runner.run(main)
