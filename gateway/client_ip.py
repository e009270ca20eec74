"""Which address a request comes from: the peer, or what a trusted reverse proxy says it forwarded.

Per-address limits (logins, connections, calls, messages) key on this. Behind a
reverse proxy every peer is the proxy, so ``X-Forwarded-For`` is read, but only
when the peer is one of the configured ``trusted_proxies``; then the right-most
address that is not itself a trusted proxy is the client (anything left of it
was written by the client and proves nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_ip(request: web.BaseRequest, proxies: tuple[Network, ...]) -> str:
    """The client's address as a string ('unknown' when the transport has none)."""
    # every X-Forwarded-For line, in order: a proxy that adds a line of its own (rather than appending to the
    # client's) put the real address in the last one; reading the first believed the client's (a security
    # tester's finding: a forged first line became the login's address and dodged every per-address limit)
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", ()))
    return client_address(request.remote or "unknown", forwarded, proxies)


def client_address(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The client's address from the socket's peer and the X-Forwarded-For header (believed from our proxies)."""
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = [a.strip() for a in forwarded_for.split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _trusted(address, proxies):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return peer  # a proxy we trust wrote garbage: count the proxy
    return peer


IPV6_PREFIX = 64  # one IPv6 subscriber usually holds a whole /64: counting single addresses would count nothing


def limit_key(address: str) -> str:
    """What per-address limits count: an IPv4 address as it is, an IPv6 address by its /64 (an IPv4-mapped one
    as its IPv4 address), anything that is no address as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)
