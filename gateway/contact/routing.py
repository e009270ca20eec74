"""Routing: priority first, then the longest-waiting conversation, to the longest-idle qualified agent.

A waiting conversation carries the queue's ``priority`` (higher first) and
required ``skills`` (``billing``, or ``billing:3`` for at least level 3); an
agent qualifies when their skills (from the agents file, level 1-10) cover
every requirement. A conversation that has waited ``overflow`` without a
qualified agent may go to any agent (skill overflow). Agents on a call,
being rung, or in after-call work take no new work (``busy``). A call goes to
an agent who is on no call (with ``--calls-block-chats false`` one on a call
still takes chats, never a second call), and a call planned for an agent rings
them: they take nothing more in that pass (two calls waiting for an agent who
became available rang her both at once; she could answer one, and the other's
ring-no-answer set her away while she talked).

:func:`plan` is the pure decision (tested without Redis). :class:`Router`
runs it against Redis whenever something may allow an assignment (a
conversation queued, an agent became available or freed capacity) and once a
second as a sweep. Each planned assignment is committed by an atomic script
that re-checks the conversation and the agent, so several nodes routing at
once never assign a conversation twice or overfill an agent.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gateway.metrics import Metrics
from gateway.protocol import bus
from gateway.protocol.states import AgentActivity, AgentStatus
from gateway.store.store import Store, StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
#: A routing pass reads the first this many waiting conversations (and every agent) and plans for them; while it
#: assigns some and more wait behind them, the next pass follows at once.
PASS_SIZE = 500
MAX_SKILL_LEVEL = 10
SKILL_RE = re.compile(r"^([A-Za-z0-9_-]{1,40})(?::([0-9]{1,2}))?$")

#: (skill, level): what an agent has, or the minimum a conversation needs.
Skills = tuple[tuple[str, int], ...]


def most_of(skill_sets: Iterable[Skills]) -> Skills:
    """Every skill named in ``skill_sets`` at the highest level any of them asks, by name."""
    levels: dict[str, int] = {}
    for skills in skill_sets:
        for name, level in skills:
            levels[name] = max(level, levels.get(name, 0))
    return tuple(sorted(levels.items()))


def parse_skills(text: str | Sequence[str]) -> Skills:
    """``"billing:3,spanish"`` or ``["billing:3", "spanish"]`` -> ``(("billing", 3), ("spanish", 1))``.

    Raises ValueError naming the bad entry."""
    items = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    out: list[tuple[str, int]] = []
    for item in items:
        found = SKILL_RE.fullmatch(item)
        level = int(found.group(2) or 1) if found else 0
        if found is None or not 1 <= level <= MAX_SKILL_LEVEL:
            raise ValueError(f"skill {item!r} is not 'name' or 'name:level' (level 1-{MAX_SKILL_LEVEL})")
        out.append((found.group(1).lower(), level))
    return tuple(out)


SKILL_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def skill_problem(name: object, level: object) -> str | None:
    """What is wrong with one skill of an object ``{name: level}`` (the admin API's, an agent's or a queue's), or
    None. The words are the admin console's form (gateway's webclient/static/admin/console_agents.js), where a skill
    is a row with a name field and a level field: the skill, then the field and its rule."""
    if not isinstance(name, str) or not SKILL_NAME_RE.fullmatch(name):
        return f"skill {str(name)[:40]!r}: the name is 1 to 40 Latin letters (A-Z, a-z), digits, _ or - (no spaces)"
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_SKILL_LEVEL:
        return f"skill {name!r}: the level is a whole number from 1 to {MAX_SKILL_LEVEL}"
    return None


def skills_object_problem(value: dict[Any, Any]) -> tuple[str, str] | None:
    """(what is wrong, the field) with skills as the admin API takes them, ``{name: level}``, or None: a skill's name
    or level (:func:`skill_problem`; field ``skills.<name>``, or ``skills`` for a name that is not one, so the field
    never repeats hostile text), or one skill twice in another case (names are not case-sensitive). Agents and
    queues both."""
    seen: dict[str, str] = {}
    for name, level in value.items():
        if problem := skill_problem(name, level):
            valid = isinstance(name, str) and SKILL_NAME_RE.fullmatch(name) is not None
            return problem, f"skills.{name}" if valid else "skills"
        if name.lower() in seen:
            return (
                f"skill {name!r} is listed twice (as {seen[name.lower()]!r}; names are not case-sensitive): "
                "keep one row for it",
                f"skills.{name}",
            )
        seen[name.lower()] = name
    return None


def format_skills(skills: Skills) -> str:
    return ",".join(f"{name}:{level}" for name, level in skills)


@dataclass(frozen=True, slots=True)
class AgentLoad:
    id: str
    name: str
    status: AgentStatus
    online: bool
    capacity: int
    active: int
    idle_since: int  # ms; last time the agent was given work or freed capacity
    skills: Skills = ()
    busy: bool = False  # on a call, being rung, or in after-call work
    on_call: bool = False  # a call in progress (no second call, whatever ``busy`` says about chats)

    @property
    def eligible(self) -> bool:
        return self.online and self.status == AgentStatus.AVAILABLE and self.active < self.capacity and not self.busy

    def qualifies(self, needs: Skills) -> bool:
        if not needs:
            return True
        have = dict(self.skills)
        return all(have.get(name, 0) >= level for name, level in needs)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A conversation in the queue, as routing sees it."""

    id: str
    queued_at: int = 0  # ms; its place in line
    priority: int = 0
    skills: Skills = ()
    preferred: str = ""  # the agent who last served this customer: taken when free and qualified
    queue: str = ""  # the queue's name (the flow's), for the metrics
    voice: bool = False  # a caller waits in it (a call rings the agent it goes to)


