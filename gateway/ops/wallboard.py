"""The supervisors' wallboard: the whole center now (queues, agents, calls) from Redis, pushed to who watches it.

Every node computes one snapshot for all the supervisors connected to it, from what every node shares in Redis
(the routing queue and the conversations' hashes, agent presence, the call registry, open callbacks, recent
handle times), never from this node's memory alone, so agents, calls and chats spread over several nodes show
the same on each. The snapshot is serialized once and the same text goes to every watching socket.

When: something changed, at most once per ``interval`` (1 s). Changes are announced on the bus by every node:
the queue channel (a conversation queued, assigned, closed; an agent's status or activity) and the board channel
(a live call moved: :meth:`Wallboard.local_change`, called by the call registry, publishes it, coalesced). A
sweep every ``sweep_seconds`` reads again in case something changed that nobody announces (after-call work
running out, a dead node's desk sessions expiring); a snapshot that equals the last one is not sent. Nothing is
read while nobody watches.

Why snapshots and not deltas: the state lives in Redis and changes on many nodes; a snapshot heals itself after
a reconnect, a missed pub/sub message or a node takeover, and with times as epoch ms it only changes when the
center does (the page counts the seconds). A snapshot is a few kB per 100 rows, compressed by the WebSocket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.contact.callbacks import Callbacks
from gateway.contact.queues import Queue
from gateway.contact.routing import DEFAULT_QUEUE, Router, Skills, in_wrap_up, now_ms, parse_skills
from gateway.contact.wait_estimate import HISTORY, estimate_wait_ms
from gateway.ops.rollups import Reports
from gateway.protocol import bus, server
from gateway.protocol.states import AgentActivity, AgentStatus, BoardAgentState, CallbackState, CallStatus
from gateway.store.bus import Bus
from gateway.store.node_store import NodeStore
from gateway.store.store import Store, StoreError
from gateway.tasks import Tasks

log = logging.getLogger(__name__)

Watcher = Callable[[str], None]  # gets the frame's JSON text
MAX_CALL_ROWS = 500  # the call list shows this many (waiting first); the totals count them all
MAX_WAITING = 5000  # conversations read from the routing queue per snapshot
PENDING_CALLBACK = (CallbackState.QUEUED, CallbackState.RINGING, CallbackState.CONNECTING)


@dataclass(frozen=True, slots=True)
class Thresholds:
    service_level: float = 0.8  # 0..1: a queue below it is marked
    oldest_wait_ms: int = 60_000  # a queue whose oldest waiting conversation waited longer is marked
    service_level_seconds: float = 20.0  # a queue without its own threshold (each queue's: today.service_level_seconds)
    today_zone: str = "UTC"  # "today" is the center's day (--center-timezone), as the reports' counters are kept

    def as_dict(self) -> dict[str, Any]:
        return {
            "service_level": self.service_level,
            "oldest_wait_ms": self.oldest_wait_ms,
            "service_level_seconds": self.service_level_seconds,
            "today_zone": self.today_zone,
        }


@dataclass(slots=True)
class Facts:
    """What one snapshot is computed from, as read from Redis (pure input of :func:`compose`)."""

    now: int
    waiting: list[tuple[str, int]]  # (conversation id, queued at ms), first first
    conversations: dict[str, dict[str, str]]  # id -> queue, skills, queue_since (of the waiting ones and the calls')
    agents: list[tuple[str, dict[str, str], int, int]]  # (id, hash, conversations held, live desk sessions)
    calls: list[tuple[str, dict[str, str]]]  # the call registry of every node
    callbacks: list[dict[str, Any]]  # open callbacks (Callbacks.listing)
    handle_times: list[int]
    queue_skills: dict[str, Skills] = field(default_factory=dict)  # remembered per queue (a queue empty now)
    defined: frozenset[str] = frozenset()  # the queues an admin defined: their skills are the queue's own
    today_queues: dict[str, dict[str, Any]] = field(default_factory=dict)  # queue -> today's report totals
    today_agents: dict[str, dict[str, Any]] = field(default_factory=dict)  # agent id -> today's report totals
    service_levels_ms: dict[str, int] = field(default_factory=dict)  # each queue's service level threshold (ms)
    default_service_level_ms: int = 20_000
    help: list[dict[str, Any]] = field(default_factory=list)  # agents' open help requests, oldest first


def agent_state(info: dict[str, str], active: int, now: int) -> tuple[BoardAgentState, int]:
    """An online agent's wallboard state and since when (ms)."""
    activity = info.get("activity", "")
    since_activity = int(info.get("activity_since") or 0)
    since_status = int(info.get("status_since") or 0)
    if activity in (AgentActivity.ON_CALL, AgentActivity.RINGING):
        return BoardAgentState.BUSY, since_activity or since_status
    if in_wrap_up(info, now):
        return BoardAgentState.WRAP_UP, since_activity or since_status
    if info.get("status") != AgentStatus.AVAILABLE:
        return BoardAgentState.AWAY, since_status
    # available: since they became available, got work or freed capacity (and since a call activity ended); busy
    # only once every chat they can hold is taken (one of two: routing still gives them the next)
    since = max(since_status, int(info.get("idle_since") or 0), since_activity)
    full = active >= _int(info.get("capacity"))
    return (BoardAgentState.BUSY if active and full else BoardAgentState.AVAILABLE), since


