"""Queues as first-class objects: what a queue asks of agents and what happens to those who wait in it.

A queue is named by flows (``queue``, ``callback`` and ``queue_status`` nodes, and ``hours: {queue: NAME}``) and
kept in Redis (gateway/store/queue_store.py), so every node agrees at once and an admin edits it without a restart
(``PUT /api/admin/queues/{name}``). Its settings::

    {"name": "billing", "skills": {"billing": 2}, "priority": 5, "service_level_seconds": 20,
     "announce_seconds": 30, "music": "", "max_wait_seconds": 300,
     "on_max_wait": {"action": "overflow", "target": "general"},
     "callback": {"attempts": 3, "spacing_seconds": 600, "expiry_hours": 24},
     "hours": {"timezone": "Europe/Paris", "schedule": {"mon-fri": "09:00-17:00"}, "holidays": []},
     "version": 3}

How a flow node and its queue combine (:meth:`Queue.merge`): the required skills are the union of both, at the
higher level where both name a skill (a node may ask for more than its queue, never less); the priority is the
queue's plus the node's (the queue orders queues against each other, the node refines within it). A callback's
attempts, spacing and expiry are the queue's unless the flow's callback node sets them itself.

``music`` names an audio file of the flows directory that callers waiting in the queue hear (gateway/calls/hold_music.py,
which checks a newly named file: it exists there, decodes, and lasts 1 s to 10 minutes); "" is the generated music.

Every write names the ``version`` it saw; a stale one is refused (409 ``stale_version``) and nothing is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from gateway.config import MIN_ANNOUNCE_SECONDS
from gateway.contact.routing import DEFAULT_QUEUE, Skills, skills_object_problem
from gateway.errors import BadRequest, Conflict, NotFound
from gateway.protocol.codes import ErrorCode
from gateway.store.queue_store import QueueStore
from gateway.store.store import Store
from ivr.errors import SpecError
from ivr.hours import Schedule, parse_schedule
from ivr.model import QUEUE_NAME_RE

log = logging.getLogger(__name__)

QUEUE_NAME = QUEUE_NAME_RE  # the flows' rule (ivr/model.py): letters, digits, _ and -, at most 40
MUSIC_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}\.(wav|mp3|ogg)$")
MAX_QUEUES = 200


class MaxWaitAction(StrEnum):
    """What happens to a conversation that waited a queue's ``max_wait_seconds``."""

    NONE = "none"  # it waits on
    OVERFLOW = "overflow"  # it moves to the ``target`` queue, keeping its place in line
    CALLBACK = "callback"  # a callback is booked for it (as soon as an agent is free, keeping its place)
    FLOW = "flow"  # it leaves the queue and the ``target`` flow runs (chats: as a bot; calls: on the call)


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    attempts: int = 3
    spacing_seconds: int = 600
    expiry_hours: float = 24


@dataclass(frozen=True, slots=True)
class Queue:
    name: str
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 0
    service_level_seconds: int = 20
    announce_seconds: int = 45  # 0: no position / wait announcements to callers
    music: str = ""  # a wav/mp3/ogg file in the flows directory ('' : the generated music on hold)
    max_wait_seconds: int = 0  # 0: no maximum
    on_max_wait: MaxWaitAction = MaxWaitAction.NONE
    on_max_wait_target: str = ""
    callback: CallbackPolicy = CallbackPolicy()
    hours: Mapping[str, Any] | None = None  # as given: {timezone, schedule, holidays}; None: always open
    schedule: Schedule | None = None  # ``hours`` parsed
    version: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, **self.body()}

    def body(self) -> dict[str, Any]:
        """The settings without the version (what is stored)."""
        return {
            "name": self.name,
            "skills": dict(self.skills),
            "priority": self.priority,
            "service_level_seconds": self.service_level_seconds,
            "announce_seconds": self.announce_seconds,
            "music": self.music,
            "max_wait_seconds": self.max_wait_seconds,
            "on_max_wait": {"action": str(self.on_max_wait), "target": self.on_max_wait_target},
            "callback": {
                "attempts": self.callback.attempts,
                "spacing_seconds": self.callback.spacing_seconds,
                "expiry_hours": self.callback.expiry_hours,
            },
            "hours": dict(self.hours) if self.hours is not None else None,
        }

    @property
    def required_skills(self) -> Skills:
        return tuple(sorted(self.skills.items()))

    def merge(self, skills: Skills, priority: int) -> tuple[Skills, int]:
        """A flow node's skills and priority combined with the queue's (see the module's docstring)."""
        need = dict(self.skills)
        for name, level in skills:
            need[name] = max(level, need.get(name, 0))
        return tuple(sorted(need.items())), self.priority + priority

    def is_open(self, now: Any) -> bool:
        """Open at ``now`` (aware datetime) by its hours (a queue without hours is always open)."""
        return True if self.schedule is None else self.schedule.check(now)[0]


