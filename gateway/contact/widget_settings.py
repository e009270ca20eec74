"""The widget's settings, set by an admin and served to every widget at start (its ``welcome`` frame, and
``GET /api/widget/settings`` for previews): title, colours, greeting, launcher text, language, and the queue whose
opening hours decide whether the widget says "we're closed" instead of "we typically reply in a few minutes".

Colours are ``#rrggbb`` only: the widget sets them as CSS custom properties through the CSSOM (allowed by a strict
``style-src``), never as markup.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from gateway.contact.queues import QUEUE_NAME
from gateway.errors import BadRequest
from gateway.json_input import check_text
from gateway.protocol.codes import ErrorCode
from gateway.store.queue_store import QueueStore
from gateway.store.store import Store

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, the common shapes
LIMITS = {"title": 60, "greeting": 500, "launcher_text": 40}


@dataclass(frozen=True, slots=True)
class WidgetSettings:
    title: str = "Contact us"
    colour: str = "#1f6f4a"
    accent: str = "#17573a"
    greeting: str = ""
    launcher_text: str = ""
    language: str = "en"
    hours_queue: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _bad(message: str, name: str) -> BadRequest:
    return BadRequest(message, field=name, code=ErrorCode.BAD_FIELD)


def parse_widget(body: Any) -> WidgetSettings:
    """Settings from a REST body (missing fields take their defaults); BadRequest naming the first bad field."""
    if not isinstance(body, dict):
        raise _bad("the body is the widget's settings object", "body")
    known = tuple(WidgetSettings.__dataclass_fields__)
    for key in body:
        if key not in known:
            raise _bad(f"unknown field '{key}' (known: {', '.join(known)})", key)
    values: dict[str, str] = {}
    defaults = WidgetSettings().to_json()
    for key in known:
        value = body.get(key, defaults[key])
        if not isinstance(value, str):
            raise _bad(f"'{key}' must be text", key)
        values[key] = value.strip()
    for key, limit in LIMITS.items():
        check_text(values[key], key, multiline=key == "greeting")
        if len(values[key]) > limit:
            raise _bad(f"'{key}' is over {limit} characters", key)
    if not values["title"]:
        raise _bad("'title' must not be empty", "title")
    for key in ("colour", "accent"):
        if not COLOUR.fullmatch(values[key]):
            raise _bad(f"'{key}' must be a colour like #1f6f4a", key)
        values[key] = values[key].lower()
    if not LANGUAGE.fullmatch(values["language"]):
        raise _bad("'language' must be a language tag like en, fr or pt-BR", "language")
    if values["hours_queue"] and not QUEUE_NAME.fullmatch(values["hours_queue"]):
        raise _bad("'hours_queue' is a queue name or ''", "hours_queue")
    return WidgetSettings(**values)


class WidgetConfig:
    def __init__(self, store: Store):
        self.db = QueueStore(store)

    async def get(self) -> WidgetSettings:
        raw = await self.db.widget()
        if raw is None:
            return WidgetSettings()
        try:
            return parse_widget(raw)
        except BadRequest:  # written by another version: the defaults rather than a broken widget
            return WidgetSettings()

    async def put(self, settings: WidgetSettings) -> None:
        await self.db.put_widget(settings.to_json())
