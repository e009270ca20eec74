import asyncio

from gateway.tasks import cancel_and_wait


async def test_cancel_and_wait_survives_a_swallowed_cancellation() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed == 0:      # like a library that turns the first cancel into "timeout, go on"
                    swallowed += 1
                    continue
                raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, None), timeout=5)
    assert task.cancelled() and swallowed == 1
