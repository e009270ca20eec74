"""The bounded worker pool every recognizer runs in, and serial lanes inside it.

Recognition must never run on the event loop, and the number of decodes
running at once should not exceed the cores (Vosk releases the GIL and
scales with threads; more threads than cores only add latency). One
:class:`RecognitionPool` per process (the gateway owns it and shuts it
down) holds a ``ThreadPoolExecutor`` with a worker per usable core (media/cores.py).

A recognizer is not thread-safe, and its chunks must be decoded in order,
so each call gets a :class:`SerialLane`: jobs submitted to one lane run one
after another, in submission order, on whichever pool worker is free.
After each job the lane goes to the back of the pool's queue, so one busy
call cannot hold a worker while others wait.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from media.cores import usable_cores

T = TypeVar("T")


class RecognitionPool:
    """``max_workers`` threads (default: the CPU count) shared by every listener of the process."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or usable_cores()
        self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="asr")
        self._closed = False

    def lane(self) -> SerialLane:
        """A new serial lane (one per call / listener)."""
        if self._closed:
            raise RuntimeError("the recognition pool is shut down")
        return SerialLane(self._executor)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on a worker (no ordering with anything else)."""
        return self._executor.submit(fn, *args)

    def shutdown(self) -> None:
        """Wait for the running jobs and stop the workers; queued jobs are cancelled."""
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)


class SerialLane:
    """Jobs run one at a time in submission order on a shared executor. Thread-safe."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self._executor = executor
        self._lock = threading.Lock()
        self._jobs: deque[tuple[Callable[..., Any], tuple[Any, ...], Future[Any]]] = deque()
        self._scheduled = False

    @property
    def pending(self) -> int:
        """Jobs waiting (not counting the one running)."""
        return len(self._jobs)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            self._jobs.append((fn, args, future))
            if self._scheduled:
                return future
            self._scheduled = True
        self._schedule()
        return future

    def _schedule(self) -> None:
        try:
            self._executor.submit(self._run_one)
        except RuntimeError as exc:  # executor shut down: fail what is queued instead of hanging
            with self._lock:
                jobs, self._jobs = list(self._jobs), deque()
                self._scheduled = False
            for _, _, future in jobs:
                if future.set_running_or_notify_cancel():
                    future.set_exception(exc)

    def _run_one(self) -> None:
        with self._lock:
            fn, args, future = self._jobs.popleft()
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future, as in concurrent.futures
                future.set_exception(exc)
        with self._lock:
            more = bool(self._jobs)
            self._scheduled = more
        if more:
            self._schedule()
