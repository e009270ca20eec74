"""A socket's send loop stops when it is cancelled, even when a queued step swallowed the cancellation: the socket's
end (``Connection.finish``) cancels it and waits for it. A whole-suite run found a customer socket's handler still
waiting for its sender at the end of a test: the sender was cancelled but waiting on its queue again."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from gateway.wire.connection import Connection


async def test_a_step_that_swallows_the_cancellation_does_not_keep_the_loop_alive() -> None:
    conn = Connection(web.WebSocketResponse(), bus=None)  # type: ignore[arg-type]  # the loop below never uses it
    started = asyncio.Event()

    async def swallowing() -> None:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass  # as asyncio.wait_for on Python 3.11 can, when what it waits for finishes as the cancel comes

    ran_after: list[str] = []

    async def later() -> None:
        ran_after.append("later")

    conn.push(swallowing)
    conn.push(later)
    sender = asyncio.create_task(conn._send_loop())
    await started.wait()
    sender.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(2):  # (a loop that went back to its queue would wait here for ever)
            await sender
    assert ran_after == []  # cancelled: nothing more is sent


async def test_the_loop_goes_on_after_a_step_when_nobody_cancelled_it() -> None:
    conn = Connection(web.WebSocketResponse(), bus=None)  # type: ignore[arg-type]
    done = asyncio.Event()

    async def first() -> None:
        await asyncio.sleep(0)

    async def second() -> None:
        done.set()

    conn.push(first)
    conn.push(second)
    sender = asyncio.create_task(conn._send_loop())
    async with asyncio.timeout(2):
        await done.wait()
    sender.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sender
