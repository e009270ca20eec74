"""Task ownership helpers: whoever starts a task stops it, and waits for it."""

from __future__ import annotations

import asyncio
from typing import Any

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
