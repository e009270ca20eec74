"""Task ownership helpers: whoever starts a task stops it, and waits for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

RECANCEL_SECONDS = 0.5


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel the tasks (None is skipped) and wait until each has finished, whatever it raised.

    A cancellation can be lost on Python 3.11 when it races a timeout inside a
    library call (redis-py turns its read timeout into "no message" and goes
    on), so a task still running after :data:`RECANCEL_SECONDS` is cancelled again.
    """
    live = [t for t in tasks if t is not None]
    pending = [t for t in live if not t.done()]
    while pending:
        for task in pending:
            task.cancel()
        _, still = await asyncio.wait(pending, timeout=RECANCEL_SECONDS)
        pending = list(still)
    await asyncio.gather(*live, return_exceptions=True)


class Tasks:
    """The background tasks of one owner (a call, a hand-off, a command server): started here, each failure
    logged, and all cancelled and awaited by :meth:`close`.

    Not :class:`asyncio.TaskGroup`: a call's tasks start from callbacks (a leg closing, a bus message) long
    after any ``async with`` that could hold them, and one failing must not cancel its siblings (a failed
    announcement must not hang up the caller).
    """

    def __init__(self, name: str, logger: logging.Logger) -> None:
        self.name = name
        self.log = logger
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    def spawn(self, coro: Coroutine[Any, Any, T], what: str) -> asyncio.Task[T]:
        """Start ``coro`` as a task of this owner; once :meth:`close` was called it is cancelled before it runs
        (a leg's late 'closed' callback, a set-up step that finishes after the owner ended)."""
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.name}-{what}")
        if self.closed:
            task.cancel()
            return task
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("task %s failed", task.get_name(), exc_info=task.exception())

    async def wait(self) -> None:
        """Wait until every task started so far has finished (without cancelling; failures are logged)."""
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        """Cancel every task and wait for each (not the one calling, when it is one of them)."""
        self.closed = True
        current = asyncio.current_task()
        await cancel_and_wait(*[t for t in self._tasks if t is not current])


class Every:
    """One task that runs ``work`` every ``seconds`` from :meth:`start` to :meth:`stop` (a sweep). A failure of
    one round is logged and the next round runs: ``expected`` exceptions (Redis down) as a warning, any other (a
    bug) with its traceback."""

    def __init__(
        self,
        seconds: float,
        work: Callable[[], Awaitable[Any]],
        name: str,
        logger: logging.Logger,
        expected: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.seconds = seconds
        self.work = work
        self.name = name
        self.log = logger
        self.expected = expected
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            try:
                await self.work()
            except self.expected as exc:  # the next round tries again
                self.log.warning("%s failed: %s: %s", self.name, type(exc).__name__, exc)
            except Exception:  # a bug: logged with its traceback; the rounds go on
                self.log.exception("%s failed", self.name)
