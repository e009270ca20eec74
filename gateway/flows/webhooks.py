"""Flow webhooks: the HTTP client flows call out with, what it may reach, and how its requests are signed.

A flow's webhook URL names its scheme and host literally (the flow loader checks
it) and fills in only path and query from variables, percent-encoded. What the
host *resolves to* is still the network's business: a name may point at
10.0.0.5 or 169.254.169.254 (cloud metadata) today and somewhere else after the
next DNS answer. So the allow-list is applied to the addresses actually
connected to, at connect time, by the session :func:`webhook_session` builds:

- its resolver (:class:`_GuardedResolver`) drops every resolved address the
  :class:`WebhookPolicy` refuses, and refuses the request when none is left;
- its connector's socket factory checks each address again right before the
  socket is made, which also covers IP-literal hosts (aiohttp does not resolve
  those) and answers from the connector's DNS cache: there is no gap between
  the check and the connect for a rebinding DNS server to use;
- :func:`call_webhook` does not follow redirects (a 3xx answer is an error), so
  no second destination is ever chosen by the first one's answer.

By default only public addresses are reachable; ``--webhook-allow`` lists host
names (whatever they resolve to) and CIDRs that may be reached although they
are loopback, private, link-local, etc. With ``--webhook-secret`` every request
carries ``X-Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"{t}.{METHOD}.{url}." + body>`` (documented with a verification example in
``ivr/flows/README.md``, "webhook").
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from gateway.errors import GatewayError
from gateway.metrics import Metrics
from gateway.protocol.codes import ErrorCode
from ivr.actions import CallWebhook
from ivr.events import WebhookResult

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 64 * 1024
SIGNATURE_HEADER = "X-Gateway-Signature"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationNotAllowed(GatewayError, OSError):
    """A webhook would connect to an address the allow-list refuses.

    An ``OSError`` too, so that aiohttp treats it like any failed connect (it wraps
    it in a ``ClientConnectorError`` and cleans up) and :func:`call_webhook` finds it.
    """

    code = ErrorCode.DESTINATION_NOT_ALLOWED
    http_status = 403


# ---------------------------------------------------------------- which addresses are not public


def _nets(*pairs: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), why) for cidr, why in pairs)


# First match wins. Anything else the ipaddress module does not call global is "not a public address".
_V4_RANGES = _nets(
    ("0.0.0.0/8", "unspecified"),  # 0.0.0.0 connects to this host on Linux
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "shared address space (CGNAT)"),
    ("169.254.0.0/16", "link-local"),  # 169.254.169.254: cloud metadata
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
)
_V6_RANGES = _nets(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fc00::/7", "private"),
    ("fec0::/10", "private"),  # site-local, deprecated
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
    ("::/8", "reserved"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),
    ("2001:db8::/32", "reserved"),
)
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_v4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 form stands for (mapped, compatible, NAT64, 6to4), with the form's name."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    if address in _V4_COMPATIBLE and int(address) > 1:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "IPv4-compatible"
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    return None


def non_public(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination ("loopback", "private", ...), or None when it is public.

    An IPv6 form of an IPv4 address (``::ffff:127.0.0.1``, ``::127.0.0.1``, NAT64, 6to4) is judged by the
    IPv4 address it carries: ``"loopback (IPv4-mapped 127.0.0.1)"``.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            inner, form = embedded
            why = non_public(inner)
            return None if why is None else f"{why} ({form} {inner})"
        ranges = _V6_RANGES
    else:
        ranges = _V4_RANGES
    for network, why in ranges:
        if address.version == network.version and address in network:
            return why
    return None if address.is_global else "not a public address"


def parse_address(text: str) -> IPAddress:
    """An address as the resolver or a socket gives it (an IPv6 zone like ``%eth0`` is dropped)."""
    return ipaddress.ip_address(text.partition("%")[0])


@dataclass(frozen=True)
class WebhookPolicy:
    """Where webhooks may connect: public addresses, plus the host names and networks an admin allowed."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_allow(cls, entries: Iterable[str]) -> WebhookPolicy:
        """``("crm.internal", "10.1.0.0/16", "127.0.0.1")`` (``Settings.webhook_allow``) -> a policy."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip().lower() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def host_listed(self, host: str | None) -> bool:
        return host is not None and host.rstrip(".").lower() in self.hosts

    def refusal(self, address: str, host: str | None = None) -> str | None:
        """None when ``address`` (connected to for ``host``) may be reached, else why not: '127.0.0.1 is loopback'."""
        if self.host_listed(host):
            return None
        try:
            parsed = parse_address(address)
        except ValueError:
            return f"{address} is not an IP address"
        candidates: list[IPAddress] = [parsed]
        if isinstance(parsed, ipaddress.IPv6Address) and (embedded := _embedded_v4(parsed)) is not None:
            candidates.append(embedded[0])
        if any(a.version == n.version and a in n for a in candidates for n in self.networks):
            return None
        why = non_public(parsed)
        return None if why is None else f"{address} is {why}"

    def check(self, address: str, host: str | None = None) -> None:
        why = self.refusal(address, host)
        if why is not None:
            raise DestinationNotAllowed(f"destination not allowed: {why}")


# ---------------------------------------------------------------- enforcing it at connect time


@dataclass
class _Guard:
    """The policy, plus the addresses an allowed host name resolved to (the socket check lets those through)."""

    policy: WebhookPolicy
    by_name: set[str] = field(default_factory=set)

    def socket_factory(self, addr_info: AddrInfoType) -> socket.socket:
        """Called by the connector for every address it is about to connect to: check it, then make the socket."""
        family, type_, proto, _, sockaddr = addr_info
        address = str(sockaddr[0])
        if address not in self.by_name:
            self.policy.check(address)
        return socket.socket(family, type_, proto)


class _GuardedResolver(AbstractResolver):
    """Resolves with the system resolver (getaddrinfo in a thread), then keeps only the addresses the policy allows.

    The connector does not close a resolver it was given: the session's close does not reach it, so
    the default, ThreadedResolver, is one that holds nothing to close.
    """

    def __init__(self, guard: _Guard, inner: AbstractResolver | None = None):
        self._guard = guard
        self._inner = inner if inner is not None else ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        kept: list[ResolveResult] = []
        refused: list[str] = []
        listed = self._guard.policy.host_listed(host)
        for result in results:
            why = self._guard.policy.refusal(result["host"], host)
            if why is not None:
                refused.append(why)
                continue
            kept.append(result)
            if listed:
                self._guard.by_name.add(result["host"])
        if not kept:
            raise DestinationNotAllowed(
                f"destination not allowed: {host}: " + (", ".join(refused) if refused else "no address")
            )
        return kept

    async def close(self) -> None:
        await self._inner.close()


# ---------------------------------------------------------------- signing


def signature(secret: str, timestamp: int, method: str, url: str, body: bytes) -> str:
    """The ``X-Gateway-Signature`` value: ``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "{t}.{METHOD}.{url}." + body)>``."""
    message = f"{timestamp}.{method.upper()}.{url}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _Signer:
    """A client middleware: signs the request exactly as it goes out (final URL with its query, body bytes)."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time):
        self._secret = secret
        self._clock = clock

    async def __call__(self, request: aiohttp.ClientRequest, handler: ClientHandlerType) -> aiohttp.ClientResponse:
        body = b"" if not request.body else await request.body.as_bytes()
        request.headers[SIGNATURE_HEADER] = signature(
            self._secret, int(self._clock()), request.method, str(request.url), body
        )
        return await handler(request)


