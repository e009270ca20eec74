"""Node liveness and takeover: when a node dies, one surviving node ends its calls, once, and frees its agents.

Every node keeps a heartbeat in Redis (``P:node:NODE:alive``, refreshed every :data:`HEARTBEAT_SECONDS`, expires
after :data:`NODE_TTL_SECONDS`, on Redis's clock) and is listed in ``P:nodes``. Every node also watches the
others: a listed node without a heartbeat is dead. One survivor claims it (``claim_node-4.lua``: exactly one
claimant while its lease of :data:`LEASE_SECONDS` lives; a claimant that dies mid-way is replaced when the lease
runs out) and then, for each call in the dead node's registry (gateway/calls/anchors.py):

1. a callback being delivered by that call (``connecting``) counts as not reached: its next attempt is scheduled;
2. the caller's call slot is given back (gateway/contact/limits.py), so the customer can call again at once;
3. ``call_ended`` with reason ``node_lost`` and ``duration_ms`` (from the call's start to the takeover) is
   written in the same step that removes the call from the registry (``end_call-7.lua``): exactly once, whoever
   gets there first;
4. the conversation's sockets on every node hear ``call_status`` ``ended`` ``node_lost`` (the customer's widget
   and the desks following the conversation); a consultant's desk hears it on the agent's own channel;
5. the conversation, by this rule: a call still **waiting** in the queue or **ringing** an agent (not answered)
   leaves a conversation nobody may be behind, since the caller's media died with the node. If the conversation
   has chat messages, the customer may still be there in the chat: it stays in (or goes back to) the queue at
   its original place. Otherwise (a call-only conversation) it is closed with disposition ``abandoned``. Taken
   back from an agent (whoever it was assigned to meanwhile, told ``unassigned``) is only a conversation the
   call routed itself (the registry's ``routed``: its flow queued it, or a miss requeued it); one it went
   straight to (the agent the customer was chatting with, the agent whose callback they answered) stays with
   that agent, as after any call. A call in the **IVR** leaves its conversation ``open`` (as a caller hanging up
   in the IVR does: a later message routes it). An **answered** call (connected, on hold, consulting) leaves the
   conversation with its agent, as any ended call does: the agent closes it with a disposition.

Steps 4 and 5 run before 3, and every step but 3 is idempotent: the call leaves the registry last, so a takeover
stopped midway (a Redis error, a stop, the claimant's death) is done again whole by the next round or claimant
(the sockets may hear ``ended`` twice then). A node that stops while taking another over releases its claim.
The heartbeat has a task of its own: a long takeover never delays it.

Then the agents: an agent activity only a live node can end (``ringing``, ``on_call``) carries its owner node
(``activity_node``); those the dead node owned end: ``on_call`` becomes after-call work (``wrap_up`` for
``--wrap-up-seconds``, as after any call), ``ringing`` becomes nothing (available again at once; missing a
call because a node died is not the agent's fault, so they are not set away). Last, the dead node's keys go.

The bound: a node killed with ``kill -9`` misses its next heartbeat; its key expires at most
:data:`NODE_TTL_SECONDS` after its last one, and the survivors look every :data:`HEARTBEAT_SECONDS`, so the claim
comes within about 6 s of the kill and the calls are ended a few Redis round trips per call later: within 10 s
for tens of calls (measured by tests/integration/test_takeover.py and bench/takeover.py).

A node stopping cleanly (SIGTERM) ends its calls itself and deletes its heartbeat: nobody takes it over. A node
only claims others once its own heartbeat has been written for :data:`NODE_TTL_SECONDS` in a row, so after a Redis
outage every node has had time to write its heartbeat again before anyone looks. A node that finds itself taken
over (stalled longer than the TTL, then back) ends its own calls (``node_lost``); their ends were already written.
The claim marks the dead node lost (``P:node:NODE:lost``, for :data:`LOST_SECONDS`, whatever becomes of the claim or
the takeover): its heartbeat answers ``lost`` from then on and it never rejoins the watched nodes, so it keeps no
media for a call whose end is written; it ends every call it still gets (``on_lost``, each round) until restarted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from gateway.calls.anchors import MOVED_RETRIES
from gateway.contact.callbacks import Callbacks
from gateway.contact.conversations import Conversations
from gateway.contact.limits import Limits
from gateway.contact.presence import Presence
from gateway.contact.routing import now_ms
from gateway.errors import GatewayError
from gateway.protocol.bus import CallUpdate, Message
from gateway.protocol.states import AgentActivity, CallEndReason, CallStatus
from gateway.store.node_store import NodeStore
from gateway.store.store import Store, StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
NODE_TTL_SECONDS = 5.0
LEASE_SECONDS = 60.0
LOST_SECONDS = 24 * 3600.0  # a claimed node's lost mark: it never rejoins (node ids are new per process)
NODE_LOST = CallEndReason.NODE_LOST
UNANSWERED = ("waiting", "ringing", "connecting")  # hand-off states with no agent talking to the caller

Publish = Callable[[str, Message], Awaitable[None]]  # (channel, bus message)


@dataclass
class TakeoverReport:
    node: str
    calls: list[str] = field(default_factory=list)  # calls ended here (not those another node ended first)
    agents: list[str] = field(default_factory=list)  # agents whose activity the dead node owned
    requeued: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    ms: int = 0


class Takeover:
    """Ends a dead node's calls and frees its agents (the node claimed it first: :class:`NodeWatch`)."""

    def __init__(
        self,
        store: Store,
        node_id: str,
        conversations: Conversations,
        presence: Presence,
        publish: Publish,
        *,
        callbacks: Callbacks | None = None,
        limits: Limits | None = None,
        wrap_up_seconds: float = 60.0,
    ) -> None:
        self.db = NodeStore(store)
        self.store = store
        self.keys = store.keys
        self.node_id = node_id
        self.conversations = conversations
        self.presence = presence
        self.publish = publish
        self.callbacks = callbacks
        self.limits = limits
        self.wrap_up_ms = int(wrap_up_seconds * 1000)

    async def run(self, dead: str) -> TakeoverReport:
        started = time.monotonic()
        report = TakeoverReport(dead)
        for call_id, entry in await self.db.calls_of_node(dead):
            await self._end(call_id, entry, report)
        for call_id in await self.db.node_call_ids(dead):  # index entries whose call hash is gone
            if await self.db.call(call_id) is None:
                await self.db.forget_node_call(dead, call_id)
        await self._free_agents(dead, report)
        done = await self.db.taken_over(dead, self.node_id, lost_ms=int(LOST_SECONDS * 1000))
        report.ms = int((time.monotonic() - started) * 1000)
        log.warning(
            "took over lost node %s (%s): %d calls ended, %d agents freed, %d conversations requeued, %d closed, "
            "in %d ms",
            dead,
            done,
            len(report.calls),
            len(report.agents),
            len(report.requeued),
            len(report.closed),
            report.ms,
        )
        return report

    async def _end(self, call_id: str, entry: dict[str, str], report: TakeoverReport) -> None:
        """Every step but the last is idempotent and runs before the call leaves the registry (the last step): a
        takeover stopped anywhere (a Redis error, a cancel, the claimant's death) is run again whole by the next
        round or claimant, which still finds the call. (The sockets may hear ``ended`` twice then.)"""
        cid, customer = entry.get("conversation_id", ""), entry.get("customer_id", "")
        extra = {"conversation_id": cid, "customer_id": customer}
        if self.callbacks is not None and cid:
            await self.callbacks.call_ended(cid)  # a callback this call was delivering: its next attempt
        if self.limits is not None and customer:
            await self.limits.release_lost_call(call_id, customer, entry.get("address", ""))
        # the sockets first: the desk of an agent the conversation is taken from stops following it
        agent, consultant = entry.get("agent_id", ""), entry.get("consult_agent_id", "")
        await self.publish(
            self.keys.conv_channel(cid),
            CallUpdate(call_id, CallStatus.ENDED, NODE_LOST, agent_id=agent or None, conversation_id=cid),
        )
        if consultant:  # their desk may not follow the conversation
            await self.publish(
                self.keys.agent_channel(consultant),
                CallUpdate(
                    call_id, CallStatus.ENDED, NODE_LOST, conversation_id=cid, agent_id=consultant, consult=True
                ),
            )
        try:
            await self._conversation_after(cid, entry, report)
        except GatewayError as exc:
            log.warning("conversation of lost call %s left as it was: %s", call_id, exc.message, extra=extra)
        started = int(entry.get("started_ms") or 0)
        data = {"call_id": call_id, "reason": NODE_LOST, "duration_ms": max(0, now_ms() - started) if started else 0}
        result = "moved"
        for _ in range(MOVED_RETRIES):
            result = await self.db.end_call(
                call_id, entry, data, now=now_ms(), max_events=self.store.max_timeline_events
            )
            if result != "moved":
                break
            found = await self.db.call(call_id)
            if found is None:
                result = "gone"
                break
            entry = found
        if result not in ("ok", "not_recorded"):
            log.info("lost call %s not ended here: %s", call_id, result, extra=extra)
            return
        report.calls.append(call_id)
        log.info("lost call %s ended (it was %s)", call_id, entry.get("state") or entry.get("status"), extra=extra)

    async def _conversation_after(self, cid: str, entry: dict[str, str], report: TakeoverReport) -> None:
        """The rule of the module docstring (5.), :meth:`Conversations.caller_gone`'s: taken back from an agent only
        for a call not answered that routed it itself."""
        after = await self.conversations.caller_gone(
            cid,
            routed=entry.get("state") in UNANSWERED and entry.get("routed", "1") == "1",
            score=int(entry.get("queued_ms") or 0) or now_ms(),
            reason="call_node_lost",
        )
        if after == "requeued":
            report.requeued.append(cid)
        elif after == "closed":
            report.closed.append(cid)

    async def _free_agents(self, dead: str, report: TakeoverReport) -> None:
        agents = await self.store.agent_ids()
        for agent_id, activity in await self.db.activities_owned_by(dead, agents):
            if activity == AgentActivity.ON_CALL:
                after, until = AgentActivity.WRAP_UP, now_ms() + self.wrap_up_ms
            else:
                after, until = AgentActivity.NONE, 0
            if await self.db.release_activity(agent_id, dead, after, until_ms=until) == "ok":
                report.agents.append(agent_id)
                log.info("agent freed from lost node %s: %s -> %s", dead, activity, after or "none")
                await self.presence.activity_changed(agent_id)


