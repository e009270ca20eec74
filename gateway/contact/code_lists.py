"""The center's code lists: short codes with a label that an admin keeps and agents choose from.

Two lists use this (:data:`AWAY_REASONS` in gateway/contact/away_reasons.py, :data:`DISPOSITIONS` in
gateway/contact/dispositions.py): each is ``[{code, label}, ...]`` in the order the desk offers it, kept in Redis
(``P:center``, one field per list, versioned like queues: every write names the ``version`` it read and a stale one
is refused with 409 ``stale_version``, nothing written), the same on every node and read each time it is used. A
store where no admin wrote one has the list's defaults (version 0).

A code is 1-30 of a-z, 0-9, _ and -; a label 1-40 characters of plain text; 1-20 codes, none twice, none of the
codes the gateway uses itself for that list (an agent must not claim them, reports must not mix them up). A code
taken off a list stays where it was used (a conversation's disposition, an agent away with it, past reports).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.errors import BadRequest, Conflict
from gateway.json_input import check_text, printable, without_bidi_controls
from gateway.protocol import bus
from gateway.protocol.codes import ErrorCode
from gateway.store.bus import Bus
from gateway.store.queue_store import QueueStore
from gateway.store.store import Store

log = logging.getLogger(__name__)

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
MAX_LABEL = 40
VISIBLE = re.compile(r"[^\s\u200b-\u200f\u2060\ufeff]")  # a character that shows (not a space, nor a zero-width one)
MAX_CODES = 20


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    label: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "label": self.label}


@dataclass(frozen=True, slots=True)
class CodeKind:
    """One list: its field in ``P:center``, its name in bodies and answers (``reasons``), what one is called, and the
    codes the gateway keeps for itself."""

    field: str
    key: str
    noun: str  # "an away reason"
    reserved: frozenset[str]
    reserved_why: str  # "is a reason the gateway sets itself"


@dataclass(frozen=True, slots=True)
class CodeList:
    kind: CodeKind
    codes: tuple[Code, ...]
    version: int  # 0: the defaults (no admin wrote the list yet)

    def to_json(self) -> dict[str, Any]:
        return {self.kind.key: self.entries(), "version": self.version}

    def entries(self) -> list[dict[str, str]]:
        return [c.to_json() for c in self.codes]

    def names(self) -> list[str]:
        return [c.code for c in self.codes]


def label_of(code: str) -> str:
    """A label for a code that came without one (a list from ``--dispositions``): "follow-up" -> "Follow up"."""
    words = re.sub(r"[_-]+", " ", code).strip()
    return (words[:1].upper() + words[1:])[:MAX_LABEL] or code


def _bad(message: str, name: str) -> BadRequest:
    return BadRequest(message, field=name, code=ErrorCode.BAD_FIELD)


def parse_codes(kind: CodeKind, body: Any) -> tuple[tuple[Code, ...], int]:
    """The codes and the version read from a REST body ``{KEY: [{"code", "label"}...], "version"}``; BadRequest
    naming the first bad field (``reasons[2].label``)."""
    key = kind.key
    if not isinstance(body, dict):
        raise _bad(f'the body is {{"{key}": [...], "version": N}}', "body")
    for name in body:
        if name not in (key, "version"):
            shown = printable(str(name)[:40])
            raise _bad(f"unknown field '{shown}' (known: {key}, version)", shown)
    version = body.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise _bad("'version' is the version you read (0 for the first list)", "version")
    items = body.get(key)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CODES:
        raise _bad(f'\'{key}\' is a list of 1 to {MAX_CODES} {{"code", "label"}}', key)
    codes: list[Code] = []
    for i, item in enumerate(items):
        at = f"{key}[{i}]"
        if not isinstance(item, dict) or set(item) - {"code", "label"}:
            raise _bad(f'{at} is {{"code", "label"}}', at)
        code, label = item.get("code"), item.get("label")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise _bad(f"{at}.code is 1-30 of a-z, 0-9, _ and - (starting with a letter or digit)", f"{at}.code")
        if code in kind.reserved:
            raise _bad(f"{at}.code '{code}' {kind.reserved_why}: choose another", f"{at}.code")
        if code in (c.code for c in codes):
            raise _bad(f"{at}.code '{code}' is in the list twice", f"{at}.code")
        if not isinstance(label, str):
            raise _bad(f"{at}.label is text", f"{at}.label")
        check_text(label, f"{at}.label", multiline=False)
        label = without_bidi_controls(label).strip()
        if not VISIBLE.search(label) or len(label) > MAX_LABEL:
            raise _bad(f"{at}.label is 1 to {MAX_LABEL} characters, some of them visible", f"{at}.label")
        if label.casefold() in (c.label.casefold() for c in codes):
            raise _bad(f"{at}.label '{label}' is in the list twice: agents could not tell them apart", f"{at}.label")
        codes.append(Code(code, label))
    return tuple(codes), version


_WARNED: set[tuple[str, int]] = set()  # (list, version) found unusable and logged


class CenterCodes:
    """One of the center's code lists, read from Redis each time (an admin's change holds on every node at once)."""

    def __init__(self, kind: CodeKind, store: Store, defaults: tuple[Code, ...]) -> None:
        self.kind = kind
        self.defaults = defaults
        self.store = store
        self.db = QueueStore(store)

    async def get(self) -> CodeList:
        row = await self.db.center(self.kind.field)
        if row is None:
            return CodeList(self.kind, self.defaults, 0)
        text, version = row
        try:
            return CodeList(self.kind, parse_codes(self.kind, {self.kind.key: json.loads(text)})[0], version)
        except (BadRequest, ValueError) as exc:  # written by another version or by hand: the defaults, not no choice
            if (self.kind.field, version) not in _WARNED:
                _WARNED.add((self.kind.field, version))
                log.warning(
                    "the stored %s (version %d) are not usable (%s): the defaults apply until an admin saves them",
                    self.kind.key,
                    version,
                    exc.message if isinstance(exc, BadRequest) else exc,
                )
            return CodeList(self.kind, self.defaults, version)  # (its version: an admin's save replaces it)

    def parse(self, body: Any) -> CodeList:
        codes, version = parse_codes(self.kind, body)
        return CodeList(self.kind, codes, version)

    async def put(self, codes: CodeList) -> tuple[CodeList, CodeList]:
        """Store ``codes`` (their ``version`` is the one the writer saw): (the list before, the list now)."""
        before = await self.get()
        ok, version = await self.db.put_center(self.kind.field, codes.entries(), expected=codes.version)
        if not ok:
            raise Conflict(
                f"the {self.kind.key} were changed meanwhile (version {version}, you saw {codes.version}): reload "
                "them and apply your change again",
                field="version",
                code=ErrorCode.STALE_VERSION,
            )
        await self.store.publish(self.store.keys.center_channel, bus.CodesChanged(self.kind.field))  # open desks
        return before, CodeList(self.kind, codes.codes, version)

    async def check(self, code: str, field: str) -> None:
        """BadRequest naming ``field`` unless ``code`` is on the list."""
        names = (await self.get()).names()
        if code not in names:
            raise BadRequest(
                f"'{code}' is not {self.kind.noun} of this center ({self.kind.key}: {', '.join(names)})",
                field=field,
                code=ErrorCode.BAD_FIELD,
            )


class CodeWatch:
    """This node's ear for the code lists: ``watch(listener)`` calls ``listener(name)`` when an admin saved list
    ``name`` on any node (the agent sockets send their desks the lists again)."""

    def __init__(self, bus_: Bus, channel: str) -> None:
        self.bus = bus_
        self.channel = channel
        self._watchers: list[Callable[[str], None]] = []

    async def start(self) -> None:
        await self.bus.subscribe(self.channel, self._on_bus)

    async def stop(self) -> None:
        await self.bus.unsubscribe(self.channel, self._on_bus)

    def watch(self, listener: Callable[[str], None]) -> None:
        self._watchers.append(listener)

    def unwatch(self, listener: Callable[[str], None]) -> None:
        if listener in self._watchers:
            self._watchers.remove(listener)

    def _on_bus(self, channel: str, message: bus.Message) -> None:
        if isinstance(message, bus.CodesChanged):
            for listener in list(self._watchers):
                listener(message.name)
