import asyncio

import pytest

from gateway.tasks import cancel_and_wait


async def test_cancel_and_wait_survives_a_swallowed_cancellation() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed == 0:  # like a library that turns the first cancel into "timeout, go on"
                    swallowed += 1
                    continue
                raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, None), timeout=5)
    assert task.cancelled() and swallowed == 1


async def test_tasks_logs_a_failure_and_close_cancels_and_awaits_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from gateway.tasks import Tasks

    tasks = Tasks("call-c1", logging.getLogger("test.tasks"))
    stopped: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            stopped.append("forever")

    async def fails() -> None:
        raise ValueError("boom")

    async def closes_its_owner() -> None:  # like a call ended from one of its own tasks
        await tasks.close()
        stopped.append("closer")

    long = tasks.spawn(forever(), "forever")
    with caplog.at_level(logging.ERROR, "test.tasks"):
        failing = tasks.spawn(fails(), "fails")
        await asyncio.wait([failing])
        await asyncio.sleep(0)
    assert [r.getMessage() for r in caplog.records] == ["task call-c1-fails failed"]
    assert len(tasks) == 1 and long.get_name() == "call-c1-forever"
    await asyncio.wait_for(tasks.spawn(closes_its_owner(), "closer"), timeout=5)
    assert stopped == ["forever", "closer"] and long.cancelled() and len(tasks) == 0
    late = tasks.spawn(forever(), "late")  # e.g. a leg's 'closed' callback after the call ended
    await asyncio.sleep(0)
    assert late.cancelled() and stopped == ["forever", "closer"] and len(tasks) == 0


async def test_tasks_wait_lets_the_running_ones_finish_without_cancelling() -> None:
    import logging

    from gateway.tasks import Tasks

    tasks = Tasks("call-c2", logging.getLogger("test.tasks"))
    done: list[str] = []

    async def ending() -> None:
        await asyncio.sleep(0.05)
        done.append("ended")

    task = tasks.spawn(ending(), "end")
    await asyncio.wait_for(tasks.wait(), timeout=5)
    assert done == ["ended"] and not task.cancelled() and len(tasks) == 0
