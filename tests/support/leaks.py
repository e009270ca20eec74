"""A test fails when it leaves asyncio tasks, threads, open sockets or unclosed peer connections behind.

Every check compares with a snapshot taken before the test's own fixtures were set up, so what longer-lived
fixtures hold (the session's Redis server, a module's speech models) is not counted. Two fixtures do the work:

- :func:`no_leaked_threads_or_sockets` (sync, set up before the test's event loop, torn down after it closed):
  threads still alive, and sockets of this process still open (from ``/proc/self/fd``), after the test and all its
  fixtures finished, and peer connections not closed;
- :func:`no_leaked_tasks` (async, for asyncio tests, torn down after every other async fixture, before the loop
  closes): tasks still pending on the test's loop, which pytest-asyncio would otherwise cancel silently. The
  browser tests share a loop (tests/support/browser_loop.py): :func:`no_leaked_tasks_on_the_browser_loop` counts
  only the tasks that began during the test.

Threads and tasks get a short grace to end by themselves (a subprocess's waitpid thread, aiortc's connect task);
what still runs after it is a leak.

A failure is an error at the test's teardown naming each leak: a task's name, coroutine and stack; a thread's name,
target and stack; a socket's kind and addresses; a peer connection's states and where it was created.
``tests/unit/test_leak_checks.py`` shows each check failing on a real leak.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import sys
import threading
import time
import traceback
import weakref
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.thread import _worker as _pool_worker
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from pytest_asyncio import is_async_test

from tests.support.browser_loop import BROWSER_LOOP, browser_fixture

#: How long threads that are ending anyway (a subprocess's waitpid thread after the process exited) may take.
THREAD_GRACE_SECONDS = 2.0
#: How long tasks that are ending anyway may take: aiortc's ``RTCPeerConnection.close()`` does not await the
#: connect task ``setRemoteDescription`` started (it ends by itself once the ICE connection closed).
TASK_GRACE_SECONDS = 1.0


class Leaked(AssertionError):
    """What a test left running or open, one line (or block) per leak."""


# ---------------------------------------------------------------- what was made when


class Births:
    """Remembers (weakly) every object of the wrapped classes made while installed: its serial number and where.

    Peer connections made since a test began and not closed are leaks. Thread pools are tracked so a pool made
    before the test (by a module fixture, which shuts it down) may start workers during the test: those threads
    belong to the pool's owner, not to the test.
    """

    def __init__(self) -> None:
        self.made: weakref.WeakKeyDictionary[object, tuple[int, str]] = weakref.WeakKeyDictionary()
        self.count = 0

    def wrap_init(self, original: Callable[..., None]) -> Callable[..., None]:
        births = self

        def __init__(obj: object, *args: Any, **kwargs: Any) -> None:
            original(obj, *args, **kwargs)
            births.count += 1
            where = "".join(traceback.format_list(callers(traceback.extract_stack()[:-1])))
            births.made[obj] = (births.count, where)

        return __init__

    def mark(self) -> int:
        return self.count

    def born_before(self, obj: object | None, mark: int) -> bool:
        serial = self.made.get(obj) if obj is not None else None
        return serial is not None and serial[0] <= mark

    def unclosed_peer_connections_since(self, mark: int) -> list[str]:
        return [
            describe_peer_connection(pc, where)
            for pc, (number, where) in list(self.made.items())
            if number > mark and isinstance(pc, RTCPeerConnection) and not closed(pc)
        ]


def closed(pc: RTCPeerConnection) -> bool:
    """``close()`` was called and finished (connectionState is 'closed' from the start of ``close()`` on, while
    its transports are still being stopped): aiortc's own future for that, where this aiortc has it."""
    finished = getattr(pc, "_RTCPeerConnection__isClosed", None)
    if isinstance(finished, asyncio.Future):
        return finished.done()
    return pc.connectionState == "closed"


def callers(stack: list[traceback.FrameSummary], limit: int = 6) -> list[traceback.FrameSummary]:
    """The innermost ``limit`` frames outside asyncio, pytest and pluggy: the code that made the object."""
    return [frame for frame in stack if not any(part in frame.filename for part in MACHINERY)][-limit:]


def describe_peer_connection(pc: RTCPeerConnection, where: str) -> str:
    return (
        f"RTCPeerConnection at {id(pc):#x} not closed (signaling {pc.signalingState}, "
        f"ice {pc.iceConnectionState}, connection {pc.connectionState}), made at:\n{where}"
    )


