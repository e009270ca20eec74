"""The node's event loop reads a UDP socket empty (up to a cap) on each wake-up; asyncio's reads one datagram.

Real sockets on loopback: datagrams sent on loopback are in the receiver's queue when ``sendto`` returns, so a
burst sent before the loop runs is the backlog a busy loop finds.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from media.event_loop import READS_PER_WAKEUP, NodeEventLoop


class Receiver(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: list[bytes] = []
        self.errors: list[OSError] = []
        self.transport: Any = None  # asyncio's selector datagram transport
        self.close_after: int | None = None
        self.pause_after: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.got.append(data)
        if self.close_after is not None and len(self.got) >= self.close_after:
            self.transport.close()
        if self.pause_after is not None and len(self.got) == self.pause_after:
            self.transport.pause_reading()

    def error_received(self, exc: OSError) -> None:
        self.errors.append(exc)


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[Receiver, tuple[str, int], socket.socket]]:
    loop = asyncio.get_running_loop()
    transport, receiver = await loop.create_datagram_endpoint(Receiver, local_addr=("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        yield receiver, transport.get_extra_info("sockname"), sender
    finally:
        sender.close()
        transport.close()
        await asyncio.sleep(0)


async def reads_per_iteration(receiver: Receiver, total: int) -> list[int]:
    """The datagrams read in each loop iteration until ``total`` are in (iterations reading none left out)."""
    counts = []
    for _ in range(1000):
        before = len(receiver.got)
        await asyncio.sleep(0)  # one loop iteration: poll, run what became ready
        if len(receiver.got) > before:
            counts.append(len(receiver.got) - before)
        if len(receiver.got) >= total:
            return counts
    raise AssertionError(f"only {len(receiver.got)} of {total} datagrams read in 1000 iterations")


async def test_the_tests_run_on_the_nodes_loop() -> None:
    assert type(asyncio.get_running_loop()) is NodeEventLoop


async def test_a_backlog_is_read_in_one_wake_up_up_to_the_cap(
    endpoint: tuple[Receiver, tuple[str, int], socket.socket],
) -> None:
    receiver, address, sender = endpoint
    total = READS_PER_WAKEUP * 2 + 5
    for n in range(total):
        sender.sendto(b"%d" % n, address)
    assert await reads_per_iteration(receiver, total) == [READS_PER_WAKEUP, READS_PER_WAKEUP, 5]
    assert receiver.got == [b"%d" % n for n in range(total)]  # in order, none lost


def test_asyncios_own_loop_reads_one_datagram_per_wake_up() -> None:
    """What the node's loop is for, shown on the loop it replaces (a Python that changes this shows here)."""

    async def burst() -> list[int]:
        loop = asyncio.get_running_loop()
        transport, receiver = await loop.create_datagram_endpoint(Receiver, local_addr=("127.0.0.1", 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for n in range(10):
                sender.sendto(b"%d" % n, transport.get_extra_info("sockname"))
            counts = await reads_per_iteration(receiver, 10)
        transport.close()
        await asyncio.sleep(0)
        return counts

    plain = asyncio.SelectorEventLoop()
    try:
        assert plain.run_until_complete(burst()) == [1] * 10
    finally:
        plain.close()


async def send_ten_and_run_the_loop(sender: socket.socket, address: tuple[str, int]) -> None:
    """Queue datagrams 0..9 at ``address``, then let the loop run a few iterations (reads up to 32 a wake-up)."""
    for n in range(10):
        sender.sendto(b"%d" % n, address)
    for _ in range(5):
        await asyncio.sleep(0)


async def test_closing_the_transport_while_reading_stops_the_reads(
    endpoint: tuple[Receiver, tuple[str, int], socket.socket],
) -> None:
    receiver, address, sender = endpoint
    receiver.close_after = 3
    await send_ten_and_run_the_loop(sender, address)
    assert receiver.got == [b"0", b"1", b"2"]


async def test_pausing_reading_while_reading_stops_the_reads_until_resumed(
    endpoint: tuple[Receiver, tuple[str, int], socket.socket],
) -> None:
    receiver, address, sender = endpoint
    receiver.pause_after = 3
    await send_ten_and_run_the_loop(sender, address)
    assert receiver.got == [b"0", b"1", b"2"]  # as asyncio's: pause_reading() takes the socket off the selector
    receiver.transport.resume_reading()
    assert await reads_per_iteration(receiver, 10) == [7]
    assert receiver.got == [b"%d" % n for n in range(10)]


async def test_an_icmp_error_goes_to_the_protocol_and_reading_goes_on() -> None:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as gone:
        gone.bind(("127.0.0.1", 0))
        gone_address = gone.getsockname()
    # a connected UDP socket is told ECONNREFUSED when it sends to a port nobody listens on
    transport, receiver = await loop.create_datagram_endpoint(Receiver, remote_addr=gone_address)
    try:
        transport.sendto(b"ping")
        await asyncio.sleep(0.05)
        assert [e.errno for e in receiver.errors] == [errno.ECONNREFUSED]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(gone_address)  # listened on again: what it sends is read
            for n in range(3):
                peer.sendto(b"%d" % n, transport.get_extra_info("sockname"))
            await asyncio.sleep(0.05)
        assert receiver.got == [b"0", b"1", b"2"]
        assert not transport.is_closing()
    finally:
        transport.close()
        await asyncio.sleep(0)
