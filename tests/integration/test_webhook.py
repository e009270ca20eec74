"""The flow runner's webhook call against a real local HTTP server: answers, garbage, slowness, no server.

The server listens on 127.0.0.1, which webhooks reach only when it is allowed (``webhook_allow``); see
test_webhook_ssrf.py for what is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from gateway.flows.webhooks import call_webhook, failure_text, webhook_session
from ivr.actions import CallWebhook
from tests.support.servers import free_port

ALLOW = ("127.0.0.1",)  # Settings.webhook_allow: the test CRM is on loopback


@pytest.fixture
async def crm() -> AsyncIterator[str]:
    async def ok(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"vars": {"name": "Ann", "echo": body["vars"]["account"]}})

    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text="<html>not json</html>")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1.0)
        return web.json_response({})

    async def huge(request: web.Request) -> web.Response:
        return web.Response(text='{"x": "' + "y" * 100_000 + '"}')

    async def get(request: web.Request) -> web.Response:
        return web.json_response({"vars": dict(request.query)})

    app = web.Application()
    app.router.add_post("/ok", ok)
    app.router.add_post("/garbage", garbage)
    app.router.add_post("/slow", slow)
    app.router.add_post("/huge", huge)
    app.router.add_get("/get", get)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.mark.parametrize(
    "path, method, timeout, expected",
    [
        ("/ok", "POST", 2.0, (200, {"vars": {"name": "Ann", "echo": "1234"}}, None)),
        ("/get", "GET", 2.0, (200, {"vars": {"account": "1234"}}, None)),
        ("/garbage", "POST", 2.0, (200, None, "invalid JSON")),
        ("/huge", "POST", 2.0, (200, None, "response too large")),
        ("/slow", "POST", 0.3, (None, None, "timeout")),
        ("/missing", "POST", 2.0, (404, None, "invalid JSON")),
    ],
)
async def test_webhook_results(
    crm: str, path: str, method: str, timeout: float, expected: tuple[object, object, object]
) -> None:
    action = CallWebhook(url=crm + path, method=method, payload={"vars": {"account": "1234"}}, timeout=timeout)
    async with webhook_session(allow=ALLOW) as http:
        result = await call_webhook(http, action)
    assert (result.status, result.body, result.error) == expected


async def test_webhook_to_nothing_listening() -> None:
    action = CallWebhook(url=f"http://127.0.0.1:{free_port()}/x", method="POST", payload={}, timeout=2.0)
    async with webhook_session(allow=ALLOW) as http:
        result = await call_webhook(http, action)
    assert (result.status, result.error) == (
        None,
        "could not connect (refused, unreachable, or its name did not resolve)",
    )


async def test_an_event_delivery_that_cannot_connect_is_told_in_words() -> None:
    """The delivery log a supervisor reads says "could not connect", not aiohttp's ClientConnectorError."""
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            await http.post(f"http://127.0.0.1:{free_port()}/x")
    assert failure_text(caught.value) == "could not connect (refused, unreachable, or its name did not resolve)"
