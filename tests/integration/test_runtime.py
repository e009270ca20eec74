"""The node's services: started in dependency order, stopped in reverse, also when a later one fails to start."""

import asyncio
from dataclasses import replace

import pytest

from gateway import runtime
from gateway.config import Settings
from gateway.errors import ConfigError


def live(before: set[asyncio.Task[object]]) -> list[str]:
    return sorted(t.get_name() for t in asyncio.all_tasks() - before if not t.done())


async def test_a_start_that_fails_late_stops_what_it_started(settings: Settings) -> None:
    before = asyncio.all_tasks()
    # The chat flow is checked once the bus listens and routing, callbacks and presence run.
    with pytest.raises(ConfigError, match="chat flow 'nope' is not among the loaded flows"):
        await runtime.start(replace(settings, chat_flow="nope"))
    assert live(before) == []


async def test_stop_stops_everything_start_started(settings: Settings) -> None:
    before = asyncio.all_tasks()
    services = await runtime.start(settings)
    assert {"router", "callbacks", "flow-reloader"} <= set(live(before))
    await runtime.stop(services)
    assert live(before) == []