BIRTHS = Births()
MACHINERY = (
    f"{os.sep}asyncio{os.sep}",
    f"{os.sep}_pytest{os.sep}",
    f"{os.sep}pluggy{os.sep}",
    f"{os.sep}pytest_asyncio{os.sep}",
)


# ---------------------------------------------------------------- threads


def leaked_threads(
    before: set[threading.Thread], grace: float = THREAD_GRACE_SECONDS, births_mark: int | None = None
) -> list[str]:
    """Threads alive now that were not before, after letting each take up to ``grace`` seconds (all told) to end.

    With ``births_mark``, a worker of a thread pool made before that mark is not counted (its pool's owner, a
    longer-lived fixture, shuts it down).
    """
    deadline = time.monotonic() + grace
    new = [
        t
        for t in threading.enumerate()
        if t not in before and not (births_mark is not None and BIRTHS.born_before(pool_of(t), births_mark))
    ]
    for thread in new:
        thread.join(max(0.0, deadline - time.monotonic()))
    frames = sys._current_frames()
    return [describe_thread(t, frames.get(t.ident or -1)) for t in new if t.is_alive()]


def pool_of(thread: threading.Thread) -> ThreadPoolExecutor | None:
    """The pool a ``ThreadPoolExecutor`` worker runs for (CPython starts it with a weak reference to the pool)."""
    args = getattr(thread, "_args", ())
    if getattr(thread, "_target", None) is _pool_worker and args and isinstance(args[0], weakref.ref):
        pool = args[0]()
        return pool if isinstance(pool, ThreadPoolExecutor) else None
    return None


def describe_thread(thread: threading.Thread, frame: Any) -> str:
    target = getattr(thread, "_target", None)
    name = getattr(target, "__qualname__", None) or type(thread).__qualname__
    stack = "".join(traceback.format_stack(frame, limit=8)) if frame is not None else "  (no stack)\n"
    return f"thread {thread.name!r} (daemon={thread.daemon}, runs {name}), now at:\n{stack}"


# ---------------------------------------------------------------- sockets

FD_DIR = Path("/proc/self/fd")


def open_sockets() -> dict[int, int]:
    """This process's open sockets: socket inode -> file descriptor (empty where ``/proc`` is missing)."""
    found: dict[int, int] = {}
    try:
        names = os.listdir(FD_DIR)
    except FileNotFoundError:
        return found
    for name in names:
        try:
            target = os.readlink(FD_DIR / name)
        except OSError:  # closed between listdir and readlink
            continue
        if target.startswith("socket:["):
            found[int(target[8:-1])] = int(name)
    return found


def leaked_sockets(before: dict[int, int]) -> list[str]:
    """Sockets open now that were not open before, described with kind and addresses."""
    new = {inode: fd for inode, fd in open_sockets().items() if inode not in before}
    if not new:
        return []
    table = socket_table()
    return [
        f"socket fd {fd}: {table.get(inode, f'inode {inode} (kind unknown)')}"
        for inode, fd in sorted(new.items(), key=lambda item: item[1])
    ]


TCP_STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    "08": "CLOSE_WAIT",
    "0A": "LISTEN",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "09": "LAST_ACK",
    "0B": "CLOSING",
}


def socket_table() -> dict[int, str]:
    """inode -> 'tcp 127.0.0.1:5000 -> 127.0.0.1:6379 ESTABLISHED' from ``/proc/self/net``."""
    table: dict[int, str] = {}
    for kind in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/self/net/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            text = f"{kind} {_address(local)}"
            if kind.startswith("tcp"):
                text += f" -> {_address(remote)} {TCP_STATES.get(state, state)}"
            elif not remote.endswith(":0000"):
                text += f" -> {_address(remote)}"
            table[inode] = text
    try:
        lines = Path("/proc/self/net/unix").read_text().splitlines()[1:]
    except OSError:
        lines = []
    for line in lines:
        fields = line.split()
        path = fields[7] if len(fields) > 7 else "(unnamed)"
        table[int(fields[6])] = f"unix {path}"
    return table


def _address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return f"{socket.inet_ntop(socket.AF_INET, raw[::-1])}:{int(port, 16)}"
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return f"[{socket.inet_ntop(socket.AF_INET6, words)}]:{int(port, 16)}"


# ---------------------------------------------------------------- tasks


