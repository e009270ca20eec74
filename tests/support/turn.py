"""A real TURN server for tests: Debian's coturn (``turnserver``) on 127.0.0.1 with the TURN REST API secret.

``bin/test`` installs the ``coturn`` package (as it installs chromium). The server listens on a free UDP/TCP
port, relays from 127.0.0.1 (loopback peers allowed: the gateway is one), logs verbosely to a file the tests
read (allocations, permissions, channel binds) and is stopped (SIGTERM, then waited for) by :meth:`stop`.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from gateway.store.embedded_redis import dies_with_parent
from tests.support.servers import free_port


def turnserver_binary() -> str:
    path = shutil.which("turnserver")
    if path is None:
        pytest.fail("Debian's coturn is not installed (turnserver); bin/test installs it when run as root")
    return path


def stun_binding_answered(port: int, timeout: float = 0.2) -> bool:
    """A STUN Binding request to 127.0.0.1:port over UDP gets a Binding success response (RFC 5389)."""
    transaction = secrets.token_bytes(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(request, ("127.0.0.1", port))
        try:
            data, _ = s.recvfrom(2048)
        except OSError:
            return False
    return len(data) >= 20 and data[:2] == b"\x01\x01" and data[8:20] == transaction


class TurnServer:
    """coturn with ``use-auth-secret`` / ``static-auth-secret`` on a loopback port."""

    def __init__(self, secret: str | None = None, options: tuple[str, ...] = ()) -> None:
        """``options``: more coturn options (``--user-quota=2``)."""
        self.secret = secret or secrets.token_hex(16)
        self.options = options
        self.dir = tempfile.TemporaryDirectory(prefix="cg-turn-")
        self.port = free_port()
        self.url = f"turn:127.0.0.1:{self.port}"
        self.log = Path(self.dir.name) / "turn.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        logf = open(self.log, "ab")  # noqa: SIM115 - the child keeps its own copy of the descriptor
        self.proc = subprocess.Popen(
            dies_with_parent(
                [
                    turnserver_binary(),
                    "-n",  # no configuration file: only these options (not /etc/turnserver.conf)
                    "--listening-ip=127.0.0.1",
                    f"--listening-port={self.port}",
                    "--relay-ip=127.0.0.1",
                    "--allow-loopback-peers",
                    "--use-auth-secret",
                    f"--static-auth-secret={self.secret}",
                    "--realm=contact-gateway.test",
                    "--fingerprint",
                    "--no-tls",
                    "--no-dtls",
                    "--no-cli",
                    "--log-file=stdout",
                    f"--db={Path(self.dir.name) / 'turndb'}",
                    f"--pidfile={Path(self.dir.name) / 'turn.pid'}",
                    "--verbose",
                    *self.options,
                ]
            ),
            stdout=logf,
            stderr=subprocess.STDOUT,
        )
        logf.close()
        deadline = time.monotonic() + 15
        while not stun_binding_answered(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"turnserver did not answer on port {self.port}:\n{self.log_text()[-2000:]}")

    def log_text(self) -> str:
        """coturn's log so far (its standard output)."""
        return self.log.read_text(errors="replace")

    async def logged(self, *texts: str, timeout: float = 20.0) -> str:
        """The log once it holds every one of ``texts``: coturn is another process, and its line about what it did
        lands a moment after a peer saw the result (a loaded machine read the log before it was written)."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log_text()
            if all(text in log for text in texts):
                return log
            if time.monotonic() > deadline:
                missing = [text for text in texts if text not in log]
                raise AssertionError(f"coturn did not log {missing} within {timeout} s:\n{log[-3000:]}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None
        self.dir.cleanup()


def allocations(log: str) -> list[str]:
    """The log lines of successful TURN allocations."""
    return [line for line in log.splitlines() if "ALLOCATE processed, success" in line]