# ---------------------------------------------------------------- validation (a REST body -> a Queue)

_TOP = (
    "name",
    "skills",
    "priority",
    "service_level_seconds",
    "announce_seconds",
    "music",
    "max_wait_seconds",
    "on_max_wait",
    "callback",
    "hours",
    "version",
)


def _bad(message: str, name: str) -> BadRequest:
    return BadRequest(message, field=name, code=ErrorCode.BAD_FIELD)


def _keys(body: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    allowed = tuple(allowed)
    for key in body:
        if key not in allowed:
            raise _bad(f"unknown field '{key}' (known: {', '.join(allowed)})", f"{where}{key}")


def _int(body: Mapping[str, Any], name: str, default: int, low: int, high: int, where: str = "") -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"'{where}{name}' must be a whole number from {low} to {high}", f"{where}{name}")
    return value


def check_name(name: str) -> str:
    if not isinstance(name, str) or not QUEUE_NAME.fullmatch(name):
        raise _bad("a queue name is 1-40 Latin letters (A-Z, a-z), digits, _ or -", "name")
    return name


def _skills(raw: Any) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad("'skills' is an object of skill names to levels, e.g. {\"billing\": 2}", "skills")
    if found := skills_object_problem(raw):  # in the admin form's words: the skill, its name or its level
        raise _bad(*found)
    return dict(sorted((name.lower(), level) for name, level in raw.items()))


