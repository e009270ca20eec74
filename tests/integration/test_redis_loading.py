"""A node started while its Redis still loads its data waits for it (a security tester's finding: `serve --workers 1`
pinged the embedded Redis 25 ms after starting it, got "Redis is loading the dataset in memory" and exited; 3
starts of 5 failed with a 1.4 MB file, every one with 73 MB, so a lone worker that crashed never came back)."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time

import redis

from gateway.config import Settings
from gateway.store import connect
from gateway.store.embedded_redis import redis_server_binary
from tests.support.servers import free_port

KEYS = 40_000


def _server(directory: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", directory]
    process = subprocess.Popen(
        [*command, "--appendonly", "no", "--save", "", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while True:  # listening (it answers LOADING meanwhile: redis-py's own retries would wait the loading out)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
    return process


async def test_the_first_ping_waits_while_redis_loads_its_data(settings: Settings) -> None:
    with tempfile.TemporaryDirectory(prefix="cg-loading-") as directory:
        port = free_port()
        first = _server(directory, port)
        client = redis.Redis(port=port)
        pipe = client.pipeline(transaction=False)
        for i in range(KEYS):  # 8 MB: Redis 6.2 answers clients every 2 MB it loads
            pipe.set(f"k{i}", os.urandom(100).hex())  # not compressed in the RDB file
        pipe.execute()
        client.save()  # the RDB file the next start reads back (answering LOADING meanwhile)
        client.shutdown(nosave=True)
        client.close()
        first.wait(10)
        # 300 us per key read back: about 12 s of loading, a LOADING reply every 2 MB read
        second = _server(directory, port, "--key-load-delay", "300")
        url = f"redis://127.0.0.1:{port}/0"
        # redis-py retries a LOADING reply by itself for a few seconds: this loading outlasts that
        probe = connect.client(settings, url)  # as a node makes it
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:  # what the start met
                raw.sendall(b"PING\r\n")
                assert raw.recv(100).startswith(b"-LOADING")
            await connect.reach(probe, settings, url)  # it raised BusyLoadingError ("Redis not reachable")
            assert await probe.dbsize() == KEYS
        finally:
            await probe.aclose()
            second.terminate()
            second.wait(10)
