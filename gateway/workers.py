"""``contact-gateway serve --workers N``: N node processes serving one port, watched by this one.

One process runs one event loop, and one event loop is the ceiling of a node (about 0.9 core). The parent started
by ``serve`` does not serve: it starts the embedded Redis (unless ``--redis-url``), then N workers, each the same
``serve`` command with ``--workers 1`` and ``CG_WORKER=<n>`` in its environment. Each worker is a full node with
its own node id (gateway/config.py: a new one per process) that binds the same port with ``SO_REUSEPORT``: the
kernel spreads new connections over the workers, and they cooperate through Redis as nodes on different machines
do (a socket on one worker, its call or its agent on another: the bus carries it). Where ``SO_REUSEPORT`` does not
spread connections (not Linux) run one single-worker node per port behind the reverse proxy instead
(docs/deploy.md).

A worker that dies is restarted after a backoff (:data:`RESTART_MIN_SECONDS`, doubling to
:data:`RESTART_MAX_SECONDS`, reset once it ran :data:`STEADY_SECONDS`); its calls are taken over by a surviving
worker as any dead node's are (gateway/calls/takeover.py), and the new worker joins with a new node id. A worker
that exits with status 2 (a configuration error: every worker would hit it) stops the whole command with status 2.

SIGTERM and SIGINT are forwarded to every worker (each drains on SIGTERM: gateway/cli.py) and the parent waits for
all of them, then stops the embedded Redis. Every log line of a worker carries ``worker`` (gateway/logs.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time

from gateway.config import BY_NAME, Settings
from gateway.errors import ConfigError
from gateway.runtime import first_run
from gateway.store import connect as redis_connect
from gateway.store.embedded_redis import EmbeddedRedis, dies_with_parent
from gateway.tasks import Tasks

log = logging.getLogger(__name__)

WORKER_ENV = "CG_WORKER"  # a worker's number, in its environment: set by the parent only
RESTART_MIN_SECONDS = 0.5
RESTART_MAX_SECONDS = 30.0
STEADY_SECONDS = 60.0  # a worker that ran this long restarts after the shortest backoff again
CONFIG_ERROR = 2  # the exit status of a worker that found its configuration wrong (gateway/cli.py)
#: what stops the command: passed on to every worker (SIGHUP: a closed terminal, as SIGTERM: the workers drain)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def worker_number() -> int | None:
    """This process's worker number when a ``serve --workers N`` parent started it; None for a lone node."""
    value = os.environ.get(WORKER_ENV, "")
    return int(value) if value.isdigit() else None


def restart_delay(failures: int) -> float:
    """Seconds before restarting a worker that died ``failures`` times in a row (1 = the first)."""
    return min(RESTART_MAX_SECONDS, RESTART_MIN_SECONDS * 2 ** max(0, failures - 1))


def check(settings: Settings) -> None:
    """Refuse what workers cannot do, before starting any."""
    if not sys.platform.startswith("linux"):
        raise ConfigError(
            "--workers above 1 needs SO_REUSEPORT as Linux does it; elsewhere run one node per port behind the "
            "reverse proxy (docs/deploy.md)",
            field="workers",
        )
    if settings.port == 0:
        raise ConfigError("--workers above 1 needs a fixed --port (the workers share it)", field="workers")


class Supervisor:
    """Starts, watches, restarts and stops the workers (``argv``: the ``serve`` command's own arguments)."""

    def __init__(self, settings: Settings, argv: list[str]) -> None:
        self.settings = settings
        # the last occurrence of a flag wins; the machine's speech decoding processes are shared out among workers
        share = max(1, settings.asr_processes // settings.workers) if settings.asr_processes > 0 else 0
        self.argv = [*argv, "--workers", "1", "--asr-processes", str(share)]
        self.procs: dict[int, asyncio.subprocess.Process] = {}
        self.stopping = asyncio.Event()
        self.status = 0
        self.tasks = Tasks("workers", log)

    async def run(self) -> int:
        check(self.settings)
        redis_connect.check(self.settings)  # contradictory Redis settings: refused once, not by every worker
        first_run(self.settings)
        env = dict(os.environ)
        embedded = None
        if not redis_connect.external(self.settings):
            embedded = EmbeddedRedis(self.settings.data_dir)
            url = await embedded.start()
            if not url.startswith("unix://"):  # a unix socket in the data directory: each worker finds it there
                env[BY_NAME["redis_url"].env] = url  # loopback TCP with a password: given to the workers only
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.forward, sig)
        try:
            log.info("starting %d workers on port %d", self.settings.workers, self.settings.port)
            for number in range(self.settings.workers):
                self.tasks.spawn(self.keep(number, env), f"worker-{number}")
            await self.tasks.wait()
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            await self.tasks.close()
            if embedded is not None:
                await embedded.stop()
        log.info("every worker stopped")
        return self.status

    def forward(self, sig: signal.Signals) -> None:
        """Stop: the signal goes to every worker (a second SIGTERM stops a draining worker at once)."""
        log.info("%s: passed on to %d workers", sig.name, len(self.procs))
        self.stopping.set()
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.send_signal(sig)

    async def keep(self, number: int, env: dict[str, str]) -> None:
        """Worker ``number``: started, and started again when it dies, until the command stops."""
        failures = 0
        while not self.stopping.is_set():
            began = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                *dies_with_parent([sys.executable, "-m", "gateway", "serve", *self.argv]),
                env={**env, WORKER_ENV: str(number)},
                stdin=asyncio.subprocess.DEVNULL,
            )
            self.procs[number] = proc
            log.info("worker %d started (pid %d)", number, proc.pid)
            code = await proc.wait()
            del self.procs[number]
            if self.stopping.is_set():
                log.info("worker %d (pid %d) stopped with status %d", number, proc.pid, code)
                return
            if code == CONFIG_ERROR:
                log.error("worker %d found the configuration wrong (status 2): stopping every worker", number)
                self.status = CONFIG_ERROR
                self.forward(signal.SIGTERM)
                return
            failures = 1 if time.monotonic() - began >= STEADY_SECONDS else failures + 1
            delay = restart_delay(failures)
            # status 0: it was stopped by itself (a signal to that worker alone), its calls ended or drained; else
            # it died (a crash, a kill, or taken over by another node: status 1) and its calls are taken over
            log.log(
                logging.WARNING if code == 0 else logging.ERROR,
                "worker %d (pid %d) %s; restarting it in %.1f s",
                number,
                proc.pid,
                "stopped (status 0)" if code == 0 else f"died with status {code}; its calls are taken over",
                delay,
            )
            try:
                async with asyncio.timeout(delay):
                    await self.stopping.wait()
            except TimeoutError:
                pass