def parse_hours(raw: Any, where: str = "hours") -> tuple[dict[str, Any] | None, Schedule | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise _bad(f"'{where}' is {{timezone, schedule, holidays}} or null (always open)", where)
    _keys(raw, ("timezone", "schedule", "holidays"), f"{where}.")
    holidays = raw.get("holidays") or []
    try:
        schedule = parse_schedule(raw.get("timezone"), raw.get("schedule"), holidays, lines={})
    except SpecError as exc:
        message = exc.message
        part = "timezone" if "timezone" in message else "holidays" if "holiday" in message else "schedule"
        raise _bad(message, f"{where}.{part}") from None
    return {"timezone": raw["timezone"], "schedule": dict(raw["schedule"]), "holidays": list(holidays)}, schedule


def _on_max_wait(name: str, body: Mapping[str, Any]) -> tuple[MaxWaitAction, str]:
    on_max = body.get("on_max_wait") or {"action": "none", "target": ""}
    if not isinstance(on_max, dict):
        raise _bad("'on_max_wait' is {action, target}", "on_max_wait")
    _keys(on_max, ("action", "target"), "on_max_wait.")
    action_name = on_max.get("action", "none")
    if action_name not in MaxWaitAction.__members__.values():
        raise _bad(f"'on_max_wait.action' is one of {', '.join(MaxWaitAction)}", "on_max_wait.action")
    action = MaxWaitAction(action_name)
    target = on_max.get("target", "") or ""
    if not isinstance(target, str):
        raise _bad("'on_max_wait.target' is a name", "on_max_wait.target")
    if action in (MaxWaitAction.OVERFLOW, MaxWaitAction.FLOW) and not target:
        what = "queue" if action == MaxWaitAction.OVERFLOW else "flow"
        raise _bad(f"'on_max_wait.target' names the {what}", "on_max_wait.target")
    if action == MaxWaitAction.OVERFLOW:
        if not QUEUE_NAME.fullmatch(target):
            raise _bad(f"'on_max_wait.target' {target!r} is not a queue name", "on_max_wait.target")
        if target == name:
            raise _bad("a queue cannot overflow into itself", "on_max_wait.target")
    return action, target if action in (MaxWaitAction.OVERFLOW, MaxWaitAction.FLOW) else ""


def _callback(cb: Any) -> CallbackPolicy:
    cb = cb or {}
    if not isinstance(cb, dict):
        raise _bad("'callback' is {attempts, spacing_seconds, expiry_hours}", "callback")
    _keys(cb, ("attempts", "spacing_seconds", "expiry_hours"), "callback.")
    expiry = cb.get("expiry_hours", 24)
    if isinstance(expiry, bool) or not isinstance(expiry, (int, float)) or not 1 <= expiry <= 720:
        raise _bad("'callback.expiry_hours' must be a number from 1 to 720", "callback.expiry_hours")
    return CallbackPolicy(
        attempts=_int(cb, "attempts", 3, 1, 10, "callback."),
        spacing_seconds=_int(cb, "spacing_seconds", 600, 60, 86400, "callback."),
        expiry_hours=expiry,
    )


def parse_queue(name: str, body: Any, *, writing: bool = True) -> Queue:
    """A queue from a REST body (``name`` from the path); BadRequest naming the first bad field."""
    check_name(name)
    if not isinstance(body, dict):
        raise _bad("the body is a queue object", "body")
    _keys(body, _TOP, "")
    if "name" in body and body["name"] != name:
        raise _bad(f"'name' ({body['name']!r}) differs from the queue in the path ('{name}')", "name")
    music = body.get("music", "")
    if not isinstance(music, str) or (music and not MUSIC_NAME.fullmatch(music)):
        raise _bad("'music' is '' (the generated music) or a .wav, .mp3 or .ogg file name", "music")
    announce = _int(body, "announce_seconds", 45, 0, 3600)
    if writing and 0 < announce < MIN_ANNOUNCE_SECONDS:  # (one stored before the rule still loads)
        raise _bad(
            f"'announce_seconds' is 0 (never) or from {MIN_ANNOUNCE_SECONDS} to 3600: an announcement takes a few "
            "seconds itself",
            "announce_seconds",
        )
    action, target = _on_max_wait(name, body)
    max_wait = _int(body, "max_wait_seconds", 0, 0, 86400)
    if action != MaxWaitAction.NONE and max_wait == 0:
        raise _bad("'max_wait_seconds' must be set (above 0) for an 'on_max_wait' action", "max_wait_seconds")
    hours, schedule = parse_hours(body.get("hours"))
    version = body.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise _bad("'version' is the version you read (0 for a new queue)", "version")
    return Queue(
        name=name,
        skills=_skills(body.get("skills")),
        priority=_int(body, "priority", 0, -1000, 1000),
        service_level_seconds=_int(body, "service_level_seconds", 20, 1, 3600),
        announce_seconds=announce,
        music=music,
        max_wait_seconds=max_wait,
        on_max_wait=action,
        on_max_wait_target=target,
        callback=_callback(body.get("callback")),
        hours=hours,
        schedule=schedule,
        version=version,
    )


def _stored(name: str, body: dict[str, Any], version: int) -> Queue | None:
    try:
        return replace(parse_queue(name, {**body, "version": 0}, writing=False), version=version)
    except BadRequest as exc:  # written by a newer version, or by hand: leave it out, say so
        log.warning("queue '%s' in Redis is not valid here (%s: %s); ignored", name, exc.field, exc.message)
        return None


class QueueSettings:
    """The queues of the gateway, read from Redis each time (a change on one node holds on every node at once).

    ``known`` is the set of names last read, for the flow loader (which runs in a thread and reads no Redis):
    :meth:`refresh` renews it. ``flow_users`` says which flows name a queue (a queue in use is not deleted);
    ``flow_exists`` whether a flow an ``on_max_wait`` names is loaded."""

    def __init__(
        self,
        store: Store,
        *,
        flow_users: Callable[[str], list[str]] = lambda name: [],
        flow_exists: Callable[[str], bool] = lambda name: True,
        default_announce_seconds: int = 45,
        default_service_level_seconds: int = 20,
        music_check: Callable[[str], Awaitable[str | None]] | None = None,
    ):
        self.default_service_level_seconds = default_service_level_seconds
        self.music_check = music_check  # why a music file may not be played (gateway/calls/hold_music.py)
        self.db = QueueStore(store)
        self.flow_users = flow_users
        self.flow_exists = flow_exists
        self.default_announce_seconds = default_announce_seconds
        self.known: frozenset[str] = frozenset()

    async def all(self) -> list[Queue]:
        rows = await self.db.all()
        found = [_stored(name, body, version) for name, (body, version) in sorted(rows.items())]
        queues = [q for q in found if q is not None]
        self.known = frozenset(q.name for q in queues)
        return queues

    async def names(self) -> set[str] | None:
        """The queues that exist, for the flows' publish check (gateway/flows/versions.py ``QueueCatalog``)."""
        return {q.name for q in await self.all()}

    async def running_flow(self, flow: str) -> list[str]:
        """The queues whose maximum wait runs flow ``flow`` (a flow they need: not retired while they do)."""
        return sorted(
            q.name for q in await self.all() if q.on_max_wait == MaxWaitAction.FLOW and q.on_max_wait_target == flow
        )

    async def rules(self) -> dict[str, tuple[Skills, int]]:
        """What routing adds to each queue's conversations: (required skills, priority) by queue name."""
        return {q.name: (q.required_skills, q.priority) for q in await self.all()}

    async def service_levels_ms(self) -> dict[str, int]:
        """Each queue's service-level threshold (ms), for the report counters (gateway/ops/rollups.py)."""
        return {q.name: q.service_level_seconds * 1000 for q in await self.all()}

    async def hours(self) -> dict[str, Schedule | None]:
        """Each queue's opening hours (None: always open), for flows' ``hours: {queue: NAME}`` nodes."""
        return {q.name: q.schedule for q in await self.all()}

    async def refresh(self) -> frozenset[str]:
        await self.all()
        return self.known

    async def get(self, name: str) -> Queue | None:
        row = await self.db.get(name) if QUEUE_NAME.fullmatch(name or "") else None
        return None if row is None else _stored(name, *row)

    async def require(self, name: str) -> Queue:
        queue = await self.get(name)
        if queue is None:
            raise NotFound(f"no queue '{name}'", field="name")
        return queue

    async def put(self, queue: Queue) -> tuple[Queue | None, Queue]:
        """Store ``queue`` (its ``version`` is the one the writer saw): (the queue before, the queue now).
        Conflict ``stale_version`` if someone saved meanwhile; BadRequest for a target that does not exist."""
        if queue.on_max_wait == MaxWaitAction.OVERFLOW and await self.get(queue.on_max_wait_target) is None:
            raise _bad(f"overflow queue '{queue.on_max_wait_target}' does not exist", "on_max_wait.target")
        if queue.on_max_wait == MaxWaitAction.FLOW and not self.flow_exists(queue.on_max_wait_target):
            raise _bad(f"flow '{queue.on_max_wait_target}' is not loaded", "on_max_wait.target")
        if queue.on_max_wait == MaxWaitAction.OVERFLOW:
            await self._no_overflow_loop(queue)
        before = await self.get(queue.name)
        if queue.music and self.music_check is not None and (before is None or before.music != queue.music):
            why = await self.music_check(queue.music)  # (a file kept as it was is not checked again)
            if why is not None:
                raise _bad(f"music on hold: {why}", "music")
        if before is None:
            names = [q.name for q in await self.all()]
            if len(names) >= MAX_QUEUES:
                raise Conflict(f"at most {MAX_QUEUES} queues", field="name")
            twin = next((n for n in names if n.lower() == queue.name.lower()), None)
            if twin is not None:  # "Billing" beside "billing": two queues nobody can tell apart when reading
                raise _bad(f"there is a queue '{twin}' already (names differ only in capitals)", "name")
        ok, version = await self.db.put(queue.name, queue.body(), expected=queue.version)
        if not ok:
            raise Conflict(
                f"queue '{queue.name}' was changed meanwhile (version {version}, you saw {queue.version}): "
                "reload it and apply your change again",
                field="version",
                code=ErrorCode.STALE_VERSION,
            )
        self.known = self.known | {queue.name}
        return before, replace(queue, version=version)

    async def _no_overflow_loop(self, queue: Queue) -> None:
        """BadRequest when overflowing from ``queue`` would come back to it (billing -> support -> billing): a
        conversation would go round for good, offered anew in each queue each time."""
        path, target = [queue.name], queue.on_max_wait_target
        while target:
            path.append(target)
            if target == queue.name:
                raise _bad(f"overflow would go round: {' -> '.join(path)}", "on_max_wait.target")
            nxt = await self.get(target)
            if nxt is None or nxt.on_max_wait != MaxWaitAction.OVERFLOW or target in path[:-1]:
                return
            target = nxt.on_max_wait_target

    async def delete(self, name: str) -> Queue:
        """Delete a queue no flow and no other queue names (nor ``default``, where chats without a bot flow wait);
        returns it as it was."""
        if name == DEFAULT_QUEUE:
            raise Conflict(
                f"queue '{name}' is where chats without a bot flow wait: it cannot be deleted",
                field="name",
                code=ErrorCode.QUEUE_IN_USE,
            )
        queue = await self.require(name)
        users = self.flow_users(name)
        overflowing = [q.name for q in await self.all() if q.on_max_wait_target == name and q.name != name]
        if users or overflowing:
            who = [f"flow '{u}'" for u in users] + [f"queue '{q}' (overflow)" for q in overflowing]
            raise Conflict(f"queue '{name}' is used by {', '.join(who)}", field="name", code=ErrorCode.QUEUE_IN_USE)
        await self.db.delete(name)
        self.known = self.known - {name}
        return queue

    async def ensure(self, names: Iterable[str]) -> list[str]:
        """On a store with no queue at all (a first start, or a deployment from before queues were objects),
        create the queues the flows name with today's defaults, so nothing changes for them; returns those made."""
        if await self.db.all():
            return []
        made = []
        for name in sorted(set(names)):
            if not QUEUE_NAME.fullmatch(name):
                continue
            ok, _ = await self.db.put(
                name,
                Queue(
                    name,
                    announce_seconds=self.default_announce_seconds,
                    service_level_seconds=self.default_service_level_seconds,
                ).body(),
                expected=0,
            )
            if ok:
                made.append(name)
        if made:
            log.warning(
                "no queues were defined: created %s with the default settings (the queues the flows name); "
                "change them in the admin console or with PUT /api/admin/queues/{name}",
                ", ".join(made),
            )
        await self.refresh()
        return made
