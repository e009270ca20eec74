"""Agent time: how each agent's signed-in time was spent, per day and hour, for occupancy reports.

Every ``SAMPLE_SECONDS`` a node reads every agent's state from Redis (as routing and the wallboard see it) and adds
the sample's length to the counter of the state each signed-in agent is in (dimension ``agent`` of the report
counters, gateway/ops/rollup_rules.py):

- ``t_call``: ringing or on a call;
- ``t_wrap``: in after-call work;
- ``t_chat``: available, holding at least one chat;
- ``t_idle``: available with nothing to do;
- ``t_away``: away (any reason); the same sample also goes to the agent's reason in dimension ``away_reason`` (a
  code of the center's list, one the gateway set such as ``missed_call``, or ``none``), so the reports split the
  center's away time by reason (gateway/contact/away_reasons.py).

Each sample is one slot of time applied once whoever reads it (its id ``agents:SLOT`` goes through the rollups'
applied set, as an event-log entry does): every node samples, the first one's write counts, a node that dies takes
nothing with it. A slot nobody sampled (every node down) counts nothing: nobody was signed in to a working center.
A state is known to the sample's length (15 s): over a day's hundreds of samples the error averages out; a single
30-second break may read as 15 or 45 s.

Report metrics from these (gateway/ops/rollup_rules.py ``report_point``, by agent only): signed-in time, each
state's time, and **occupancy**: the share of available time spent on contacts, (call + wrap-up + chat) /
(call + wrap-up + chat + idle), away left out (the usual contact-center definition).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gateway.contact.routing import in_wrap_up, now_ms
from gateway.protocol.states import AgentActivity, AgentStatus
from gateway.store.rollup_store import Change, RollupStore
from gateway.store.store import Store, StoreError
from gateway.tasks import Every

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 15
SAMPLE_MS = SAMPLE_SECONDS * 1000
KEEP_MS = 10 * 60_000  # a slot's id stays in the applied set this long past its start (no node samples it then)
STATES = ("t_call", "t_wrap", "t_chat", "t_idle", "t_away")  # the counters, one per state
NO_REASON = "none"  # the away_reason key of an agent away without one


def time_state(info: dict[str, str], active: int, now: int) -> str:
    """Which counter a signed-in agent's sample goes to (the module's list), from their hash and how many
    conversations they hold."""
    if info.get("activity", "") in (AgentActivity.ON_CALL, AgentActivity.RINGING):
        return "t_call"
    if in_wrap_up(info, now):
        return "t_wrap"
    if info.get("status") != AgentStatus.AVAILABLE:
        return "t_away"
    return "t_chat" if active else "t_idle"


class AgentTime:
    def __init__(self, store: Store, rollups: RollupStore, *, clock: Callable[[], int] = now_ms):
        self.store = store
        self.rollups = rollups
        self.clock = clock
        self._last = -1  # the last slot this node sampled
        # a few reads per slot, so that a slot is sampled soon after it starts whichever node is first
        self._every = Every(SAMPLE_SECONDS / 3, self.sample, "agent-time sample", log, expected=(StoreError,))

    async def start(self) -> None:
        await self._every.start()

    async def stop(self) -> None:
        await self._every.stop()

    async def sample(self) -> bool:
        """Count the current slot's states, once per slot per node (and once in all, by its id); True when this
        node's write was the one that counted."""
        now = self.clock()
        slot = now // SAMPLE_MS
        if slot == self._last:
            return False
        self._last = slot
        ids = await self.store.agent_ids()
        counters = []
        for aid, (info, active, sessions) in zip(ids, await self.store.agent_loads(ids, now), strict=True):
            if not sessions:  # signed in: a desk of theirs is live
                continue
            state = time_state(info, active, now)
            counters.append(("agent", aid, state, SAMPLE_MS))
            if state == "t_away":
                counters.append(("away_reason", info.get("away_reason") or NO_REASON, state, SAMPLE_MS))
        if not counters:
            return False
        at = slot * SAMPLE_MS
        # the applied set's score: the consumer's housekeeping forgets ids older than what the event log can deliver
        # again (about now); this one must outlive every node's sample of the slot
        return await self.rollups.apply([Change(f"agents:{slot}", at + KEEP_MS, at, counters)]) == 1