def leaked_tasks(loop: asyncio.AbstractEventLoop, ignore: Collection[asyncio.Task[Any] | None] = ()) -> list[str]:
    """Tasks of ``loop`` not done (besides ``ignore``: the checking task itself, tasks older than the test), with
    coroutine and stack."""
    return [describe_task(t) for t in asyncio.all_tasks(loop) if t not in ignore and not t.done()]


def describe_task(task: asyncio.Task[Any]) -> str:
    out = io.StringIO()
    task.print_stack(limit=8, file=out)
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", None) or repr(coro)
    return f"task {task.get_name()!r} running {name}:\n{out.getvalue()}"


# ---------------------------------------------------------------- the check and the fixtures


@dataclass
class Snapshot:
    threads: set[threading.Thread]
    sockets: dict[int, int]
    births: int

    @classmethod
    def take(cls) -> Snapshot:
        return cls(set(threading.enumerate()), open_sockets(), BIRTHS.mark())


def check(before: Snapshot, grace: float = THREAD_GRACE_SECONDS) -> None:
    """Raise :class:`Leaked` naming every thread, socket and peer connection made since ``before`` still there."""
    found = [
        *BIRTHS.unclosed_peer_connections_since(before.births),
        *leaked_threads(before.threads, grace, before.births),
        *leaked_sockets(before.sockets),
    ]
    if found:
        raise Leaked(report("the test left running or open", found))


def check_tasks(loop: asyncio.AbstractEventLoop, ignore: Collection[asyncio.Task[Any] | None] = ()) -> None:
    found = leaked_tasks(loop, ignore)
    if found:
        raise Leaked(report("the test left these tasks pending on its event loop", found))


def report(what: str, found: list[str]) -> str:
    return f"{what} ({len(found)}):\n" + "\n".join(f"- {item}" for item in found)


@pytest.fixture(scope="session", autouse=True)
def track_births() -> Iterator[Births]:
    """Peer connections and thread pools made during the session are remembered with where they were made."""
    with pytest.MonkeyPatch.context() as patch:
        for cls in (RTCPeerConnection, ThreadPoolExecutor):
            patch.setattr(cls, "__init__", BIRTHS.wrap_init(cls.__init__))
        yield BIRTHS


@pytest.fixture(autouse=True)
def no_leaked_threads_or_sockets(track_births: Births) -> Iterator[None]:
    """Set up before the test's event loop exists and torn down after it closed (the loop's own socket pair and
    executor are gone by then)."""
    before = Snapshot.take()
    yield
    check(before)


@pytest.fixture(autouse=True)
def no_leaked_tasks_in_async_tests(no_leaked_threads_or_sockets: None, request: pytest.FixtureRequest) -> None:
    """Brings in :func:`no_leaked_tasks` for asyncio tests only, after the snapshot above was taken."""
    if is_async_test(request.node):
        marker = request.node.get_closest_marker("asyncio")
        shared = marker is not None and marker.kwargs.get("loop_scope") == BROWSER_LOOP
        request.getfixturevalue("no_leaked_tasks_on_the_browser_loop" if shared else "no_leaked_tasks")


@pytest.fixture
async def no_leaked_tasks() -> AsyncIterator[None]:
    """Set up before the test's other async fixtures, so torn down after them, before the loop closes."""
    yield
    await check_tasks_after_grace()


@browser_fixture
async def no_leaked_tasks_on_the_browser_loop() -> AsyncIterator[None]:
    """:func:`no_leaked_tasks` for the browser tests' loop (tests/support/browser_loop.py), which outlives the test:
    the tasks pending on it before the test (the Playwright driver's connection) are not the test's."""
    earlier = asyncio.all_tasks()
    yield
    try:
        await check_tasks_after_grace(earlier=earlier)
    finally:  # reported: cancelled, so that they do not run on into the next tests as the loop would let them
        this = asyncio.current_task()
        left = [t for t in asyncio.all_tasks() if t not in earlier and t is not this and not t.done()]
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=TASK_GRACE_SECONDS)


async def check_tasks_after_grace(
    grace: float = TASK_GRACE_SECONDS, earlier: set[asyncio.Task[Any]] | frozenset[asyncio.Task[Any]] = frozenset()
) -> None:
    """Raise :class:`Leaked` naming the tasks of the running loop (besides this one and ``earlier`` ones) still
    pending after ``grace`` seconds."""
    this = asyncio.current_task()
    ignore = {this, *earlier}
    pending = [t for t in asyncio.all_tasks() if t not in ignore and not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=grace)
    check_tasks(asyncio.get_running_loop(), ignore)
