"""Local HTTP servers on loopback: one that takes POSTs (webhook receivers in tests and benchmarks), one that serves
GET pages (a site of another origin embedding the widget)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web

from tests.support.servers import free_port


async def serve_posts(
    path: str, handle: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> tuple[str, web.AppRunner]:
    """Serve ``handle`` for POSTs to ``path`` on a free loopback port: (its URL, the runner to clean up)."""
    app = web.Application()
    app.router.add_post(path, handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return f"http://127.0.0.1:{port}{path}", runner


@contextlib.asynccontextmanager
async def serve_pages(
    pages: Mapping[str, Callable[[web.Request], Awaitable[web.StreamResponse]]],
) -> AsyncIterator[str]:
    """Serve each GET path's handler on a free loopback port while the block runs: yields the origin
    (``http://127.0.0.1:PORT``); stopped after it."""
    app = web.Application()
    for path, handle in pages.items():
        app.router.add_get(path, handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
