"""Flow versions: save (checked by the loader, optimistic), publish and roll back, diff, graph, files in and out.

Rules:

- Every save is an immutable version: its id is the hash of its text (12 hex, the loader's ``Flow.version``), with
  its author, time, message and parent. A version that does not load is not saved: :class:`BadFlow` (400
  ``bad_flow``) lists the loader's errors with their lines, the same ones ``flows validate`` prints.
- A save names the version it was edited from (``parent``); when that is not the flow's newest any more, another
  admin saved meanwhile: :class:`StaleVersion` (409 ``stale_version``) with the newest id and a diff from the
  parent to it. Saving the newest version's text again changes nothing.
- A draft (any saved version that is not live) never affects sessions. Publishing makes a version live for new
  calls and chats on every node at once (gateway/flows/live.py); rollback is publishing an earlier id. A publish is
  refused (``bad_flow``, with lines) when the version names a queue that does not exist, a speech word the
  recognizer does not know, or a ``goto`` into a flow or entry that is not live (and when publishing it would break
  another live flow's ``goto``).
- Which flow new calls and new chats start in is chosen by an admin (:meth:`FlowVersions.choose`): only a published
  flow may be chosen (400 ``flow_not_published`` naming it); the choice reaches every node at once and sessions in
  progress keep their flow. Until an admin chooses, ``--voice-flow`` / ``--chat-flow`` name it.
- Files: a flow with no versions is imported from the flow directory as published (author ``file``); while the
  node runs, a changed file is saved and published the same way (``flows push`` does it from the command line).
- An admin retires a flow nothing needs any more (:meth:`FlowVersions.retire`): it goes out of service on every
  node and is listed apart; its versions stay (timelines, replays and reports name them) and publishing one brings
  it back. Refused (409 ``conflict``, naming why) while it answers new calls or chats (an admin's choice, or this
  node's ``--voice-flow`` / ``--chat-flow``), another live flow's ``goto`` leads to it or a queue's maximum wait runs
  it. Sessions in it finish on their version. A retired flow's file is not imported again (it has versions), nor
  published by ``flows push`` while its text is unchanged; a change to it publishes it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.contact.audit import AuditLog
from gateway.errors import BadRequest, Conflict, NotFound
from gateway.flows.live import Entry, LiveFlows
from gateway.protocol.codes import ErrorCode
from gateway.store.flow_store import FlowStore, StoredVersion
from gateway.store.store import StoreError
from ivr import trust
from ivr.errors import FlowError, FlowErrors
from ivr.graph import flow_graph
from ivr.loader import FLOW_NAME_RE, check_references, read_flow_text
from ivr.model import CallbackNode, Flow, GotoNode, QueueNode, QueueStatusNode

log = logging.getLogger(__name__)

FILE_AUTHOR = "file"
MAX_FLOW_BYTES = 256 * 1024
MAX_MESSAGE = 500
#: how long a publish or a retirement holds the flows' lock at most (a node that died holding it frees it then)
CHANGE_LOCK_MS = 10_000
#: how long one waits for another's change before giving up (they take milliseconds): past the lock's lifetime, so
#: that a lock left by a node that died (or a reply lost to a Redis blip) has expired first
CHANGE_WAIT_SECONDS = CHANGE_LOCK_MS / 1000 + 2


class QueueCatalog(Protocol):
    """The queues that exist (the queue objects of the console); None: any name will do (no queue objects)."""

    async def names(self) -> set[str] | None: ...

    async def running_flow(self, flow: str) -> list[str]: ...

    async def rules(self) -> dict[str, tuple[tuple[tuple[str, int], ...], int]]: ...  # (skills, priority)


def error_dict(error: FlowError) -> dict[str, Any]:
    return {"line": error.line, "column": None, "node": error.node, "code": error.code, "message": error.message}


class BadFlow(BadRequest):
    code = ErrorCode.BAD_FLOW

    def __init__(self, message: str, errors: list[FlowError], *, field: str = "yaml"):
        super().__init__(message, field=field)
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "errors": [error_dict(e) for e in self.errors]}


class StaleVersion(Conflict):
    code = ErrorCode.STALE_VERSION

    def __init__(self, current: str, diff: str):
        super().__init__(
            f"another version ({current or 'none'}) was saved since yours was opened: "
            "look at the diff, merge your change into it and save again",
            field="parent",
        )
        self.current = current
        self.diff = diff

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "current": self.current, "diff": self.diff}


class FlowNotPublished(BadRequest):
    code = ErrorCode.FLOW_NOT_PUBLISHED

    def __init__(self, message: str):
        super().__init__(message, field="flow")


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=old_label, tofile=new_label
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def check_name(name: str) -> str:
    if not FLOW_NAME_RE.fullmatch(name) or len(name) > 64:
        raise BadRequest("a flow name uses letters, digits, _ and - (at most 64)", field="name")
    return name


def static_queues(flow: Flow) -> list[tuple[str, int, str]]:
    """(queue name, line, node) of every queue the flow names literally (a templated name is decided per call)."""
    out: list[tuple[str, int, str]] = []
    for node in flow.nodes.values():
        if isinstance(node, (QueueNode, QueueStatusNode, CallbackNode)) and node.queue.is_static:
            out.append((node.queue.render({}).strip(), node.line, node.name))
    return out


def queue_problems(flow: Flow, known: set[str]) -> list[FlowError]:
    """The queues ``flow`` names that do not exist, on their lines, with "did you mean"."""
    problems: list[FlowError] = []
    for queue, line, node in static_queues(flow):
        if queue not in known:
            close = difflib.get_close_matches(queue, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(FlowError(str(flow.source), line, node, f"queue '{queue}' does not exist{hint}", "queue"))
    return problems


@dataclass(frozen=True)
class Published:
    name: str
    version: str
    before: str  # the version live before ('' for none)


def retirement(name: str, retired: dict[str, str]) -> dict[str, Any]:
    """Whether flow ``name`` is retired, and the version that was live when it was (None: not retired or none)."""
    return {"retired": name in retired, "was_live": retired.get(name) or None}


def _now_ms() -> int:
    return int(time.time() * 1000)


class FlowVersions:
    def __init__(
        self,
        live: LiveFlows,
        store: FlowStore,
        *,
        check: Callable[[Flow], list[FlowError]] | None = None,
        queues: QueueCatalog | None = None,
        audit: AuditLog | None = None,
        clock: Callable[[], int] = _now_ms,
    ):
        self.live = live
        self.store = store
        self.check = check  # the speech recognizer's check (unknown words, engines): at publish
        self.queues = queues
        self.audit = audit
        self.clock = clock

    # ---------------------------------------------------------------- reading

    async def listing(self) -> list[dict[str, Any]]:
        heads, live, updated = await self.store.pointers()
        retired = await self.store.retired()
        return [
            {
                "name": name,
                "live_version": live.get(name),
                "draft_version": heads[name] if heads.get(name) != live.get(name) else None,
                "updated_at": updated.get(name, 0),
                **retirement(name, retired),
            }
            for name in sorted(heads.keys() | live.keys())
        ]

    def answers(self) -> dict[str, Any]:
        """Which flows new calls and chats start in, and what the node's settings say until an admin chooses."""
        return {
            "answers": {e.value: self.live.answering(e) for e in Entry},
            "defaults": {e.value: self.live.defaults.get(e) or None for e in Entry},
            "chosen": {e.value: self.live.chosen(e) for e in Entry},
        }

    async def detail(self, name: str) -> dict[str, Any]:
        versions = await self.store.versions(check_name(name))
        if not versions:
            raise NotFound(f"no flow '{name}'", field="name")
        heads, live, _ = await self.store.pointers()
        return {
            "name": name,
            "live_version": live.get(name),
            "head": heads.get(name),
            **retirement(name, await self.store.retired()),
            "versions": [v.summary() for v in versions],
        }

    async def version(self, name: str, vid: str) -> StoredVersion:
        found = await self.store.version(check_name(name), vid) if len(vid) <= 64 else None
        if found is None:
            raise NotFound(f"flow '{name}' has no version '{vid[:64]}'", field="version")
        return found

    async def diff(self, name: str, old: str, new: str) -> str:
        a, b = await self.version(name, old), await self.version(name, new)
        return unified_diff(a.yaml, b.yaml, f"{name}.yaml@{old}", f"{name}.yaml@{new}")

    async def graph(self, name: str, vid: str) -> dict[str, Any]:
        stored = await self.version(name, vid)
        return flow_graph(self.parse(name, stored.yaml), stored.yaml)

    def parse(self, name: str, text: str) -> Flow:
        """Load ``text`` as flow ``name``; :class:`BadFlow` with every loader error."""
        if len(text.encode("utf-8")) > MAX_FLOW_BYTES:
            raise BadRequest(f"a flow is at most {MAX_FLOW_BYTES // 1024} KiB", field="yaml")
        try:
            return self.live.parse(name, text)
        except FlowErrors as exc:
            raise BadFlow(f"the flow does not load: {len(exc.errors)} error(s)", exc.errors) from None

    async def validate(self, name: str, text: str) -> dict[str, Any]:
        """What the editor shows while typing: ``{"ok", "errors", "graph"}``, every publish check included (speech
        words, queues that exist, other flows it names), so "valid" means it can be published."""
        try:
            flow = self.parse(name, text)
        except BadFlow as exc:
            return {"ok": False, "errors": [error_dict(e) for e in exc.errors], "graph": None}
        problems = await self.publish_problems(name, flow)
        return {"ok": not problems, "errors": [error_dict(e) for e in problems], "graph": flow_graph(flow, text)}

    # ---------------------------------------------------------------- writing

    async def save(self, name: str, text: str, *, parent: str, author: str, message: str = "") -> tuple[dict, bool]:
        """Save a version; (its summary, whether it is new). BadFlow, StaleVersion; BadRequest for a new flow whose
        name differs from another's only in capitals ("Default" beside "default": nobody can tell them apart)."""
        flow = self.parse(check_name(name), text)
        heads, _, _ = await self.store.pointers()
        twin = next((n for n in heads if n != name and n.lower() == name.lower()), None)
        if name not in heads and twin is not None:
            raise BadRequest(f"there is a flow '{twin}' already (names differ only in capitals)", field="name")
        now = self.clock()
        version = StoredVersion(flow.version, text, author, now, message[:MAX_MESSAGE], parent)
        saved = await self.store.save(name, parent, version, now=now)
        if saved.status == "stale":
            current = await self.store.version(name, saved.id) if saved.id else None
            base = await self.store.version(name, parent) if parent else None
            diff = unified_diff(
                base.yaml if base is not None else "",
                current.yaml if current is not None else "",
                f"{name}.yaml@{parent or 'none'}",
                f"{name}.yaml@{saved.id or 'none'}",
            )
            raise StaleVersion(saved.id, diff)
        stored = await self.store.version(name, flow.version) or version
        created = saved.status == "saved"
        if created and self.audit is not None:
            await self.audit.record(
                author, "flow.save", f"flow:{name}", {"version": parent or None}, {**stored.summary(), "name": name}
            )
        return stored.summary(), created

    async def publish_problems(self, name: str, flow: Flow, also: dict[str, Flow] | None = None) -> list[FlowError]:
        """Why ``flow`` may not be published as ``name`` (``also``: flows being published with it)."""
        problems = list(self.check(flow)) if self.check is not None else []
        known = await self.queues.names() if self.queues is not None else None
        if known is not None:
            problems += queue_problems(flow, known)
        proposed = {**self.live.snapshot(), **(also or {}), name: flow}
        for errors in check_references(proposed).values():
            problems.extend(errors)
        problems += await self._trust_problems(name, proposed)
        return sorted(problems, key=lambda e: (e.file, e.line or 0))

    async def _costs(self) -> trust.QueueCosts:
        rules = await self.queues.rules() if self.queues is not None else {}
        return {name: (priority, tuple(skill for skill, _ in skills)) for name, (skills, priority) in rules.items()}

    async def queue_trust_problems(self, queue: str, priority: int, skills: tuple[str, ...]) -> list[FlowError]:
        """What a queue's new priority and skills would newly let browser context decide in the live flows (a branch
        on ``context.tier`` into a queue an admin then gave priority 10). Only new problems: one already live (a
        flow from before this check) must not block lowering that very priority or editing another queue (a
        review)."""
        if priority <= 0 and not skills:
            return []
        costs = await self._costs()
        live = self.live.snapshot()
        return _new_problems(list(live.values()), {**costs, queue: (priority, skills)}, costs, live, live)

    async def _trust_problems(self, name: str, proposed: Mapping[str, Flow]) -> list[FlowError]:
        """The loader's unverified-input check again, with what a file alone does not show: the queues' own priority
        and skills, and the flows a ``goto`` enters. For the flow published (all its problems) and for every flow
        that reaches it through gotos, directly or not (the problems its new version brings: a branch on
        ``context.tier`` into a flow that now queues at priority 10 jumped the line: a security tester's finding;
        an older problem elsewhere must not block this publish: a review)."""
        costs = await self._costs()
        flow = proposed[name]
        own = [
            FlowError(str(flow.source), line, node, message, trust.CODE)
            for line, node, message in trust.check(flow.nodes, queues=costs, flows=proposed)
        ]
        entering = [f for f in proposed.values() if f is not flow and name in _reached_by_goto(f, proposed)]
        live = self.live.snapshot()
        return own + _new_problems(entering, costs, costs, proposed, live, within="which enters this one")

    @contextlib.asynccontextmanager
    async def _one_change(self) -> AsyncIterator[None]:
        """One publish or retirement at a time on every node, checked against what is live now: each checks the
        other live flows' ``goto``\\ s and then changes what is live, and two at once could each pass their check
        (a flow published with a ``goto`` into a flow being retired, or into an entry a new version of its target
        drops). Conflict when another change holds the lock longer than :data:`CHANGE_WAIT_SECONDS`."""
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + CHANGE_WAIT_SECONDS
        while not await self.store.lock(owner, ms=CHANGE_LOCK_MS):
            if time.monotonic() > deadline:
                raise Conflict("another flow is being published or retired: try again in a moment", field="name")
            await asyncio.sleep(0.05)
        try:
            await self.live.refresh()  # what is live now, with the change that held the lock before
            yield
        finally:
            try:
                await self.store.unlock(owner)
            except StoreError as exc:  # (the answer is the change's own: the lock expires by itself)
                log.warning("flows' lock not released (Redis: %s); it expires in %d ms", exc, CHANGE_LOCK_MS)

    async def publish(self, name: str, vid: str, *, author: str, also: dict[str, Flow] | None = None) -> Published:
        """Make a saved version live everywhere (BadFlow when the publish rules refuse it)."""
        stored = await self.version(name, vid)
        flow = self.parse(name, stored.yaml)
        async with self._one_change():
            problems = await self.publish_problems(name, flow, also)
            if problems:
                raise BadFlow(
                    f"version {vid} cannot be published: {len(problems)} problem(s)", problems, field="version"
                )
            status, before = await self.store.publish(name, vid, now=self.clock())
            if status != "ok":
                raise NotFound(f"flow '{name}' has no version '{vid}'", field="version")
            await self.live.refresh()  # here at once; the other nodes on the bus message
        if self.audit is not None and before != vid:
            await self.audit.record(
                author, "flow.publish", f"flow:{name}", {"version": before or None}, {"version": vid}
            )
        log.info("flow %s: %s published version %s (was %s)", name, author, vid, before or "none")
        return Published(name, vid, before)

    async def choose(self, entry: Entry, name: str | None, *, author: str, replacing: str | None = None) -> str | None:
        """Make ``name`` the flow new ``entry`` sessions start in on every node (None: no flow, new chats go straight
        to the agents; calls always need one); the flow that answered before. Refused (:class:`FlowNotPublished`)
        for a flow with no published version; with ``replacing`` (the flow the admin saw answering), refused
        (:class:`~gateway.errors.Conflict`) when another one answers now (an admin elsewhere changed it)."""
        if name is None and entry is Entry.CALLS:
            raise BadRequest(
                "calls always start in a flow (the IVR answers them): make another flow answer calls instead",
                field="flow",
            )
        if replacing is not None:
            await self.live.refresh()  # what answers now, not this node's copy of it
            if (self.live.answering(entry) or "") != replacing:
                now = self.live.answering(entry)
                raise Conflict(
                    f"'{now}' answers {entry.value} now, not '{replacing}'"
                    if now
                    else f"no flow answers {entry.value} now, not '{replacing}'",
                    field="replacing",
                )
        before_in_service = self.live.answering(entry)
        chosen = "" if name is None else check_name(name)  # what the store keeps: '' for no flow
        status, before = await self.store.choose(entry.value, chosen)
        if status != "ok":
            heads, _, _ = await self.store.pointers()
            why = (
                "it is retired: publish a version of it first"
                if name in await self.store.retired()
                else "it has only drafts: publish a version of it first"
                if name in heads
                else "there is no such flow"
            )
            raise FlowNotPublished(f"flow '{name}' cannot answer {entry.value}: {why}")
        await self.live.refresh()  # here at once; the other nodes on the bus message
        now_in_service = self.live.answering(entry)
        # no choice (None) and no flow ('') differ: a --chat-flow set later answers in the first case only
        if self.audit is not None and (before != chosen or now_in_service != before_in_service):
            await self.audit.record(
                author,
                "flow.answers",
                f"flows:{entry.value}",
                {"flow": before, "answers": before_in_service},
                {"flow": chosen, "answers": now_in_service},
            )
        log.info("new %s: %s chose flow %s (was %s)", entry.value, author, name or "none", before_in_service)
        return before_in_service

    async def retire(self, name: str, *, author: str) -> str:
        """Take flow ``name`` out of service on every node and list it apart (see the module's rules); the version
        that was live ('' for none). NotFound for no such flow, Conflict while something still leads to it."""
        check_name(name)
        async with self._one_change():  # (it refreshes: what answers and what is live now, not this node's copy)
            return await self._retire(name, author=author)

    async def _retire(self, name: str, *, author: str) -> str:
        for entry in Entry:
            how = "an admin chose it" if self.live.chosen(entry) is not None else "this node's setting names it"
            if self.live.answering(entry) == name:
                raise Conflict(
                    f"'{name}' answers new {entry.value} ({how}): make another flow answer {entry.value} first",
                    field="name",
                )
        running = await self.queues.running_flow(name) if self.queues is not None else []
        if running:
            raise Conflict(
                f"the maximum wait of queue{'s' if len(running) > 1 else ''} {', '.join(running)} runs '{name}': "
                "change it first",
                field="name",
            )
        without = {n: f for n, f in self.live.snapshot().items() if n != name}
        before = check_references(self.live.snapshot())
        lines = {
            flow: sorted(e.line or 0 for e in errors if e not in before.get(flow, []))
            for flow, errors in check_references(without).items()
        }
        leads = [
            f"'{flow}' (line{'s' if len(at) > 1 else ''} {', '.join(map(str, at))})" if all(at) else f"'{flow}'"
            for flow, at in sorted(lines.items())
            if at
        ]
        if leads:
            many = len(leads) > 1
            raise Conflict(
                f"the live flow{'s' if many else ''} {', '.join(leads)} go{'' if many else 'es'} to '{name}': "
                f"publish {'them' if many else 'it'} without that goto first",
                field="name",
            )
        status, detail = await self.store.retire(name, now=self.clock())
        if status == "missing":
            raise NotFound(f"no flow '{name}'", field="name")
        if status == "retired":  # retired already (a retry, another admin): nothing changes, nothing audited twice
            return detail
        if status == "answers":  # an admin chose it meanwhile
            raise Conflict(f"'{name}' answers new {detail}: make another flow answer {detail} first", field="name")
        await self.live.refresh()  # here at once; the other nodes on the bus message
        if self.audit is not None:
            await self.audit.record(
                author, "flow.retire", f"flow:{name}", {"version": detail or None}, {"retired": True}
            )
        log.info("flow %s: %s retired it (live version was %s)", name, author, detail or "none")
        return detail

    async def save_and_publish(
        self, name: str, text: str, *, author: str, message: str, also: dict[str, Flow] | None = None
    ) -> tuple[str, bool]:
        """What a file (``flows push``, the file watch) does: save on top of the newest and publish; (version id,
        whether the live version changed). BadFlow when it does not load or may not be published."""
        for _ in range(3):  # another writer may move the head between reading it and saving
            head = await self.store.head(name)
            try:
                summary, created = await self.save(name, text, parent=head, author=author, message=message)
                break
            except StaleVersion:
                continue
        else:
            raise Conflict(f"flow '{name}' keeps changing; try again", field="name")
        live = (await self.store.live()).get(name)
        if live == summary["id"]:
            return summary["id"], False
        if not created and name in await self.store.retired():  # a file unchanged since: it stays retired
            return summary["id"], False
        await self.publish(name, summary["id"], author=author, also=also)
        return summary["id"], True

    async def publish_texts(self, texts: dict[str, str], *, author: str, message: str) -> dict[str, str]:
        r"""Save and publish several flows together (their ``goto``\ s may name each other); by name, the version
        published, or why not (a refused one is logged and left as it was)."""
        parsed: dict[str, Flow] = {}
        out: dict[str, str] = {}
        for name, text in texts.items():
            try:
                parsed[name] = self.parse(check_name(name), text)
            except BadRequest as exc:
                why = "; ".join(str(e) for e in getattr(exc, "errors", [])) or exc.message
                log.error("flow %s not published: %s", name, why)
                out[name] = f"refused: {why}"
        for name in parsed:
            try:
                vid, changed = await self.save_and_publish(
                    name, texts[name], author=author, message=message.format(name=name), also=parsed
                )
            except (BadFlow, Conflict) as exc:
                why = "; ".join(str(e) for e in getattr(exc, "errors", [])) or exc.message
                log.error("flow %s not published: %s", name, why)
                out[name] = f"refused: {why}"
                continue
            out[name] = f"published {vid}" if changed else f"unchanged {vid}"
        return out

    async def import_files(self) -> dict[str, str]:
        """Flows of the directory with no version in the store yet become published versions (author ``file``)."""
        heads, _, _ = await self.store.pointers()
        texts: dict[str, str] = {}
        for name in self.live.files.names():
            if name not in heads:
                texts[name] = read_flow_text(self.live.files.get(name).source)
        if not texts:
            return {}
        done = await self.publish_texts(texts, author=FILE_AUTHOR, message="imported from {name}.yaml")
        log.info("flows imported from %s: %s", self.live.files.directory, done)
        return done

    async def files_changed(self, names: tuple[str, ...]) -> dict[str, str]:
        """Files the watch saw change: each becomes a new published version (a refused one is logged)."""
        texts: dict[str, str] = {}
        for name in names:
            try:
                texts[name] = read_flow_text(self.live.files.get(name).source)
            except (FlowErrors, KeyError) as exc:
                log.error("flow file %s not read: %s", name, exc)
        return await self.publish_texts(texts, author=FILE_AUTHOR, message="{name}.yaml changed on disk")