class NodeWatch:
    """This node's heartbeat, and the watch over the others (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        node_id: str,
        takeover: Takeover,
        *,
        on_lost: Callable[[], Awaitable[None]],
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        ttl_seconds: float = NODE_TTL_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.db = NodeStore(store)
        self.node_id = node_id
        self.takeover = takeover
        self.on_lost = on_lost  # another node took this one over: end the calls still here
        self.heartbeat_seconds = heartbeat_seconds
        self.ttl_ms = int(ttl_seconds * 1000)
        self.lease_ms = int(lease_seconds * 1000)
        self.reports: list[TakeoverReport] = []  # the takeovers this node did (newest last)
        self._healthy_since: float | None = None
        self._lost = False  # another node claimed this one (its heartbeat said so)
        #: set once another node took this one over: it answers /readyz 503 ``taken_over`` and the command stops
        #: with status 1, so that its worker parent (or systemd, Kubernetes) starts it again under a new node id (it
        #: kept serving, cutting every call it took with ``node_lost``: an operator's finding)
        self.taken_over = asyncio.Event()
        self._claimed: set[str] = set()  # nodes this one claimed and has not finished taking over
        self._beats: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """The first heartbeat is written before the node takes calls. The heartbeat has a task of its own, so a
        long takeover (or ending this node's calls) never holds it up; the watch and the takeovers run in another."""
        await self._beat()
        self._beats = asyncio.create_task(self._beat_every(), name="node-heartbeat")
        self._watch = asyncio.create_task(self._watch_every(), name="node-watch")

    async def stop(self) -> None:
        """A clean stop: after the calls ended (their registry entries gone), the heartbeat goes; nobody takes
        this node over. A takeover still running stops, and its claim goes at once (another survivor takes the
        node over in its next round, not after the lease)."""
        await cancel_and_wait(self._watch, self._beats)
        self._watch = self._beats = None
        for dead in sorted(self._claimed):
            try:
                await self.db.release_claim(dead, self.node_id)
            except (StoreError, OSError) as exc:
                log.warning("claim on node %s not released (it runs out): %s", dead, exc)
        self._claimed.clear()
        if await self.db.stopped(self.node_id) == "calls_left":
            log.warning("node stopped with calls still registered: a surviving node ends them (node_lost)")

    async def _beat(self) -> bool:
        """Write the heartbeat; False when another node took this one over."""
        result = await self.db.heartbeat(self.node_id, ttl_ms=self.ttl_ms)
        if result == "lost":
            self._healthy_since = None
            self._lost = True
            self.taken_over.set()
            return False
        if self._healthy_since is None:
            self._healthy_since = time.monotonic()
        return True

    async def _beat_every(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self._beat()
            except (StoreError, OSError) as exc:  # Redis away: no heartbeat, and no judging others after it
                self._healthy_since = None
                log.warning("node heartbeat failed: %s", exc)

    async def _watch_every(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                if self._lost:
                    log.error("this node was taken over by another (its heartbeat stalled): ending its calls")
                    await self.on_lost()
                    continue
                if self._healthy_since is not None and time.monotonic() - self._healthy_since >= self.ttl_ms / 1000:
                    await self.check()
            except (StoreError, OSError) as exc:  # Redis away: the claim stays ours, the next round goes on
                log.warning("node watch round failed: %s", exc)
            except Exception:  # a bug in one takeover must not stop the watch: logged, tried again next round
                log.exception("node watch round failed")

    async def check(self) -> list[TakeoverReport]:
        """Claim and take over every node whose heartbeat expired."""
        done = []
        for dead in await self.db.silent_nodes():
            if dead == self.node_id:
                continue
            claim = await self.db.claim(dead, self.node_id, lease_ms=self.lease_ms, lost_ms=int(LOST_SECONDS * 1000))
            if claim != "ok":
                continue
            log.warning("node %s lost its heartbeat: taking its calls over", dead)
            self._claimed.add(dead)
            report = await self.takeover.run(dead)
            self._claimed.discard(dead)
            self.reports.append(report)
            done.append(report)
        return done
