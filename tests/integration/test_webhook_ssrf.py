"""Flow webhooks cannot be turned into server-side request forgery (issue 11).

Real listeners on loopback addresses stand in for internal services; the webhook session refuses them
unless allowed, at connect time, whatever form the address takes, and does not follow a redirect to them.
Signed requests verify with the scheme and the Python example documented in ivr/flows/README.md.

On the old code (a plain ``aiohttp.ClientSession``, redirects followed, a leading URL placeholder not
encoded) every "nothing reached the listener" assertion here failed: the requests arrived.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from gateway.config import Settings
from gateway.flows.webhooks import SIGNATURE_HEADER, DestinationNotAllowed, call_webhook, webhook_session
from ivr.actions import CallWebhook
from tests.conftest import Clients, bounded
from tests.support.servers import start_node

README = Path(__file__).resolve().parents[2] / "ivr" / "flows" / "README.md"
SECRET = "webhook-secret-0123456789"


@dataclass
class Listener:
    """A tiny HTTP server on one loopback address that records every request it gets."""

    host: str
    answer: Callable[[web.Request], web.StreamResponse] | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    runner: web.AppRunner | None = None

    @property
    def origin(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.seen.append(
                {
                    "method": request.method,
                    "url": str(request.url),
                    "body": await request.read(),
                    "headers": dict(request.headers),
                }
            )
            if self.answer is not None:
                return self.answer(request)
            return web.json_response({"vars": {"name": "Ann"}})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET) as probe:
            probe.bind((self.host, 0))
            self.port = probe.getsockname()[1]
        await web.TCPSite(self.runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def listeners() -> AsyncIterator[Callable[..., Any]]:
    made: list[Listener] = []

    async def make(
        host: str = "127.0.0.1", answer: Callable[[web.Request], web.StreamResponse] | None = None
    ) -> Listener:
        listener = Listener(host, answer)
        await listener.start()
        made.append(listener)
        return listener

    yield make
    for listener in made:
        await listener.stop()


def post(url: str, **payload: Any) -> CallWebhook:
    return CallWebhook(url=url, method="POST", payload={"conversation_id": "c-1", "vars": payload}, timeout=3.0)


class HostsFile(AbstractResolver):
    """Answers from a fixed table, like /etc/hosts or a DNS server that says what an attacker wants."""

    def __init__(self, table: dict[str, str]):
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.table[host]
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


# ---------------------------------------------------------------- refused destinations


MAPPED = "destination not allowed: ::ffff:(127.0.0.1|7f00:1) is loopback [(]IPv4-mapped 127.0.0.1[)]"


@pytest.mark.parametrize(
    ("host", "url_host", "error"),
    [
        ("127.0.0.1", "127.0.0.1", "destination not allowed: 127.0.0.1 is loopback"),
        ("127.0.0.1", "localhost", "destination not allowed: localhost: 127.0.0.1 is loopback"),
        ("127.0.0.2", "127.0.0.2", "destination not allowed: 127.0.0.2 is loopback"),
        ("::1", "[::1]", "destination not allowed: ::1 is loopback"),
        ("127.0.0.1", "[::ffff:127.0.0.1]", MAPPED),  # the socket may spell it either way
        ("127.0.0.1", "[::ffff:7f00:1]", MAPPED),
    ],
)
async def test_loopback_in_any_form_is_refused_and_nothing_arrives(
    listeners: Any, host: str, url_host: str, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    listener = await listeners(host)
    async with webhook_session() as http:
        result = await call_webhook(http, post(f"http://{url_host}:{listener.port}/lookup", account="1"))
    assert (result.status, result.body) == (None, None)
    assert result.error is not None and re.fullmatch(error, result.error), result.error
    assert listener.seen == []
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "gateway.flows.webhooks"][-1] == (
        logging.WARNING,
        f"webhook POST http://{url_host}:{listener.port}/lookup refused: {result.error}",
    )


@pytest.mark.parametrize("url_host", ["2130706433", "127.1", "0x7f.0.0.1", "0.0.0.0"])
async def test_other_spellings_of_loopback_do_not_arrive(listeners: Any, url_host: str) -> None:
    listener = await listeners("127.0.0.1")
    async with webhook_session() as http:
        result = await call_webhook(http, post(f"http://{url_host}:{listener.port}/lookup"))
    assert result.status is None and result.error is not None
    assert listener.seen == []


async def test_a_name_that_resolves_to_an_internal_address_is_refused(listeners: Any) -> None:
    listener = await listeners("127.0.0.1")
    dns = HostsFile({"crm.example.com": "127.0.0.1"})  # a public-looking name, an internal answer
    async with webhook_session(resolver=dns) as http:
        result = await call_webhook(http, post(f"http://crm.example.com:{listener.port}/lookup"))
    assert result.error == "destination not allowed: crm.example.com: 127.0.0.1 is loopback"
    assert listener.seen == []


async def test_allow_list_is_exact(listeners: Any) -> None:
    allowed = await listeners("127.0.0.1")
    other = await listeners("127.0.0.2")
    async with webhook_session(allow=("127.0.0.1",)) as http:
        ok = await call_webhook(http, post(f"{allowed.origin}/lookup", account="1"))
        refused = await call_webhook(http, post(f"{other.origin}/lookup", account="1"))
    assert (ok.status, ok.body, ok.error) == (200, {"vars": {"name": "Ann"}}, None)
    assert [s["url"] for s in allowed.seen] == [f"{allowed.origin}/lookup"]
    assert refused.error == "destination not allowed: 127.0.0.2 is loopback" and other.seen == []


@pytest.mark.parametrize("allow", [("127.0.0.0/8",), ("localhost",)])
async def test_allowed_by_network_or_by_name(listeners: Any, allow: tuple[str, ...]) -> None:
    listener = await listeners("127.0.0.1")
    async with webhook_session(allow=allow) as http:
        result = await call_webhook(http, post(f"http://localhost:{listener.port}/lookup", account="7"))
    assert (result.status, result.error) == (200, None)
    assert len(listener.seen) == 1


async def test_an_allowed_name_may_resolve_to_a_private_address(listeners: Any) -> None:
    listener = await listeners("127.0.0.1")
    dns = HostsFile({"crm.internal": "127.0.0.1"})
    async with webhook_session(allow=("crm.internal",), resolver=dns) as http:
        result = await call_webhook(http, post(f"http://crm.internal:{listener.port}/lookup"))
    assert (result.status, result.error) == (200, None) and len(listener.seen) == 1


async def test_a_line_break_in_a_header_value_is_not_sent(listeners: Any) -> None:
    listener = await listeners("127.0.0.1")
    action = replace(post(f"{listener.origin}/lookup"), headers={"X-Account": "1\r\nX-Admin: yes"})
    async with webhook_session(allow=("127.0.0.1",)) as http:
        result = await call_webhook(http, action)
    assert result.error == "header 'X-Account' has a line break or NUL in its value" and listener.seen == []


# ---------------------------------------------------------------- redirects


async def test_a_redirect_to_a_disallowed_address_is_not_followed(listeners: Any) -> None:
    inside = await listeners("127.0.0.2")
    front = await listeners(
        "127.0.0.1", answer=lambda request: web.Response(status=307, headers={"Location": f"{inside.origin}/admin"})
    )
    async with webhook_session(allow=("127.0.0.1",)) as http:
        result = await call_webhook(http, post(f"{front.origin}/lookup", account="1"))
        assert (result.status, result.error) == (307, f"redirect to '{inside.origin}/admin' not followed")
        # the session itself refuses the hop too, should anything ask it to follow redirects
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            async with http.post(f"{front.origin}/lookup", json={}, allow_redirects=True):
                pass
        assert isinstance(info.value.os_error, DestinationNotAllowed)
        assert info.value.os_error.message == "destination not allowed: 127.0.0.2 is loopback"
    assert len(front.seen) == 2 and inside.seen == []


# ---------------------------------------------------------------- signing


def documented_verify() -> Callable[..., bool]:
    """The ``verify`` function exactly as the flow reference prints it."""
    text = README.read_text(encoding="utf-8")
    code = re.search(r"```python\n(import hashlib, hmac, time\n+def verify\(.*?)```", text, re.DOTALL)
    assert code is not None, "the verification example is in ivr/flows/README.md"
    scope: dict[str, Any] = {}
    exec(compile(code.group(1), str(README), "exec"), scope)  # noqa: S102 - our own documentation
    return scope["verify"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_signed_request_verifies_with_the_documented_scheme(listeners: Any, method: str) -> None:
    verify = documented_verify()
    listener = await listeners("127.0.0.1")
    action = replace(post(f"{listener.origin}/c/{{x}}?src=ivr", account="12 34"), method=method)
    async with webhook_session(allow=("127.0.0.1",), secret=SECRET) as http:
        assert (await call_webhook(http, action)).status == 200
    [got] = listener.seen
    header = got["headers"][SIGNATURE_HEADER]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(SECRET, header, got["method"], got["url"], got["body"])
    if method == "POST":
        assert b'"account": "12 34"' in got["body"]
        assert not verify(SECRET, header, got["method"], got["url"], got["body"].replace(b"12 34", b"99 99"))
    else:
        assert got["body"] == b"" and "account=12+34" in got["url"]
        assert not verify(SECRET, header, got["method"], got["url"].replace("12+34", "99+99"), got["body"])
    assert not verify(SECRET, header, "PUT" if method == "POST" else "POST", got["url"], got["body"])
    assert not verify("another-secret-0123456789", header, got["method"], got["url"], got["body"])
    stale = re.sub(r"t=(\d+)", lambda m: f"t={int(m.group(1)) - 3600}", header)
    assert not verify(SECRET, stale, got["method"], got["url"], got["body"])


@pytest.mark.parametrize("header", ["", "garbage", "t=1", "v1=00", "t=²,v1=00", "t=-5,v1=00", ",,=,"])
def test_the_documented_verifier_says_no_to_a_malformed_header(header: str) -> None:
    assert documented_verify()(SECRET, header, "POST", "https://crm.example.com/x", b"{}") is False


async def test_without_a_secret_requests_are_unsigned_and_the_log_says_so(
    listeners: Any, caplog: pytest.LogCaptureFixture
) -> None:
    listener = await listeners("127.0.0.1")
    async with webhook_session(allow=("127.0.0.1",)) as http:
        await call_webhook(http, post(f"{listener.origin}/lookup"))
    assert SIGNATURE_HEADER not in listener.seen[0]["headers"]
    assert [r.getMessage() for r in caplog.records if r.name == "gateway.flows.webhooks"] == [
        (
            "flow webhook requests are not signed: set --webhook-secret (CG_WEBHOOK_SECRET) so that webhook endpoints "
            "can check they come from this gateway"
        )
    ]


# ---------------------------------------------------------------- a flow on a real gateway node

FLOW = """\
start: lookup
nodes:
  lookup:
    type: webhook
    url: "{origin}/lookup?account={{{{ account | default('42') }}}}"
    next: found
    on_error: failed
  found: {{type: hangup, prompt: "Found {{{{ name }}}}.", reason: found}}
  failed: {{type: hangup, prompt: "Lookup failed.", reason: lookup_failed}}