def choose_agent(agents: list[AgentLoad]) -> AgentLoad | None:
    """The eligible agent idle the longest; ties broken by id so the choice is repeatable."""
    eligible = [a for a in agents if a.eligible]
    return min(eligible, key=lambda a: (a.idle_since, a.id)) if eligible else None


def plan(
    waiting: Sequence[Waiting], agents: list[AgentLoad], now: int, *, overflow_ms: int | None = None
) -> list[tuple[str, AgentLoad]]:
    """Pair waiting conversations (priority, then oldest first) with qualified agents.

    A conversation nobody qualified is free for takes none and does not hold up the ones behind it.
    After ``overflow_ms`` of waiting its skills are no longer required. A returning customer's last agent
    is preferred when free and qualified; otherwise the longest-idle agent is taken.
    """
    loads = {a.id: a for a in agents}
    # the eligible agents, longest idle first (ties by id): the first qualified one is choose_agent's choice
    free = sorted((a for a in loads.values() if a.eligible), key=_idle_order)
    by_id = {a.id: a for a in free}
    pairs: list[tuple[str, AgentLoad]] = []
    for conv in sorted(waiting, key=lambda w: (-w.priority, w.queued_at, w.id)):
        if not free:
            break
        overflowed = overflow_ms is not None and now - conv.queued_at >= overflow_ms
        preferred = by_id.get(conv.preferred) if conv.preferred else None
        if preferred is not None and (overflowed or preferred.qualifies(conv.skills)) and _takes(preferred, conv):
            agent: AgentLoad | None = preferred
        else:
            agent = next((a for a in free if (overflowed or a.qualifies(conv.skills)) and _takes(a, conv)), None)
        if agent is None:
            continue
        pairs.append((conv.id, agent))
        free.remove(agent)
        del by_id[agent.id]
        # a call rings the agent: busy (ringing) for the rest of the pass, as the next pass reads them
        given = replace(agent, active=agent.active + 1, idle_since=now, busy=agent.busy or conv.voice)
        if given.eligible:
            bisect.insort(free, given, key=_idle_order)
            by_id[given.id] = given
    return pairs


def _takes(agent: AgentLoad, conv: Waiting) -> bool:
    """Whether the agent may be given the conversation at all: a call only to an agent on no call."""
    return not (conv.voice and agent.on_call)


def _idle_order(agent: AgentLoad) -> tuple[int, str]:
    return agent.idle_since, agent.id


