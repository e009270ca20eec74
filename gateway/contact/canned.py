"""Canned responses: shared ones (supervisors write them, every agent uses them) and each agent's own.

A canned response is a ``shortcut`` (what the agent types after ``/`` in the composer), a ``title`` and a ``text``
that may hold variables the desk fills in before the agent sends it: ``{{ customer.name }}``, ``{{ customer.id }}``,
``{{ agent.name }}``, ``{{ agent.id }}``, ``{{ conversation.id }}``, each with an optional fallback for a value
the desk does not know (``{{ customer.name | there }}``). A text naming any other variable is refused when it is
saved, so what the customer gets never holds a half-filled template. Kept in Redis (``P:canned:*``), at most
:data:`MAX_SHARED` shared and :data:`MAX_PERSONAL` per agent.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from gateway.errors import BadRequest, Conflict
from gateway.json_input import check_text
from gateway.protocol.codes import ErrorCode
from gateway.store.index_store import ConversationIndex
from gateway.store.store import Store

VARIABLES = ("customer.name", "customer.id", "agent.name", "agent.id", "conversation.id")
MAX_SHARED = 200
MAX_PERSONAL = 100
MAX_TITLE = 80
MAX_TEXT = 2000
MAX_FALLBACK = 40
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_VARIABLE = re.compile(r"^\s*(?P<name>[a-z]+\.[a-z]+)\s*(?:\|(?P<fallback>[^{}|]*))?$")


@dataclass(frozen=True, slots=True)
class CannedInput:
    """A canned response as a client sent it, checked."""

    title: str
    text: str


def check_shortcut(shortcut: str) -> str:
    if not SHORTCUT.fullmatch(shortcut):
        raise BadRequest(
            "'shortcut' is 1-32 lower-case letters, digits, '-' or '_', starting with a letter or digit",
            field="shortcut",
            code=ErrorCode.BAD_FIELD,
        )
    return shortcut


def parse_canned(body: dict[str, Any]) -> CannedInput:
    """The body of a PUT: ``{"title", "text"}`` and nothing else; BadRequest naming the field otherwise."""
    for name in body:
        if name not in ("title", "text"):
            raise BadRequest(f"unknown field '{name[:40]}'", field=name[:40], code=ErrorCode.BAD_FIELD)
    title = _string(body, "title", MAX_TITLE, multiline=False)
    text = _string(body, "text", MAX_TEXT, multiline=True)
    for m in _PLACEHOLDER.finditer(text):
        v = _VARIABLE.match(m.group(1))
        if v is None or v["name"] not in VARIABLES:
            raise BadRequest(
                f"'text' uses {m.group(0)[:60]!r} at position {m.start()}; the variables are "
                + ", ".join("{{ " + n + " }}" for n in VARIABLES)
                + " (with an optional fallback: {{ customer.name | there }})",
                field="text",
                code=ErrorCode.BAD_FIELD,
            )
        if v["fallback"] is not None and len(v["fallback"].strip()) > MAX_FALLBACK:
            raise BadRequest(
                f"'text': a fallback is at most {MAX_FALLBACK} characters", field="text", code=ErrorCode.BAD_FIELD
            )
    if "{{" in _PLACEHOLDER.sub("", text) or "}}" in _PLACEHOLDER.sub("", text):
        raise BadRequest("'text' has an unclosed '{{' or a stray '}}'", field="text", code=ErrorCode.BAD_FIELD)
    return CannedInput(title, text)


def _string(body: dict[str, Any], name: str, most: int, *, multiline: bool) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise BadRequest(f"'{name}' is required", field=name, code=ErrorCode.MISSING_FIELD)
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string", field=name, code=ErrorCode.BAD_FIELD)
    if len(value) > most:
        raise BadRequest(f"'{name}' is over {most} characters", field=name, code=ErrorCode.BAD_FIELD)
    check_text(value, name, multiline=multiline)
    if not value.strip():
        raise BadRequest(f"'{name}' is blank", field=name, code=ErrorCode.BAD_FIELD)
    return value


class CannedResponses:
    def __init__(self, store: Store):
        self.index = ConversationIndex(store)

    async def listing(self, agent_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every shared one and the agent's own, each sorted by shortcut."""
        return {
            "shared": _decoded(await self.index.canned(None), "shared"),
            "personal": _decoded(await self.index.canned(agent_id), "personal"),
        }

    async def put(self, owner: str | None, shortcut: str, value: CannedInput, *, by: str) -> dict[str, Any]:
        """Store a shared one (``owner`` None) or ``owner``'s own; Conflict when the set is full."""
        item: dict[str, Any] = {"shortcut": shortcut, "title": value.title, "text": value.text, "updated_by": by}
        item["updated_at"] = int(time.time() * 1000)
        most = MAX_SHARED if owner is None else MAX_PERSONAL
        if not await self.index.put_canned(owner, shortcut, json.dumps(item, ensure_ascii=False), most=most):
            raise Conflict(
                f"there are {most} {'shared' if owner is None else 'personal'} canned responses already; "
                "delete one first",
                field="shortcut",
            )
        return {**item, "scope": "shared" if owner is None else "personal"}

    async def delete(self, owner: str | None, shortcut: str) -> bool:
        return await self.index.delete_canned(owner, shortcut)


def _decoded(raw: dict[str, str], scope: str) -> list[dict[str, Any]]:
    return [{**json.loads(raw[k]), "scope": scope} for k in sorted(raw)]