"""


@pytest.mark.parametrize(("allow", "outcome"), [((), "failed"), (("127.0.0.1",), "found")])
async def test_a_flow_on_a_gateway_takes_on_error_for_a_refused_destination(
    settings: Settings, tmp_path: Path, listeners: Any, allow: tuple[str, ...], outcome: str
) -> None:
    listener = await listeners("127.0.0.1")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "lookup.yaml").write_text(FLOW.format(origin=listener.origin), encoding="utf-8")
    node = await start_node(
        replace(settings, flows_dir=flows, chat_flow="lookup", webhook_allow=allow, webhook_secret=SECRET)
    )
    clients = Clients(node.url)
    try:
        customer = clients.customer()
        await customer.hello()
        ack = await customer.say("hello")
        said = await customer.event("message", lambda e: e["author"] == "bot")
        steps = [
            (e["kind"], e["detail"])
            for e in await node.services.store.events(ack["conversation_id"])
            if e["type"] == "ivr" and e["kind"] == "webhook"
        ]
    finally:
        await bounded(clients.close(), "closing the test clients")
        await bounded(node.stop(), "stopping the gateway node")
    url = f"{listener.origin}/lookup?account=42"
    if outcome == "failed":
        assert said["text"] == "Lookup failed." and listener.seen == []
        assert steps == [
            ("webhook", f"POST {url}"),
            ("webhook", "failed: destination not allowed: 127.0.0.1 is loopback -> failed"),
        ]
    else:
        assert said["text"] == "Found Ann."
        [got] = listener.seen
        assert got["url"] == url and documented_verify()(
            SECRET, got["headers"][SIGNATURE_HEADER], "POST", url, got["body"]
        )
        assert steps == [("webhook", f"POST {url}"), ("webhook", "ok: status 200 -> found")]
