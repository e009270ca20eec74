"""Security headers, static files from a directory of static files only, node details only to those who may."""

from __future__ import annotations

import posixpath
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from html.parser import HTMLParser

import aiohttp
import pytest

from gateway.config import Settings
from tests.conftest import Clients
from tests.support.servers import Node, start_node
from webclient import STATIC_DIR

STRANGER = {"X-Forwarded-For": "203.0.113.7"}


class PageParser(HTMLParser):
    """The files a page loads and anything inline a strict CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self.style_attributes = 0
        self.style_elements = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.handlers += [name for name in a if name.startswith("on")]
        self.style_attributes += "style" in a
        self.style_elements += tag == "style"
        if tag == "script":
            if a.get("src"):
                self.loads.append(str(a["src"]))
            else:
                self.inline_scripts += 1
        if tag == "link" and a.get("href"):
            self.loads.append(str(a["href"]))
        if tag in ("img", "audio", "source") and a.get("src"):
            self.loads.append(str(a["src"]))


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}


@pytest.fixture
async def proxied(settings: Settings) -> AsyncIterator[Node]:
    """A node behind a reverse proxy on this machine (127.0.0.1 trusted to name the client)."""
    started = await start_node(replace(settings, trusted_proxies=("127.0.0.1/32",)))
    yield started
    await started.stop()


async def test_pages_carry_a_csp_without_inline_script_and_cannot_be_framed(node: Node) -> None:
    async with aiohttp.ClientSession() as s:
        for path, strict_styles in (("/agent", True), ("/", False)):
            async with s.get(node.url + path) as r:
                assert r.status == 200
                html = await r.text()
                h = r.headers
            csp = directives(h["Content-Security-Policy"])
            assert csp["script-src"] == ["'self'"], path  # no 'unsafe-inline', no 'unsafe-eval'
            assert csp["frame-ancestors"] == ["'none'"] and h["X-Frame-Options"] == "DENY", path
            assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
            assert ("'unsafe-inline'" not in csp["style-src"]) == strict_styles, path
            assert h["X-Content-Type-Options"] == "nosniff"
            assert h["Referrer-Policy"] in ("no-referrer", "strict-origin-when-cross-origin")
            assert h["Content-Type"] == "text/html; charset=utf-8"
            page = parse(html)
            assert page.inline_scripts == 0 and page.handlers == [], path  # what script-src 'self' would block
            if strict_styles:
                assert page.style_attributes == 0 and page.style_elements == 0, path


async def test_widget_is_served_to_any_site_as_utf8_javascript(node: Node) -> None:
    async with aiohttp.ClientSession() as s, s.get(node.url + "/widget.js") as r:
        assert r.status == 200
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert r.headers["Content-Type"] == "application/javascript; charset=utf-8"
        assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_static_serves_browser_files_only_and_everything_the_pages_load(node: Node) -> None:
    async with aiohttp.ClientSession() as s:
        for path in (
            "/static/__init__.py",
            "/static/../__init__.py",
            "/static/..%2F__init__.py",
            "/static/__pycache__/__init__.cpython-311.pyc",
            "/static/",
            "/static/../../gateway/app.py",
            "/static/" + "a" * 300,  # longer than a file name may be: no such file (was a 500)
            "/static/desk/" + "%CC%BA" * 200 + ".js",
        ):
            async with s.get(node.url + path) as r:
                assert r.status in (403, 404), path
                assert "STATIC_DIR" not in await r.text()
                if r.status == 404 and r.url.path.startswith("/static/"):  # as the API document says
                    assert (r.content_type, await r.read()) == ("application/octet-stream", b""), path
        loaded: set[str] = set()
        for page in ("/", "/agent"):
            async with s.get(node.url + page) as r:
                loaded.update(u for u in parse(await r.text()).loads if u.startswith("/"))  # not data: URLs
        assert {"/widget.js", "/static/demo.js", "/static/desk/main.js", "/static/agent.css"} <= loaded
        pending, fetched = sorted(loaded), set()
        while pending:  # and every module the desk's modules import
            url = pending.pop()
            fetched.add(url)
            async with s.get(node.url + url) as r:
                assert r.status == 200, url
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                kind = r.headers["Content-Type"]
                assert ("javascript" in kind) if url.endswith(".js") else ("css" in kind), (url, kind)
                assert "charset=utf-8" in kind, (url, kind)
                body = await r.text()
            if url.startswith("/static/"):
                for target in re.findall(r"^import .* from '([^']+)';$", body, re.MULTILINE):
                    imported = posixpath.normpath(posixpath.join(posixpath.dirname(url), target))
                    if imported not in fetched and imported not in pending:
                        pending.append(imported)
        assert {"/static/desk/phone/main.js", "/static/shared/socket.js", "/static/shared/protocol.js"} <= fetched
    assert sorted(p.suffix for p in STATIC_DIR.iterdir()) and not list(STATIC_DIR.glob("*.py"))


async def test_api_responses_are_not_cached(node: Node, clients: Clients) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(node.url + "/api/agent/login", json={"agent_id": "carol", "password": "wrong"}) as r:
            assert r.status == 401 and r.headers["Cache-Control"] == "no-store"
        token = await clients.agent("carol").login()
        async with s.get(node.url + "/api/calls", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        for path in ("/api/calls", "/", "/widget.js", "/no-such-page"):  # no Python or aiohttp version to look up
            async with s.get(node.url + path) as r:
                assert r.headers["Server"] == "contact-gateway", (path, r.headers["Server"])


async def test_node_details_only_on_loopback_or_to_supervisors(proxied: Node) -> None:
    clients = Clients(proxied.url)
    try:
        supervisor = await clients.agent("carol").login()
        agent = await clients.agent("alice").login()
        async with aiohttp.ClientSession() as s:
            async with s.get(proxied.url + "/readyz") as r:  # the operator on this machine
                assert (await r.json())["node"] == proxied.services.settings.node_id
            async with s.get(proxied.url + "/readyz", headers=STRANGER) as r:
                assert r.status == 200 and await r.json() == {"status": "ready"}
            async with s.get(proxied.url + "/healthz", headers=STRANGER) as r:
                assert await r.json() == {"status": "ok"}
            for token, details in ((agent, False), ("forged.token", False), (supervisor, True)):
                async with s.get(
                    proxied.url + "/readyz", headers={**STRANGER, "Authorization": f"Bearer {token}"}
                ) as r:
                    assert r.status == 200 and ("node" in await r.json()) == details, token
            async with s.get(proxied.url + "/api/stats", headers=STRANGER) as r:
                assert r.status == 401 and "node" not in await r.text()
            async with s.get(proxied.url + "/api/stats", headers={**STRANGER, "Authorization": f"Bearer {agent}"}) as r:
                assert r.status == 403
            async with s.get(
                proxied.url + "/api/stats", headers={**STRANGER, "Authorization": f"Bearer {supervisor}"}
            ) as r:
                assert r.status == 200 and (await r.json())["node"] == proxied.services.settings.node_id
            async with s.get(proxied.url + "/api/stats") as r:
                assert r.status == 200
    finally:
        await clients.close()


async def test_a_local_proxy_that_is_not_trusted_does_not_make_strangers_local(node: Node) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(node.url + "/readyz", headers=STRANGER) as r:
            body = await r.json()
            assert body == {"status": "ready"} and not re.search("node-", await r.text())
        async with s.get(node.url + "/api/stats", headers={"Forwarded": "for=203.0.113.7"}) as r:
            assert r.status == 401
        async with s.get(node.url + "/readyz") as r:  # no proxy: loopback sees the details
            assert "node" in await r.json()
