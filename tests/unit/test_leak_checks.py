"""The leak checks (tests/support/leaks.py) fail on a real leaked task, thread, socket and peer connection."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection

from tests.support.leaks import Leaked, Snapshot, check, check_tasks_after_grace

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]


def test_a_thread_left_running_is_named_with_its_stack() -> None:
    before = Snapshot.take()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="left-running")
    thread.start()
    try:
        with pytest.raises(Leaked, match=r"(?s)thread 'left-running' \(daemon=False, runs Event.wait\).*in wait"):
            check(before, grace=0.05)
    finally:
        stop.set()
        thread.join()
    check(before)


def test_a_thread_that_ends_within_the_grace_is_not_a_leak() -> None:
    before = Snapshot.take()
    thread = threading.Thread(target=lambda: threading.Event().wait(0.1), name="ending")
    thread.start()
    check(before, grace=5)


def test_a_socket_left_open_is_named_with_its_address() -> None:
    before = Snapshot.take()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(Leaked, match=rf"socket fd {sock.fileno()}: udp 127\.0\.0\.1:{port}$"):
            check(before, grace=0)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        client = socket.create_connection(listening.getsockname())
        with pytest.raises(
            Leaked,
            match=rf"tcp 127\.0\.0\.1:{client.getsockname()[1]} -> 127\.0\.0\.1:"
            rf"{listening.getsockname()[1]} ESTABLISHED",
        ):
            check(before, grace=0)
        listening.accept()[0].close()
        client.close()
    check(before)


def test_a_pool_made_before_the_test_may_start_workers_one_made_during_it_may_not() -> None:
    owned_by_a_fixture = ThreadPoolExecutor(1, thread_name_prefix="fixture-pool")
    before = Snapshot.take()
    try:
        owned_by_a_fixture.submit(int).result()
        check(before, grace=0)
        made_here = ThreadPoolExecutor(1, thread_name_prefix="test-pool")
        made_here.submit(int).result()
        with pytest.raises(Leaked, match=r"thread 'test-pool_0'") as caught:
            check(before, grace=0.05)
        assert "fixture-pool" not in str(caught.value)
        made_here.shutdown()
    finally:
        owned_by_a_fixture.shutdown()
    check(before)


async def test_a_peer_connection_not_closed_is_named_with_where_it_was_made() -> None:
    await asyncio.get_running_loop().run_in_executor(None, int)  # aiortc uses the loop's pool (the runner's)
    before = Snapshot.take()
    pc = RTCPeerConnection()
    pc.addTransceiver("audio")
    await pc.setLocalDescription(await pc.createOffer())
    with pytest.raises(
        Leaked,
        match=r"(?s)RTCPeerConnection at 0x[0-9a-f]+ not closed \(signaling have-local-offer, "
        r"ice new, connection new\), made at:\n.*test_leak_checks\.py",
    ):
        check(before, grace=0)
    await pc.close()
    check(before)


async def test_a_task_left_pending_is_named_with_its_coroutine_and_stack() -> None:
    async def forgotten() -> None:
        await asyncio.Event().wait()

    task = asyncio.create_task(forgotten(), name="left-pending")
    with pytest.raises(Leaked, match=r"(?s)task 'left-pending' running .*forgotten:.*in forgotten"):
        await check_tasks_after_grace(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await check_tasks_after_grace(0)


async def test_a_task_that_ends_within_the_grace_is_not_a_leak() -> None:
    asyncio.create_task(asyncio.sleep(0.05), name="ending")
    await check_tasks_after_grace(5)


LEAKY_TESTS = """
import asyncio, socket, threading
from aiortc import RTCPeerConnection

async def test_leaks_a_task():
    asyncio.create_task(asyncio.Event().wait(), name="leaked-task")

stop = threading.Event()

def test_leaks_a_thread():
    threading.Thread(target=stop.wait, name="leaked-thread", daemon=True).start()

def test_leaks_a_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    test_leaks_a_socket.kept = s

async def test_leaks_a_peer_connection():
    test_leaks_a_peer_connection.kept = RTCPeerConnection()

async def test_clean():
    await asyncio.create_task(asyncio.sleep(0))
"""

#: On the browser tests' shared loop (tests/support/browser_loop.py) a test answers for the tasks it began only.
LEAKY_TESTS_ON_A_SHARED_LOOP = """
import asyncio
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")

async def test_shared_leaks_a_task():
    asyncio.create_task(asyncio.Event().wait(), name="leaked-on-the-shared-loop")

async def test_shared_after_a_leak_is_clean():
    await asyncio.create_task(asyncio.sleep(0))
    # the loop outlives the test that leaked: its task was cancelled when reported, it runs on into no other test
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "leaked-on-the-shared-loop" and not t.done()]
"""


def test_the_fixtures_fail_each_leaking_test_at_teardown_and_pass_a_clean_one(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_leaky=LEAKY_TESTS, test_leaky_shared=LEAKY_TESTS_ON_A_SHARED_LOOP)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    result = pytester.run(
        sys.executable, "-m", "pytest", "-p", "tests.support.leaks", "-p", "no:cacheprovider", "-q", timeout=120
    )
    result.assert_outcomes(passed=7, errors=5)
    result.stdout.fnmatch_lines_random(
        [
            *(
                f"ERROR test_leaky.py::test_leaks_a_{what} - tests.support.leaks.Leake*"
                for what in ("task", "thread", "socket", "peer_connection")
            ),
            "ERROR test_leaky_shared.py::test_shared_leaks_a_task - *",
            "*task 'leaked-on-the-shared-loop' running Event.wait*",
            "*Leaked: the test left these tasks pending on its event loop (1):",
            "*task 'leaked-task' running Event.wait*",
            "*thread 'leaked-thread' (daemon=True, runs Event.wait)*",
            "*socket fd *: udp 127.0.0.1:*",
            "*RTCPeerConnection at 0x* not closed (signaling stable, ice new, connection new), made at:*",
        ]
    )