def now_ms() -> int:
    return int(time.time() * 1000)


def _skills(text: str) -> Skills:
    try:
        return parse_skills(text)
    except ValueError:
        log.warning("ignoring malformed skills %r in Redis", text)
        return ()


#: Agent activities that take no new work: a call ringing or in progress, after-call work (until it ends).
BUSY_ACTIVITIES = (AgentActivity.RINGING, AgentActivity.ON_CALL, AgentActivity.WRAP_UP)
#: An agent just given a call is held for it until her desk rings, at most this long (assign_one.lua's
#: ``call_held_at``): busy meanwhile, as if it already rang.
CALL_HOLD_MS = 10_000


def is_busy(info: dict[str, str], now: int, *, calls_block_chats: bool = True) -> bool:
    """No new work: a call ringing for the agent (or given to her and about to ring), after-call work until it
    ends, and (unless chats may run beside calls) a call in progress."""
    activity = info.get("activity", "")
    held = int(info.get("call_held_at") or 0)
    if held and now - held < CALL_HOLD_MS:  # a call given to her is about to ring
        return True
    if activity == AgentActivity.WRAP_UP:
        return in_wrap_up(info, now)
    if activity == AgentActivity.ON_CALL:
        return calls_block_chats
    return activity in BUSY_ACTIVITIES


def in_wrap_up(info: dict[str, str], now: int) -> bool:
    """After-call work that has not run out (what the desks and the wallboard show; :func:`is_busy` is more: a
    call hold, :data:`CALL_HOLD_MS`, makes her busy whatever her activity)."""
    return info.get("activity", "") == AgentActivity.WRAP_UP and now < int(info.get("activity_until", "0") or 0)


AssignedHook = Callable[[str, str], Awaitable[None]]  # (conversation id, agent id)
#: What each queue adds to its conversations: queue name -> (required skills, priority) (gateway/contact/queues.py).
QueueRules = Callable[[], Awaitable[Mapping[str, tuple[Skills, int]]]]


def apply_rules(conv: Waiting, rules: Mapping[str, tuple[Skills, int]]) -> Waiting:
    """A conversation as its queue's rules make it: the skills of both (the higher level where both name one)
    and the queue's priority added to its own."""
    rule = rules.get(conv.queue)
    if rule is None:
        return conv
    need = dict(rule[0])
    for name, level in conv.skills:
        need[name] = max(level, need.get(name, 0))
    return replace(conv, skills=tuple(sorted(need.items())), priority=conv.priority + rule[1])


