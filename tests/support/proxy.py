"""A TCP forwarder on loopback in front of gateway nodes: what a load balancer does when a node goes away.

    proxy = NodeProxy(node_a_port)
    await proxy.start()                  # clients use proxy.url
    proxy.point_to(node_b_port)          # new connections go to B; open ones stay on A until A closes them
    await proxy.stop()

A connection whose upstream closes (the node died) is closed towards the client too, so the client sees its
socket drop and reconnects, through the proxy, to wherever it points now.
"""

from __future__ import annotations

import asyncio
import contextlib

from gateway.tasks import cancel_and_wait


class NodeProxy:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def point_to(self, port: int) -> None:
        self.target_port = port

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            await self._close(writer)
            return
        self._writers.add(up_writer)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst, (writer, up_writer)), name="proxy-pump")
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, pair: tuple[asyncio.StreamWriter, ...]
    ) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:  # one side gone: the other goes too
            for w in pair:
                await self._close(w)

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        self._writers.discard(writer)
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await cancel_and_wait(*self._pumps)
        for writer in list(self._writers):
            await self._close(writer)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
