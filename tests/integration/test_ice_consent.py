"""ICE consent on a slow path: two aioice connections through a UDP relay on loopback that delays or drops packets.

A round trip of 4 s (2 s each way: a mobile uplink with a full buffer, at its worst) keeps consent: every request
is answered, only late. A path that stops carrying anything loses it within RFC 7675's 30 s plus one check. Real
timers (the consent clock is aioice's 4-6 s rhythm and the 30 s expiry): the test takes about 40 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aioice
import aioice.ice
import pytest

from media.consent import CONSENT_EXPIRY, is_patient, patient_consent

Address = tuple[str, int]


class _Side(asyncio.DatagramProtocol):
    def __init__(self, relay: Relay, name: str) -> None:
        self.relay = relay
        self.name = name
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay.forward(self.name, data)


class Relay:
    """A UDP path between ``a`` and ``b``: each talks to its own relay socket, which forwards from the other one,
    after ``delay`` seconds, or not at all once ``cut``."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.cut = False
        self.ends: dict[str, Address] = {}  # name -> the real address the relay forwards to
        self.sides: dict[str, _Side] = {}
        self.forwarded = 0
        self._pending: set[asyncio.TimerHandle] = set()

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for name in ("a", "b"):
            _, side = await loop.create_datagram_endpoint(
                lambda name=name: _Side(self, name),  # type: ignore[misc]
                local_addr=("127.0.0.1", 0),
            )
            self.sides[name] = side

    def address_for(self, name: str) -> Address:
        """Where ``name`` sends to reach the other end."""
        return self.sides[name].transport.get_extra_info("sockname")  # type: ignore[no-any-return]

    def forward(self, came_to: str, data: bytes) -> None:
        if self.cut:
            return
        other = "b" if came_to == "a" else "a"
        out = self.sides[other].transport

        def send() -> None:
            self._pending.discard(handle)
            if not self.cut and not out.is_closing():
                out.sendto(data, self.ends[other])
                self.forwarded += 1

        handle = asyncio.get_running_loop().call_later(self.delay, send)
        self._pending.add(handle)

    def close(self) -> None:
        for handle in self._pending:
            handle.cancel()
        for side in self.sides.values():
            side.transport.close()


@pytest.fixture
def patient() -> Iterator[None]:
    was = aioice.ice.Connection.query_consent
    patient_consent()
    yield
    aioice.ice.Connection.query_consent = was  # type: ignore[method-assign]


@asynccontextmanager
async def pair_through(relay: Relay) -> AsyncIterator[tuple[aioice.Connection, aioice.Connection]]:
    """Two connected aioice connections whose only path is ``relay``."""
    a = aioice.Connection(ice_controlling=True, use_ipv6=False)
    b = aioice.Connection(ice_controlling=False, use_ipv6=False)
    try:
        await asyncio.gather(a.gather_candidates(), b.gather_candidates())
        for name, me, other in (("a", a, b), ("b", b, a)):
            (mine,) = me.local_candidates
            relay.ends[name] = (mine.host, mine.port)
            me.remote_username, me.remote_password = other.local_username, other.local_password
        for name, me, other in (("a", a, b), ("b", b, a)):
            (theirs,) = other.local_candidates
            host, port = relay.address_for(name)
            await me.add_remote_candidate(
                aioice.Candidate(
                    foundation=theirs.foundation,
                    component=1,
                    transport="udp",
                    priority=theirs.priority,
                    host=host,
                    port=port,
                    type="host",
                )
            )
            await me.add_remote_candidate(None)
        await asyncio.wait_for(asyncio.gather(a.connect(), b.connect()), 10)
        yield a, b
    finally:
        await asyncio.gather(a.close(), b.close())


async def closed_at(connection: aioice.Connection) -> float:
    """When ``connection`` reports itself closed (loop time)."""
    while not isinstance(await connection.get_event(), aioice.ice.ConnectionClosed):
        pass
    return asyncio.get_running_loop().time()


async def exchange(a: aioice.Connection, b: aioice.Connection, timeout: float) -> None:
    await a.send(b"ping")
    assert await asyncio.wait_for(b.recv(), timeout) == b"ping"
    await b.send(b"pong")
    assert await asyncio.wait_for(a.recv(), timeout) == b"pong"


async def test_a_slow_path_keeps_consent_and_a_cut_one_loses_it(patient: None) -> None:
    assert is_patient()
    slow, dead = Relay(), Relay()
    await slow.open()
    await dead.open()
    try:
        async with pair_through(slow) as (a, b), pair_through(dead) as (c, d):
            await exchange(a, b, 2)
            await exchange(c, d, 2)
            slow.delay = 2.0  # a 4 s round trip from now on: eight times what aioice gives a consent check
            dead.cut = True
            loop = asyncio.get_running_loop()
            cut_at = loop.time()
            watchers = {
                name: asyncio.create_task(closed_at(conn)) for name, conn in zip("abcd", (a, b, c, d), strict=True)
            }
            # the last answer came up to one check interval (6 s) before the cut; the close comes at the first check
            # CONSENT_EXPIRY after it, at most one interval later
            earliest, latest = CONSENT_EXPIRY - 6 - 1, CONSENT_EXPIRY + 6 + 1
            try:
                await asyncio.wait(watchers.values(), timeout=latest + 1)
                ended = {name: watch.result() - cut_at for name, watch in watchers.items() if watch.done()}
            finally:
                for watch in watchers.values():
                    watch.cancel()
                await asyncio.gather(*watchers.values(), return_exceptions=True)
            # aioice's own checks close the slow pair about 30-36 s in; these must not
            assert "a" not in ended and "b" not in ended, f"the slow path lost consent: {ended}"
            assert set(ended) == {"c", "d"} and all(earliest <= t <= latest for t in ended.values()), ended
            await exchange(a, b, 5)  # and it still carries data
            assert slow.forwarded > 0
    finally:
        slow.close()
        dead.close()