def _reached_by_goto(flow: Flow, flows: Mapping[str, Flow]) -> set[str]:
    """The flows ``flow`` can go on into through gotos, directly or through others."""
    seen: set[str] = set()
    todo = [flow]
    while todo:
        for node in todo.pop().nodes.values():
            if isinstance(node, GotoNode) and node.flow not in seen:
                seen.add(node.flow)
                if (other := flows.get(node.flow)) is not None:
                    todo.append(other)
    return seen


def _new_problems(
    flows: list[Flow],
    costs: trust.QueueCosts,
    costs_before: trust.QueueCosts,
    flows_now: Mapping[str, Flow],
    flows_before: Mapping[str, Flow],
    *,
    within: str = "",
) -> list[FlowError]:
    """The trust problems each of ``flows`` has with ``costs`` and ``flows_now`` but not with the settings before
    (the same node and line): what a change brings, not what was there."""
    out: list[FlowError] = []
    for each in flows:
        before = {(line, node) for line, node, _ in trust.check(each.nodes, queues=costs_before, flows=flows_before)}
        for line, node, message in trust.check(each.nodes, queues=costs, flows=flows_now):
            if (line, node) not in before:
                where = f"flow '{each.name}' ({within}): " if within else f"flow '{each.name}': "
                out.append(FlowError(str(each.source), line, node, where + message, trust.CODE))
    return out