class Router:
    def __init__(
        self,
        store: Store,
        queue: str = DEFAULT_QUEUE,
        sweep_seconds: float = 1.0,
        overflow_seconds: float | None = None,
        calls_block_chats: bool = True,
        *,
        on_assigned: Sequence[AssignedHook] = (),
        wake: asyncio.Event | None = None,
        metrics: Metrics | None = None,
        rules: QueueRules | None = None,
        pass_size: int = PASS_SIZE,
    ):
        self.pass_size = pass_size  # waiting conversations a pass reads and plans for
        self.rules = rules  # the queues' skills and priorities, read on every pass (None: the flows' alone)
        self.metrics = metrics if metrics is not None else Metrics()  # assignments counted (gateway/metrics.py)
        self.store = store
        self.queue = queue
        self.overflow_ms = None if overflow_seconds is None else int(overflow_seconds * 1000)
        self.calls_block_chats = calls_block_chats
        self.sweep_seconds = sweep_seconds
        #: Set by whoever changes what waits (``kick``, or services built before the router that hold it).
        self._kick = wake if wake is not None else asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Called after each assignment this node makes (callbacks), before the agent is told.
        self.on_assigned = list(on_assigned)

    def kick(self) -> None:
        self._kick.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="router")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=self.sweep_seconds)
            except TimeoutError:
                pass
            self._kick.clear()
            try:
                await self.dispatch()
            except asyncio.CancelledError:
                raise
            except StoreError as exc:  # Redis down or restarting: the next pass tries again (no traceback)
                log.warning("routing pass failed: %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(self.sweep_seconds)
            except Exception:
                log.exception("routing pass failed")
                await asyncio.sleep(self.sweep_seconds)

    async def agent_loads(self, now: int) -> list[AgentLoad]:
        ids = await self.store.agent_ids()
        loads = []
        for aid, (info, active, sessions) in zip(ids, await self.store.agent_loads(ids, now), strict=True):
            if not info:
                continue
            loads.append(
                AgentLoad(
                    id=aid,
                    name=info.get("name", aid),
                    status=AgentStatus(info.get("status", AgentStatus.AWAY)),
                    online=sessions > 0,
                    capacity=int(info.get("capacity", 0)),
                    active=active,
                    idle_since=int(info.get("idle_since", 0) or 0),
                    skills=_skills(info.get("skills", "")),
                    busy=is_busy(info, now, calls_block_chats=self.calls_block_chats),
                    on_call=info.get("activity", "") == AgentActivity.ON_CALL,
                )
            )
        return loads

    async def waiting(self, limit: int = 200) -> list[str]:
        return [cid for cid, _ in await self.store.waiting(self.queue, limit)]

    async def waiting_details(self, limit: int = 200) -> list[Waiting]:
        rows = await self.store.waiting(self.queue, limit)
        details = await self.store.conversation_fields(
            [cid for cid, _ in rows], "priority", "skills", "preferred_agent", "queue", "calls", "calls_ended"
        )
        out = [
            # a conversation with a call in progress waits as a call (as the assignment's event says, assign_one.lua);
            # one whose calls have all ended waits as a chat
            Waiting(
                cid,
                score,
                int(prio or "0"),
                _skills(skills or ""),
                preferred or "",
                queue or "",
                int(calls or 0) > int(ended or 0),
            )
            for (cid, score), (prio, skills, preferred, queue, calls, ended) in zip(rows, details, strict=True)
        ]
        if self.rules is not None and out:
            rules = await self.rules()
            out = [apply_rules(w, rules) for w in out]
        return out

    async def dispatch(self) -> int:
        """One routing pass; returns how many conversations were assigned.

        The plan's assignments are committed in one script, in the plan's order, up to the first the world no
        longer allows (an agent went away, a conversation was taken meanwhile): the rest of the plan assumed it, so
        another pass plans again."""
        waiting = await self.waiting_details(self.pass_size)
        if not waiting:
            return 0
        now = now_ms()
        queues = {w.id: w.queue for w in waiting}
        agents = await self.agent_loads(now)
        pairs = plan(waiting, agents, now, overflow_ms=self.overflow_ms)
        if not pairs:
            return 0
        done, why = await self.store.assign_many(
            self.queue, [(conv_id, agent.id, agent.name) for conv_id, agent in pairs], now=now
        )
        for conv_id, agent in pairs[:done]:
            self.metrics.assigned(queues.get(conv_id, ""))
            log.info("assigned to %s", agent.id, extra={"conversation_id": conv_id, "agent_id": agent.id})
        for hook in self.on_assigned:  # before the agents are told, so their desks see the result; at once
            ran = await asyncio.gather(*(hook(cid, agent.id) for cid, agent in pairs[:done]), return_exceptions=True)
            failed = next((r for r in ran if isinstance(r, BaseException)), None)
            if failed is not None:  # every hook has ended (none left running unowned): the pass fails as before
                raise failed
        if done < len(pairs):  # the world changed since the plan was made; the next pass sees it
            conv_id, agent = pairs[done]
            log.info("assignment to %s skipped: %s", agent.id, why, extra={"conversation_id": conv_id})
            self.kick()
        spare = sum(a.capacity - a.active for a in agents if a.eligible) - done
        if done == len(pairs) and spare > 0 and len(waiting) == self.pass_size:
            self.kick()  # room left and more waiting behind the ones read: the next pass at once, not in a second
        if done:
            told = [(self.store.keys.agent_channel(agent.id), bus.Assigned(cid)) for cid, agent in pairs[:done]]
            await self.store.publish_many([*told, (self.store.keys.queue_channel, bus.QueueChanged())])
        return done