def guarded_session(
    *,
    allow: Iterable[str] = (),
    resolver: AbstractResolver | None = None,
    middlewares: tuple[ClientMiddlewareType, ...] = (),
) -> aiohttp.ClientSession:
    """A ClientSession that connects only where the allow-list lets it (call it inside the running loop; close it
    on shutdown): flow webhooks and event webhooks (gateway/ops/webhook_delivery.py) both go through one.

    ``allow`` is ``Settings.webhook_allow``; ``resolver`` answers DNS questions (default: the system's,
    getaddrinfo) before the policy.
    """
    guard = _Guard(WebhookPolicy.from_allow(allow))
    connector = aiohttp.TCPConnector(resolver=_GuardedResolver(guard, resolver), socket_factory=guard.socket_factory)
    return aiohttp.ClientSession(connector=connector, middlewares=middlewares, trust_env=False)


def webhook_session(
    *,
    allow: Iterable[str] = (),
    secret: str | None = None,
    resolver: AbstractResolver | None = None,
    clock: Callable[[], float] = time.time,
) -> aiohttp.ClientSession:
    """The ClientSession flow webhooks go through: :func:`guarded_session`, signing with ``secret``
    (``Settings.webhook_secret``; None: unsigned, logged once here)."""
    if secret is None:
        log.warning(
            "flow webhook requests are not signed: set --webhook-secret (CG_WEBHOOK_SECRET) so that "
            "webhook endpoints can check they come from this gateway"
        )
    middlewares = (_Signer(secret, clock),) if secret is not None else ()
    return guarded_session(allow=allow, resolver=resolver, middlewares=middlewares)