def _skills(text: str) -> Skills:
    try:
        return parse_skills(text)
    except ValueError:
        return ()


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _queue_row(name: str, facts: Facts | None = None) -> dict[str, Any]:
    sl_ms = facts.service_levels_ms.get(name, facts.default_service_level_ms) if facts is not None else 20_000
    return {
        "queue": name,
        "waiting_chats": 0,
        "waiting_calls": 0,
        "oldest_queued_at": None,
        "expected_wait_ms": None,
        "agents": {state: 0 for state in ("logged_in", *BoardAgentState)},
        "callbacks": {"scheduled": 0, "pending": 0},
        "today": today({}, sl_ms),
    }


def today(totals: dict[str, Any], service_level_ms: int = 20_000) -> dict[str, Any]:
    """Today's (the center's day) figures of a queue from its report totals (gateway/ops/rollups.py): offered, handled,
    abandoned, service level (0..1 or None) within the queue's own threshold (``service_level_seconds``), average
    speed of answer, handle time of calls (``aht_ms``: talk + hold + after-call work per call segment) and of chats
    (``aht_chat_ms``: assignment to close or transfer), in ms (None before any was handled)."""
    call = totals.get("aht_call_ms")
    chat = totals.get("aht_chat_ms")
    return {
        "offered": totals.get("offered", 0),
        "handled": totals.get("handled", 0),
        "abandoned": totals.get("abandoned", 0),
        "service_level": totals.get("service_level"),
        "service_level_seconds": round(service_level_ms / 1000, 3),
        "asa_ms": totals.get("asa_ms"),
        "aht_ms": round(call) if call is not None else None,
        "aht_chat_ms": round(chat) if chat is not None else None,
    }


def _queues(facts: Facts) -> dict[str, dict[str, Any]]:
    """Per queue: what waits (chats, calls, callbacks); every queue seen so far has a row."""
    calls = {call.get("conversation_id") for _, call in facts.calls}
    pending_cb = {cb["conversation_id"] for cb in facts.callbacks if cb["state"] in PENDING_CALLBACK}
    for conv in facts.conversations.values():
        # a queue nobody defined (no queue objects): its skills as its conversations ask; a defined one's are its
        # own (a waiting chat's skills, none, made agents without the queue's skill count as able: a user test)
        if conv.get("queue") and conv["queue"] not in facts.defined:
            facts.queue_skills[conv["queue"]] = _skills(conv.get("skills", ""))
    queues = {name: _queue_row(name, facts) for name in (*facts.queue_skills, *facts.today_queues)}
    for name, row in queues.items():
        sl_ms = facts.service_levels_ms.get(name, facts.default_service_level_ms)
        row["today"] = today(facts.today_queues.get(name, {}), sl_ms)
    for cid, place in facts.waiting:
        if cid in pending_cb:  # a callback's turn in the queue: counted with the callbacks
            continue
        conv = facts.conversations.get(cid, {})
        name = conv.get("queue") or DEFAULT_QUEUE
        # its wait in this queue, as its maximum wait counts it (gateway/contact/max_wait.py): since it came to this
        # queue (an overflow) or went back to it (a lost agent), not from its place in line, which it keeps
        queued_at = max(place, _int(conv.get("queue_since")))
        row = queues.setdefault(name, _queue_row(name, facts))
        row["waiting_calls" if cid in calls else "waiting_chats"] += 1
        if row["oldest_queued_at"] is None or queued_at < row["oldest_queued_at"]:
            row["oldest_queued_at"] = queued_at
    for cb in facts.callbacks:
        name = cb.get("queue") or DEFAULT_QUEUE
        row = queues.setdefault(name, _queue_row(name, facts))
        row["callbacks"]["scheduled" if cb["state"] == CallbackState.SCHEDULED else "pending"] += 1
    return queues


