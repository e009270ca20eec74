"""A local HTTP server that takes POSTs on loopback (webhook receivers in tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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
