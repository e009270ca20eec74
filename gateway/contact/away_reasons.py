"""Away reasons ("aux codes"): why an agent is away, chosen at the desk from a list an admin keeps.

An agent going away names one (``status`` frame ``reason``: a code of the list, or "" for none); the wallboard shows
its label beside the agent and how long they have been away, and the reports split each agent's away time by it
(gateway/ops/agent_time.py). The list is the center's, in Redis (``P:center`` ``away_reasons``), the same on every
node; a store where no admin wrote one has :data:`DEFAULT_REASONS`. Every write names the ``version`` it read; a
stale one is refused (409 ``stale_version``) and nothing is written.

The gateway sets reasons of its own (:data:`GATEWAY_REASONS`: a missed or declined call, a lost call, a desk gone,
a logout, a disable, a supervisor): no code of the list may take one of those names, and an agent cannot claim
one. A reason taken off the list stays on the agents who are away with it, and in past reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gateway.errors import BadRequest, Conflict
from gateway.json_input import check_text
from gateway.protocol.codes import ErrorCode
from gateway.store.queue_store import QueueStore
from gateway.store.store import Store

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
MAX_LABEL = 40
MAX_REASONS = 20
FIELD = "away_reasons"  # its name in the center-wide hash

#: The away reasons the gateway sets itself (gateway/contact/presence.py, calls, logins, supervisors).
GATEWAY_REASONS = frozenset(
    {
        "missed_call",
        "declined_call",
        "call_lost",
        "agent_absent",
        "agent_logged_out",
        "agent_disabled",
        "agent_removed",
        "set_by_supervisor",
    }
)


@dataclass(frozen=True, slots=True)
class AwayReason:
    code: str
    label: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "label": self.label}


DEFAULT_REASONS = (
    AwayReason("break", "Break"),
    AwayReason("lunch", "Lunch"),
    AwayReason("meeting", "Meeting"),
    AwayReason("training", "Training"),
    AwayReason("other", "Other work"),
)


@dataclass(frozen=True, slots=True)
class AwayReasonList:
    reasons: tuple[AwayReason, ...]
    version: int  # 0: the defaults (no admin wrote a list yet)

    def to_json(self) -> dict[str, Any]:
        return {"reasons": [r.to_json() for r in self.reasons], "version": self.version}

    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def _bad(message: str, name: str) -> BadRequest:
    return BadRequest(message, field=name, code=ErrorCode.BAD_FIELD)


def parse_reasons(body: Any) -> AwayReasonList:
    """``{"reasons": [{"code", "label"}...], "version"}`` from a REST body; BadRequest naming the first bad field
    (``reasons[2].label``)."""
    if not isinstance(body, dict):
        raise _bad('the body is {"reasons": [...], "version": N}', "body")
    for key in body:
        if key not in ("reasons", "version"):
            raise _bad(f"unknown field '{key}' (known: reasons, version)", str(key)[:40])
    version = body.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise _bad("'version' is the version you read (0 for the first list)", "version")
    items = body.get("reasons")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_REASONS:
        raise _bad(f"'reasons' is a list of 1 to {MAX_REASONS} reasons", "reasons")
    reasons: list[AwayReason] = []
    for i, item in enumerate(items):
        at = f"reasons[{i}]"
        if not isinstance(item, dict) or set(item) - {"code", "label"}:
            raise _bad(f'{at} is {{"code", "label"}}', at)
        code, label = item.get("code"), item.get("label")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise _bad(f"{at}.code is 1-30 of a-z, 0-9, _ and - (starting with a letter or digit)", f"{at}.code")
        if code in GATEWAY_REASONS:
            raise _bad(f"{at}.code '{code}' is a reason the gateway sets itself: choose another", f"{at}.code")
        if code in (r.code for r in reasons):
            raise _bad(f"{at}.code '{code}' is in the list twice", f"{at}.code")
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL:
            raise _bad(f"{at}.label is 1 to {MAX_LABEL} characters", f"{at}.label")
        check_text(label, f"{at}.label", multiline=False)
        reasons.append(AwayReason(code, label.strip()))
    return AwayReasonList(tuple(reasons), version)


class AwayReasons:
    """The center's away reasons, read from Redis each time (an admin's change holds on every node at once)."""

    def __init__(self, store: Store) -> None:
        self.db = QueueStore(store)

    async def get(self) -> AwayReasonList:
        row = await self.db.center(FIELD)
        if row is None:
            return AwayReasonList(DEFAULT_REASONS, 0)
        data, version = row
        try:
            return AwayReasonList(parse_reasons({"reasons": data}).reasons, version)
        except BadRequest:  # written by another version of the gateway: the defaults rather than no choice
            return AwayReasonList(DEFAULT_REASONS, version)

    async def put(self, reasons: AwayReasonList) -> tuple[AwayReasonList, AwayReasonList]:
        """Store ``reasons`` (their ``version`` is the one the writer saw): (the list before, the list now)."""
        before = await self.get()
        ok, version = await self.db.put_center(FIELD, [r.to_json() for r in reasons.reasons], expected=reasons.version)
        if not ok:
            raise Conflict(
                f"the away reasons were changed meanwhile (version {version}, you saw {reasons.version}): reload them "
                "and apply your change again",
                field="version",
                code=ErrorCode.STALE_VERSION,
            )
        return before, AwayReasonList(reasons.reasons, version)

    async def check(self, reason: str) -> None:
        """BadRequest unless an agent may go away with ``reason``: "" (none) or a code of the list."""
        if not reason:
            return
        codes = (await self.get()).codes()
        if reason not in codes:
            raise BadRequest(
                f"'{reason}' is not an away reason of this center (reasons: {', '.join(codes)})",
                field="reason",
                code=ErrorCode.BAD_FIELD,
            )