async def destination_refusal(
    url: str, allow: Iterable[str] = (), resolver: AbstractResolver | None = None
) -> str | None:
    """Why a request to ``url`` would be refused now (its host resolves only to addresses the allow-list refuses, or
    to nothing), else None. A check ahead of time, for an admin saving a URL; the session checks again at connect
    time, since DNS answers change."""
    host = URL(url).host
    if not host:
        return "the URL has no host"
    guard = _Guard(WebhookPolicy.from_allow(allow))
    try:
        parse_address(host.strip("[]"))
    except ValueError:
        pass
    else:  # an IP literal: nothing to resolve
        return guard.policy.refusal(host.strip("[]"), host)
    resolving = _GuardedResolver(guard, resolver)
    try:
        await resolving.resolve(host, 0, socket.AF_UNSPEC)
    except DestinationNotAllowed as exc:
        return exc.message
    except OSError as exc:
        return f"{host} does not resolve ({exc.strerror or type(exc).__name__})"
    finally:
        await resolving.close()
    return None


# ---------------------------------------------------------------- the call


def refused_in(exc: BaseException) -> DestinationNotAllowed | None:
    """The DestinationNotAllowed behind an aiohttp error, if that is what it was."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, DestinationNotAllowed):
            return seen
        inner = getattr(seen, "os_error", None)
        seen = inner if isinstance(inner, BaseException) and inner is not seen else seen.__cause__
    return None


def _bad_header(headers: dict[str, str]) -> str | None:
    for name, value in headers.items():
        if any(ch in value for ch in "\r\n\0"):
            return f"header {name!r} has a line break or NUL in its value"
    return None


async def call_webhook(
    http: aiohttp.ClientSession, action: CallWebhook, metrics: Metrics | None = None
) -> WebhookResult:
    """Make the admin's HTTP call; any failure becomes a WebhookResult with an error, never an exception.

    Redirects are not followed: a 3xx answer is an error naming where it pointed. ``metrics``: the request's time
    and, when it failed, the kind of failure are counted there (gateway/metrics.py; a cancelled one is not).
    """
    started = time.perf_counter()
    result, failure = await _call_webhook(http, action)
    if not failure and result.status is not None and result.status >= 400:
        failure = f"http_{result.status // 100}xx"
    if metrics is not None:
        metrics.webhook(time.perf_counter() - started, failure)
    return result


async def _call_webhook(http: aiohttp.ClientSession, action: CallWebhook) -> tuple[WebhookResult, str]:
    """:func:`call_webhook`'s result and its failure's kind ('' when the request was answered)."""
    cid = action.payload.get("conversation_id")
    extra = {"conversation_id": cid} if isinstance(cid, str) else {}
    bad_header = _bad_header(action.headers)
    if bad_header is not None:
        log.warning("webhook %s %s not sent: %s", action.method, action.url, bad_header, extra=extra)
        return WebhookResult(error=bad_header), "bad_request"
    timeout = aiohttp.ClientTimeout(total=action.timeout)
    try:
        if action.method.upper() == "GET":
            variables = action.payload.get("vars", {})
            params = {str(k): str(v) for k, v in variables.items()} if isinstance(variables, dict) else {}
            request = http.get(
                action.url, params=params, headers=action.headers, timeout=timeout, allow_redirects=False
            )
        else:
            request = http.request(
                action.method.upper(),
                action.url,
                json=action.payload,
                headers=action.headers,
                timeout=timeout,
                allow_redirects=False,
            )
        async with request as response:
            if 300 <= response.status < 400:
                where = response.headers.get("Location", "")
                log.warning(
                    "webhook %s %s answered %d: redirect to %r not followed",
                    action.method,
                    action.url,
                    response.status,
                    where,
                    extra=extra,
                )
                return WebhookResult(status=response.status, error=f"redirect to {where!r} not followed"), "redirect"
            raw = await response.content.read(MAX_WEBHOOK_BODY + 1)
            if len(raw) > MAX_WEBHOOK_BODY:
                return WebhookResult(status=response.status, error="response too large"), "bad_response"
            if not raw.strip():
                return WebhookResult(status=response.status, body=None), ""
            try:
                return WebhookResult(status=response.status, body=json.loads(raw)), ""
            except ValueError:
                return WebhookResult(status=response.status, error="invalid JSON"), "bad_response"
    except TimeoutError:
        return WebhookResult(error="timeout"), "timeout"
    except aiohttp.ClientError as exc:
        refused = refused_in(exc)
        if refused is not None:
            log.warning("webhook %s %s refused: %s", action.method, action.url, refused.message, extra=extra)
            return WebhookResult(error=refused.message), "refused"
        return WebhookResult(error=failure_text(exc)), "connection"


def failure_text(exc: aiohttp.ClientError) -> str:
    """What an author (the flow's trace) or a supervisor (the delivery log) reads of a webhook request that got no
    answer (aiohttp's class names say little to them: ClientConnectorError is "could not connect")."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "TLS failed: the receiver's certificate was not accepted"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "could not connect (refused, unreachable, or its name did not resolve)"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        return "the connection was closed before an answer"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return "the answer could not be read"
    return f"request failed: {type(exc).__name__}"
