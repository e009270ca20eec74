"""The flows in service on this node: each flow's published version, the same on every node.

Versions live in Redis (gateway/store/flow_store.py); publishing one sets the flow's live pointer and announces it
on ``P:ch:flows`` in the same step, and every node loads it and puts it in service for new calls and chats. A
:class:`~ivr.model.Flow` is immutable and a call or chat holds the object it started with (and the ``snapshot``
its ``goto``\\ s resolve in), so sessions in progress finish on the version they started on.

The flow directory stays a source: a flow with no versions in the store is imported from its file as its first
published version (author ``file``), and while the node runs a file that changes (the editor's save) becomes a new
published version through the same rules as the console's (gateway/flows/versions.py does that). A file that goes
away takes nothing out of service: the store is what serves; ``flows pull`` writes the files back. An admin retires
a flow (:class:`~gateway.protocol.bus.FlowRetired`): its live pointer goes and every node takes it out of service.

Which flow new calls and new chats start in is the admin's choice in the console, kept in Redis
(``P:flows:answers``) and announced on the same channel (:class:`~gateway.protocol.bus.FlowAnswers`); until an
admin chooses, ``--voice-flow`` / ``--chat-flow`` (the ``defaults``) name it. A session keeps the flow it started in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from gateway.protocol.bus import FlowAnswers, FlowPublished, FlowRetired, Message
from gateway.store.bus import Bus
from gateway.store.flow_store import FlowStore
from gateway.tasks import Tasks
from ivr.errors import FlowError, FlowErrors
from ivr.loader import parse_flow
from ivr.model import Flow
from ivr.registry import FlowRegistry, FlowsByName

log = logging.getLogger(__name__)


class Entry(StrEnum):
    """What a flow may answer: new calls or new chats (the fields of ``P:flows:answers``)."""

    CALLS = "calls"
    CHATS = "chats"


class LiveFlows(FlowsByName):
    """By name, the published version of every flow; ``get`` / ``snapshot`` as :class:`FlowRegistry` has them."""

    def __init__(
        self,
        directory: Path,
        store: FlowStore,
        bus: Bus,
        files: FlowRegistry,
        *,
        defaults: dict[Entry, str | None] | None = None,
    ):
        self.directory = directory
        self.store = store
        self.bus = bus
        self.files = files  # the flow directory, followed (its errors are reported as today)
        self._flows: dict[str, Flow] = {}
        self._parsed: dict[tuple[str, str], Flow] = {}  # (name, version) -> flow: a version never changes
        self._load_errors: list[FlowError] = []
        self._lock = asyncio.Lock()
        self._tasks = Tasks("flows", log)
        self.changed: list[Callable[[str, Flow], None]] = []  # told when a flow's live version changes here
        self.defaults = dict(defaults or {})  # the node's settings (--voice-flow, --chat-flow): until an admin chooses
        self._chosen: dict[Entry, str] = {}  # what admins chose (P:flows:answers), read on every refresh

    # ---------------------------------------------------------------- what the sessions read

    def _where(self) -> str:
        return "is published"

    def answering(self, entry: Entry) -> str | None:
        """The flow new ``entry`` sessions start in: the admin's choice, else the node's setting (None: no flow,
        chats go straight to the agents)."""
        if entry in self._chosen:
            return self._chosen[entry] or None
        return self.defaults.get(entry) or None

    def chosen(self, entry: Entry) -> str | None:
        """The flow an admin chose for ``entry``: a name, '' for no flow (chats straight to the agents), None when
        no admin chose (the node's setting applies)."""
        return self._chosen.get(entry)

    @property
    def errors(self) -> list[FlowError]:
        """Problems of the flow files (the published version stays in service) and of stored versions."""
        return self.files.errors + self._load_errors

    def parse(self, name: str, text: str) -> Flow:
        """A flow's text as the loader reads it: errors name ``FLOWS_DIR/NAME.yaml`` and relative audio resolves
        there (raises :class:`~ivr.errors.FlowErrors`)."""
        return parse_flow(text, self.directory / f"{name}.yaml")

    # ---------------------------------------------------------------- life

    async def start(self) -> None:
        await self.bus.subscribe(self.store.keys.flows_channel, self._on_bus, resync=self._resync)
        await self.refresh()

    async def stop(self) -> None:
        await self.bus.unsubscribe(self.store.keys.flows_channel, self._on_bus)
        await self._tasks.close()

    def _on_bus(self, channel: str, message: Message) -> None:
        if isinstance(message, FlowPublished):
            self._tasks.spawn(self.refresh(), f"publish-{message.name}")
        elif isinstance(message, FlowRetired):
            self._tasks.spawn(self.refresh(), f"retire-{message.name}")
        elif isinstance(message, FlowAnswers):
            self._tasks.spawn(self.refresh(), f"answers-{message.entry}")

    def _resync(self, channel: str) -> None:
        self._tasks.spawn(self.refresh(), "resync")  # a publish may have been missed while the bus was down

    async def refresh(self) -> list[str]:
        """Read every flow's live version and put those that changed in service (a flow with none any more, retired,
        goes out of service), and which flows answer calls and chats; the names whose version changed."""
        async with self._lock:
            live = await self.store.live()
            chosen = {Entry(e): n for e, n in (await self.store.answers()).items() if e in {x.value for x in Entry}}
            for entry in Entry:
                if chosen.get(entry) != self._chosen.get(entry):
                    answering = chosen[entry] if entry in chosen else self.defaults.get(entry)
                    log.info("new %s start in flow %s", entry, answering or "none (straight to the agents)")
            self._chosen = chosen
            changed: list[str] = []
            errors: list[FlowError] = []
            flows = {name: flow for name, flow in self._flows.items() if name in live}
            for name in self._flows.keys() - flows.keys():
                log.info("flow %s: out of service (retired)", name)
            for name, vid in live.items():
                current = flows.get(name)
                if current is not None and current.version == vid:
                    continue
                flow = self._parsed.get((name, vid))
                if flow is None:
                    stored = await self.store.version(name, vid)
                    if stored is None:
                        errors.append(FlowError(name, None, None, f"published version {vid} is not stored"))
                        continue
                    try:
                        flow = await asyncio.to_thread(self.parse, name, stored.yaml)
                    except FlowErrors as exc:  # it loaded when it was saved: the audio files moved since
                        errors.extend(exc.errors)
                        continue
                    self._parsed[(name, vid)] = flow
                flows[name] = flow
                changed.append(name)
            self._flows = flows
            self._load_errors = errors
        for name in changed:
            log.info("flow %s: version %s in service", name, flows[name].version)
            for listener in self.changed:
                listener(name, flows[name])
        return changed
