"""Replay before publish: the inputs of past sessions of a flow, from their timelines, fed to a version of it.

Reads the conversations created in the window (``P:convs``, newest first, at most ``limit``), rebuilds each run of
the flow from its ``ivr`` steps (:func:`ivr.replay.recorded_runs`) and replays it off the event loop
(:func:`ivr.replay.compare`). Test conversations (the console's test runs) are left out. A run recorded before
flow steps kept their inputs is counted apart as ``unreplayable``, never guessed at.
"""

from __future__ import annotations

import asyncio
import math
import re
from datetime import UTC, datetime, timedelta

from gateway.errors import BadRequest
from gateway.flows.live import LiveFlows
from gateway.flows.versions import FlowVersions
from gateway.store.index_store import ConversationIndex
from gateway.store.store import Store
from ivr.model import Flow
from ivr.replay import Comparison, RecordedRun, compare, recorded_runs

MAX_SESSIONS = 10_000
DEFAULT_SESSIONS = 2_000
_SPAN = re.compile(r"^(\d{1,5})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
TEST_MARK = "test_flow"  # a test run's start context carries it (gateway/wire/customer_socket.py)


def parse_since(value: str, now: datetime) -> datetime:
    """``7d``, ``12h``, ``30m``, ``2w`` before ``now``, or an ISO 8601 time (UTC when it names no zone)."""
    value = value.strip()
    span = _SPAN.fullmatch(value)
    if span:
        return now - timedelta(**{_UNITS[span[2]]: int(span[1])})
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest("'since' is a span such as 7d, 12h, 30m or an ISO 8601 time", field="since") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class Replays:
    def __init__(self, store: Store, live: LiveFlows, versions: FlowVersions):
        self.store = store
        self.index = ConversationIndex(store)
        self.live = live
        self.versions = versions

    async def runs(self, name: str, since: datetime, limit: int) -> list[RecordedRun]:
        entries = await self.index.newest_first(
            "all", "", upper=math.inf, lower=since.timestamp() * 1000, offset=0, count=limit
        )
        runs: list[RecordedRun] = []
        for entry in reversed(entries):  # oldest first
            events = await self.store.events(entry.cid)
            runs += [r for r in recorded_runs(entry.cid, events, name) if TEST_MARK not in r.context]
        return runs

    async def replay(self, name: str, vid: str, since: datetime, limit: int = DEFAULT_SESSIONS) -> Comparison:
        stored = await self.versions.version(name, vid)
        return await self.replay_flow(name, self.versions.parse(name, stored.yaml), since, limit)

    async def replay_flow(self, name: str, flow: Flow, since: datetime, limit: int = DEFAULT_SESSIONS) -> Comparison:
        """Replay against a flow not saved (``flows replay NAME --file DRAFT.yaml`` in CI)."""
        runs = await self.runs(name, since, limit)
        others = {n: f for n, f in self.live.snapshot().items() if n != name}
        return await asyncio.to_thread(compare, flow, runs, others, limit=limit)