def _agents(facts: Facts) -> list[dict[str, Any]]:
    """The agents with a live desk connection, each with their state and since when; and those on a call whose desk
    is away for a moment (reloading, reconnecting: they dropped off the board mid-call, an exploratory test)."""
    rows = []
    for aid, info, active, sessions in facts.agents:
        if not sessions and info.get("activity") != AgentActivity.ON_CALL:
            continue
        state, since = agent_state(info, active, facts.now)
        rows.append(
            {
                "id": aid,
                "name": info.get("name", aid),
                "state": state,
                "since": since,
                "away_reason": info.get("away_reason", "") if state == BoardAgentState.AWAY else "",
                "conversations": active,
                "capacity": _int(info.get("capacity")),
                "call": None,
                "handled_today": facts.today_agents.get(aid, {}).get("handled", 0),
                # the share of today's available time on contacts (gateway/ops/agent_time.py; None before any)
                "occupancy_today": facts.today_agents.get(aid, {}).get("occupancy"),
                "skills": _skills(info.get("skills", "")),  # (dropped before sending)
                "activity": info.get("activity", ""),  # (likewise)
            }
        )
    return rows


BUSY_WITH_A_CALL = frozenset({AgentActivity.ON_CALL, AgentActivity.RINGING})


def _staff(queues: dict[str, dict[str, Any]], agents: list[dict[str, Any]], facts: Facts) -> None:
    """Per queue: the agents who can take its conversations (their skills cover the queue's), by state; and the
    expected wait of one more conversation (as a waiting caller hears it: gateway/contact/wait_estimate.py)."""
    for name, row in queues.items():
        needs = dict(facts.queue_skills.get(name, ()))
        counts = row["agents"]
        on_calls = 0  # busy with a call (or rung): they take the next caller when it ends
        for agent in agents:
            have = dict(agent["skills"])
            if all(have.get(skill, 0) >= level for skill, level in needs.items()):
                counts["logged_in"] += 1
                counts[agent["state"]] += 1
                on_calls += agent["state"] == BoardAgentState.BUSY and agent["activity"] in BUSY_WITH_A_CALL
        waiting = row["waiting_chats"] + row["waiting_calls"]
        # who takes its callers one after another: not the away, nor the busy without a call (full of chats: they
        # take nobody until they close one; gateway/contact/wait_estimate.py ``takes_callers``)
        serving = counts[BoardAgentState.AVAILABLE] + counts[BoardAgentState.WRAP_UP] + on_calls
        if counts[BoardAgentState.AVAILABLE] and not waiting:
            row["expected_wait_ms"] = 0
        elif serving:
            row["expected_wait_ms"] = estimate_wait_ms(waiting + 1, serving, facts.handle_times)


