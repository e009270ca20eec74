"""Health and readiness endpoints, including Redis going away."""

from __future__ import annotations

from dataclasses import replace

import aiohttp

from gateway.config import Settings
from tests.support.servers import RedisServer, start_node


async def test_readyz_follows_redis(settings: Settings) -> None:
    private = RedisServer()
    private.start()
    node = await start_node(replace(settings, redis_url=private.url))
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(node.url + "/healthz") as r:
                assert r.status == 200 and await r.json() == {"status": "ok"}
            async with s.get(node.url + "/readyz") as r:
                assert r.status == 200 and (await r.json())["redis"] == "ok"
            private.stop()
            async with s.get(node.url + "/readyz") as r:
                body = await r.json()
                assert r.status == 503 and body["status"] == "unavailable" and body["redis"]
            async with s.get(node.url + "/healthz") as r:
                assert r.status == 200
    finally:
        await node.stop()


async def test_head_answers_where_get_does(settings: Settings) -> None:
    """Uptime monitors, load balancers and link checkers ask with HEAD: every page and /healthz answered 405 (an
    exploratory test)."""
    node = await start_node(settings)
    try:
        async with aiohttp.ClientSession() as s:
            for path in ("/healthz", "/readyz", "/widget.js", "/", "/agent", "/supervisor", "/admin"):
                async with s.head(node.url + path) as r:
                    assert r.status == 200, (path, r.status)
                    assert await r.read() == b""
            for path in ("/api/agent/login", "/api/widget/settings", "/metrics"):  # the API's GET does the work
                async with s.head(node.url + path) as r:
                    assert r.status == 405, path
    finally:
        await node.stop()


async def test_readyz_says_a_node_taken_over_stops(settings: Settings) -> None:
    """Another node took this one over (it stalled past its heartbeat): not ready, so that a load balancer moves
    away while it stops (gateway/cli.py starts it again with status 1)."""
    node = await start_node(settings)
    try:
        watch = node.services.node_watch
        assert watch is not None
        watch.taken_over.set()
        async with aiohttp.ClientSession() as s, s.get(node.url + "/readyz") as r:
            assert (r.status, await r.json()) == (503, {"status": "taken_over", "node": settings.node_id})
    finally:
        await node.stop()


async def test_pages_and_widget_are_served(settings: Settings) -> None:
    node = await start_node(settings)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(node.url + "/widget.js") as r:
                assert r.status == 200 and "javascript" in r.headers["Content-Type"]
                assert r.headers["Access-Control-Allow-Origin"] == "*"
                assert "/ws/customer" in await r.text()
            for path, marker in (("/", "widget.js"), ("/agent", "/static/desk/main.js"), ("/static/agent.css", "")):
                async with s.get(node.url + path) as r:
                    assert r.status == 200, path
                    assert marker in await r.text()
            async with s.get(node.url + "/static/../gateway/app.py") as r:
                assert r.status in (403, 404)
    finally:
        await node.stop()
