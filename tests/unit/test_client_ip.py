"""Which address a request counts as: X-Forwarded-For only from trusted proxies; IPv6 counted by its /64."""

from __future__ import annotations

import pytest

from gateway.client_ip import client_address, limit_key, parse_networks

PROXIES = parse_networks(["10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not a proxy of ours: the header is the client's word
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),  # our proxy says who it forwarded
        ("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.0.0.7", "198.51.100.1"),  # right-most address that is not our proxy
        ("10.1.2.3", "not-an-address", "10.1.2.3"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(peer, forwarded or "", PROXIES) == expected


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.1", "198.51.100.1"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # the same subscriber: the same bucket
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("unknown", "unknown"),
    ],
)
def test_limits_count_an_ipv6_subscriber_once(address: str, key: str) -> None:
    assert limit_key(address) == key


async def test_every_forwarded_for_line_is_read_in_order() -> None:
    """A proxy that adds a line of its own put the real address in the second line; the first line, the client's,
    was believed (a security tester's finding: a forged address for the login limits and the audit)."""
    from aiohttp import ClientSession, web
    from aiohttp.test_utils import TestServer
    from multidict import CIMultiDict

    from gateway.client_ip import client_ip

    async def whoami(request: web.Request) -> web.Response:
        return web.Response(text=client_ip(request, parse_networks(["127.0.0.1/32"])))

    app = web.Application()
    app.router.add_get("/", whoami)
    async with TestServer(app, host="127.0.0.1") as server, ClientSession() as http:
        headers = CIMultiDict([("X-Forwarded-For", "203.0.113.66"), ("X-Forwarded-For", "198.51.100.5")])
        async with http.get(server.make_url("/"), headers=headers) as r:
            assert await r.text() == "198.51.100.5"