def _calls(facts: Facts, agents: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every live call (waiting first, then ringing, then connected); the agents' rows get their call."""
    rows = []
    for call_id, call in facts.calls:
        cid, aid, status = call.get("conversation_id", ""), call.get("agent_id", ""), call.get("status", "")
        # the agent's leg dropped: the caller holds (status waiting) for their desk to come back, not in a queue
        reconnecting = call.get("rejoin") == "1"
        # its wait counts from when it was last offered (queued, or transferred): not the first agent's talk
        queued_at = _int(call.get("offered_ms")) or _int(call.get("queued_ms")) or None
        # (waiting again after an answer, transferred or its agent lost: its wait goes on, not the first answer's)
        answered_at = _int(call.get("answered_ms")) or None
        if answered_at is not None and queued_at is not None and answered_at < queued_at:
            answered_at = None
        rows.append(
            {
                "call_id": call_id,
                "conversation_id": cid,
                "queue": facts.conversations.get(cid, {}).get("queue", "") if queued_at else "",
                "status": status,
                "held": call.get("held") == "1",
                "reconnecting": reconnecting,
                "agent_id": aid,
                "agent_name": agents[aid]["name"] if aid in agents else aid,
                "started_at": _int(call.get("started_ms")),
                "queued_at": queued_at,
                "answered_at": answered_at,
            }
        )
        if aid in agents and (status in (CallStatus.RINGING, CallStatus.CONNECTED) or reconnecting):
            agents[aid]["call"] = {
                "call_id": call_id,
                "status": status,
                "since": answered_at or queued_at,
                "reconnecting": reconnecting,
            }
    order: dict[str, int] = {CallStatus.WAITING: 0, CallStatus.RINGING: 1, CallStatus.CONNECTED: 2}
    rows.sort(
        key=lambda c: (
            order[CallStatus.CONNECTED] if c["reconnecting"] else order.get(str(c["status"]), 3),
            c["queued_at"] or c["started_at"],
            c["call_id"],
        )
    )
    return rows[:MAX_CALL_ROWS]


def compose(facts: Facts, thresholds: Thresholds) -> server.Wallboard:
    """The snapshot from what Redis holds (pure: tested without Redis)."""
    queues = _queues(facts)
    agents = _agents(facts)
    _staff(queues, agents, facts)
    calls = _calls(facts, {a["id"]: a for a in agents})
    for agent in agents:
        del agent["skills"], agent["activity"]
    totals: dict[str, int] = {
        "waiting_chats": sum(q["waiting_chats"] for q in queues.values()),
        "waiting_calls": sum(q["waiting_calls"] for q in queues.values()),
        "logged_in": len(agents),
    }
    totals.update({state: sum(1 for a in agents if a["state"] == state) for state in BoardAgentState})
    return server.Wallboard(
        at=facts.now,
        thresholds=thresholds.as_dict(),
        totals=totals,
        queues=sorted(queues.values(), key=lambda q: q["queue"]),
        agents=sorted(agents, key=lambda a: (a["name"].casefold(), a["id"])),
        calls=calls,
        help=_help(facts),
    )


def _help(facts: Facts) -> list[dict[str, Any]]:
    """The open help requests, oldest first, each with its agent's name."""
    names = {aid: info.get("name") or aid for aid, info, _, _ in facts.agents}
    return [{**row, "agent_name": names.get(row["agent_id"], row["agent_id"])} for row in facts.help]


class Wallboard:
    def __init__(
        self,
        store: Store,
        bus_: Bus,
        router: Router,
        callbacks: Callbacks,
        thresholds: Thresholds,
        *,
        reports: Reports | None = None,
        interval: float = 1.0,
        sweep_seconds: float = 5.0,
        publish_gap: float = 0.2,
        clock: Callable[[], int] = now_ms,
        queues: Callable[[], Awaitable[Sequence[Queue]]] | None = None,
        help_requests: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
    ) -> None:
        self.store = store
        self.bus = bus_
        self.router = router
        self.callbacks = callbacks
        self.thresholds = thresholds
        self.reports = reports  # today's figures (None: the board shows the live state only)
        self.help_requests = help_requests  # agents' open requests for help (gateway/contact/help_requests.py)
        self.interval = interval
        self.sweep_seconds = sweep_seconds
        self.publish_gap = publish_gap
        self.clock = clock  # ms: the snapshot's time and today's day
        # the defined queues (gateway/contact/queues.py): each one's row, traffic or not, its skills and service level
        self.queues = queues
        self.nodes = NodeStore(store)
        self._watchers: set[Watcher] = set()
        self._dirty = asyncio.Event()
        self._text: str | None = None  # the last frame sent, while someone watches
        self._body = ""  # what it said (but for ``at``): a snapshot saying the same is not sent
        self._kind = ""  # its type
        self._queue_skills: dict[str, Skills] = {}
        self._publish_again = False
        self._publisher: asyncio.Task[None] | None = None
        self._tasks = Tasks("wallboard", log)
        self.snapshots = 0  # computed
        self.sent = 0  # frames handed to watchers
        self.compute_seconds = 0.0  # CPU (process time) spent computing

    @property
    def channels(self) -> tuple[str, str]:
        keys = self.store.keys
        return keys.queue_channel, keys.board_channel

    async def start(self) -> None:
        for channel in self.channels:
            await self.bus.subscribe(channel, self._on_bus, self._on_resubscribed)
        self._tasks.spawn(self._run(), "run")

    async def stop(self) -> None:
        for channel in self.channels:
            await self.bus.unsubscribe(channel, self._on_bus)
        await self._tasks.close()

    # ---------------------------------------------------------------- who watches

    def watch(self, watcher: Watcher) -> None:
        """``watcher`` gets every frame from now on, the first one as soon as it is read."""
        self._watchers.add(watcher)
        if self._text is not None and len(self._watchers) > 1:
            # what the others have (kept up to date), stamped now: the page reads ``at`` as the gateway's clock, and
            # the last frame's time made every timer of a second watcher short by its age (a reports auditor's
            # finding: "Oldest 0:06" where the chat had waited 0:46)
            watcher(self._stamped(self.clock()))
        else:
            self._text, self._body = None, ""
            self._dirty.set()

    def _stamped(self, at: int) -> str:
        """The last frame's text with its time ``at`` (ms)."""
        return f'{{"type":"{self._kind}","at":{at},{self._body[1:]}'

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    # ---------------------------------------------------------------- what changed

    def _on_bus(self, channel: str, message: bus.Message) -> None:
        self._dirty.set()

    def _on_resubscribed(self, channel: str) -> None:
        self._dirty.set()

    def local_change(self) -> None:
        """A live call of this node moved (the call registry says so): every node's wallboard reads again. At most
        one message per ``publish_gap`` from this node."""
        if self._publisher is None or self._publisher.done():
            self._publisher = self._tasks.spawn(self._publish(), "publish")
        else:
            self._publish_again = True

    async def _publish(self) -> None:
        while True:
            self._publish_again = False
            try:
                await self.store.publish(self.store.keys.board_channel, bus.BoardChanged())
            except StoreError as exc:  # the sweep reads again anyway
                log.warning("wallboard change not announced: %s", exc)
            await asyncio.sleep(self.publish_gap)
            if not self._publish_again:
                return

    # ---------------------------------------------------------------- reading

    async def facts(self) -> Facts:
        store = self.store
        now = self.clock()
        waiting = await store.waiting(self.router.queue, MAX_WAITING)
        calls = await self.nodes.live_calls()
        cids = list(dict.fromkeys([cid for cid, _ in waiting] + [c.get("conversation_id", "") for _, c in calls]))
        cids = [cid for cid in cids if cid]
        rows = await store.conversation_fields(cids, "queue", "skills", "queue_since")
        conversations = {
            cid: {"queue": q or "", "skills": s or "", "queue_since": since or ""}
            for cid, (q, s, since) in zip(cids, rows, strict=True)
        }
        ids = await store.agent_ids()
        loads = await store.agent_loads(ids, now)
        by_queue, by_agent = await self._today(now)
        queues = await self.queues() if self.queues is not None else None  # one read for both uses below
        if queues is not None:  # an idle queue has its row too (its skills: who could take its work)
            defined = {q.name: q.required_skills for q in queues}
            for name in [n for n in self._queue_skills if n not in defined]:  # deleted since: no row of its own
                del self._queue_skills[name]  # (one with something in it today still has one, from that)
            self._queue_skills.update(defined)  # as the admin set them now
        return Facts(
            now=now,
            waiting=waiting,
            conversations=conversations,
            agents=[(aid, info, active, sessions) for aid, (info, active, sessions) in zip(ids, loads, strict=True)],
            calls=calls,
            callbacks=await self.callbacks.listing(),
            handle_times=await store.handle_times(HISTORY),
            queue_skills=self._queue_skills,
            defined=frozenset(q.name for q in queues or ()),
            today_queues=by_queue,
            today_agents=by_agent,
            service_levels_ms={q.name: q.service_level_seconds * 1000 for q in queues or ()},
            default_service_level_ms=int(self.thresholds.service_level_seconds * 1000),
            help=await self.help_requests() if self.help_requests is not None else [],
        )

    async def _today(self, now: int) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Today's (the center's day, in its time zone) report totals per queue and per agent, from the rollups (they
        follow the event log a moment behind the live state: the next snapshot, at the latest the sweep, shows
        them)."""
        if self.reports is None:
            return {}, {}
        day = self.reports.today(now)
        out = []
        for by in ("queue", "agent"):
            report = await self.reports.report(day, day, interval="day", by=by)
            out.append({row["key"]: row for row in report["totals"]})
        return out[0], out[1]

    async def snapshot(self) -> server.Wallboard:
        return compose(await self.facts(), self.thresholds)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await asyncio.wait_for(self._dirty.wait(), timeout=self.sweep_seconds)
            except TimeoutError:
                pass
            self._dirty.clear()
            if not self._watchers:
                self._text, self._body = None, ""
                continue
            started = loop.time()
            try:
                await self._refresh()
            except StoreError as exc:  # Redis down: the resubscription (or the sweep) reads again
                log.warning("wallboard not read: %s: %s", type(exc).__name__, exc)
            except Exception:  # a bug: logged with its traceback; the next change tries again
                log.exception("wallboard not read")
            await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))

    async def _refresh(self) -> None:
        cpu = time.process_time()
        frame = await self.snapshot()
        data = frame.as_dict()
        kind, at = data.pop("type"), data.pop("at")
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        self.snapshots += 1
        self.compute_seconds += time.process_time() - cpu
        if body == self._body:
            return
        self._body, self._kind = body, kind
        self._text = self._stamped(at)
        for watcher in list(self._watchers):
            watcher(self._text)
            self.sent += 1


def thresholds_from(
    service_level_percent: int, wait_target_seconds: float, sl_seconds: float, zone: str = "UTC"
) -> Thresholds:
    return Thresholds(
        service_level=service_level_percent / 100,
        oldest_wait_ms=int(wait_target_seconds * 1000),
        service_level_seconds=sl_seconds,
        today_zone=zone,
    )
