"""Event webhooks for integrations (a CRM, ticketing, a data warehouse): who is told what, in which shape, signed how.

A **subscription** (:class:`Subscription`) is a URL, a secret, the event types it wants (:class:`WebhookEvent`) and
an enabled flag. Subscriptions live in Redis (``P:webhooks``), so every node delivers to the same ones; admins
manage them over REST (gateway/wire/webhook_routes.py: :class:`Webhooks` here), and ``--webhooks-file`` may seed
them at start (:func:`load_seed`). A URL must reach a destination flow webhooks could reach (the same allow-list,
``--webhook-allow``, gateway/flows/webhooks.py): checked when it is saved, and again at every delivery, at connect
time, since DNS answers change.

A timeline event becomes at most one webhook event (:func:`webhook_event`) with a **stable payload**
(:func:`payload`, documented in docs/webhooks.md)::

    {"id": "<event log id>", "type": "conversation.closed", "occurred_at": "2026-01-02T03:04:05.678Z",
     "conversation_id": "c_...", "queue": "billing" | null, "agent_id": "alice" | null, "data": {...}}

``data`` holds only the fields listed per type in :data:`DATA_FIELDS` (never client ids, tokens, addresses or the
flow's context). Each request is signed Stripe-style: ``X-Gateway-Webhook-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256(secret, "<t>." + body)>`` (:func:`signature`). How they travel: gateway/ops/webhook_delivery.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from yarl import URL

from gateway.errors import BadRequest, ConfigError, GatewayError, NotFound, TooManyRequests
from gateway.flows.webhooks import destination_refusal
from gateway.json_input import check_text
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import EventType
from gateway.store.event_log_store import LoggedEvent
from gateway.store.store import Store
from gateway.store.webhook_store import WebhookStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Gateway-Webhook-Signature"
EVENT_ID_HEADER = "X-Gateway-Event-Id"  # the idempotency key: the same for every attempt at one event
EVENT_TYPE_HEADER = "X-Gateway-Event-Type"
SUBSCRIPTION_HEADER = "X-Gateway-Webhook-Id"
MAX_SUBSCRIPTIONS = 100
MAX_URL_CHARS = 2048
MAX_DESCRIPTION_CHARS = 200
SECRET_CHARS = (16, 256)
FIELDS = ("url", "secret", "events", "enabled", "description")


class WebhookEvent(StrEnum):
    """What a subscription may ask for; the ``type`` of a payload."""

    CONVERSATION_OPENED = "conversation.opened"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_CLOSED = "conversation.closed"
    CALL_STARTED = "call.started"
    CALL_ANSWERED = "call.answered"
    CALL_ENDED = "call.ended"
    CALLBACK_BOOKED = "callback.booked"
    CALLBACK_CLOSED = "callback.closed"
    MESSAGE_CREATED = "message.created"


_BY_TYPE = {
    EventType.OPENED: WebhookEvent.CONVERSATION_OPENED,
    EventType.ASSIGNED: WebhookEvent.CONVERSATION_ASSIGNED,
    EventType.CLOSED: WebhookEvent.CONVERSATION_CLOSED,
    EventType.CALL_STARTED: WebhookEvent.CALL_STARTED,
    EventType.CALL_ANSWERED: WebhookEvent.CALL_ANSWERED,
    EventType.CALL_ENDED: WebhookEvent.CALL_ENDED,
    EventType.MESSAGE: WebhookEvent.MESSAGE_CREATED,
}
_CALLBACK_ACTIONS = {"requested": WebhookEvent.CALLBACK_BOOKED, "closed": WebhookEvent.CALLBACK_CLOSED}

#: The timeline fields a payload's ``data`` carries, per type; nothing else leaves (client ids, addresses, context).
DATA_FIELDS: dict[WebhookEvent, tuple[str, ...]] = {
    WebhookEvent.CONVERSATION_OPENED: ("customer_id",),
    WebhookEvent.CONVERSATION_ASSIGNED: (
        "agent_id",
        "agent_name",
        "transferred_from",
        "transferred_by",
        "transferred_by_name",
    ),
    WebhookEvent.CONVERSATION_CLOSED: ("agent_id", "disposition"),
    WebhookEvent.CALL_STARTED: ("call_id", "channel"),
    WebhookEvent.CALL_ANSWERED: ("call_id", "agent_id", "agent_name", "wait_ms"),
    WebhookEvent.CALL_ENDED: ("call_id", "reason", "duration_ms"),
    WebhookEvent.CALLBACK_BOOKED: ("callback_id", "queue", "asap", "due_ms", "label", "phone", "max_attempts"),
    WebhookEvent.CALLBACK_CLOSED: ("callback_id", "outcome", "attempt", "max_attempts"),
    WebhookEvent.MESSAGE_CREATED: ("author", "text", "agent_id", "agent_name", "supervisor"),
}


_WHO = frozenset({"agent_id", "agent_name", "transferred_from"})


def webhook_event(typ: str, data: dict[str, Any]) -> WebhookEvent | None:
    """The webhook event a timeline event is, if any (notes, IVR steps, transcripts, ... are none)."""
    if typ == EventType.CALLBACK:
        return _CALLBACK_ACTIONS.get(str(data.get("action", "")))
    return _BY_TYPE.get(typ)  # type: ignore[call-overload]  # a StrEnum key is found by its string


def occurred_at(ms: int) -> str:
    """``2026-01-02T03:04:05.678Z``"""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def payload(event: LoggedEvent, kind: WebhookEvent) -> str:
    """The JSON body every subscription to ``kind`` gets for ``event`` (the same bytes on every attempt)."""
    # nobody is null, as the top-level agent_id is (the timeline writes "" for a conversation no agent had)
    data = {
        name: None if name in _WHO and event.data[name] == "" else event.data[name]
        for name in DATA_FIELDS[kind]
        if name in event.data
    }
    body = {
        "id": event.id,
        "type": kind,
        "occurred_at": occurred_at(event.ts),
        "conversation_id": event.cid,
        "queue": event.queue or None,
        "agent_id": event.agent_id or None,
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`` (Stripe's scheme)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# ---------------------------------------------------------------- subscriptions


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    secret: str
    events: tuple[WebhookEvent, ...]
    enabled: bool = True
    description: str = ""
    created_ms: int = 0
    updated_ms: int = 0

    def wants(self, kind: WebhookEvent, at_ms: int) -> bool:
        """Whether an event of ``kind`` that happened at ``at_ms`` goes to this subscription (not before it existed)."""
        return self.enabled and kind in self.events and at_ms >= self.created_ms

    def public(self, *, full_url: bool = True) -> dict[str, Any]:
        """What the REST API shows: everything but the secret; with ``full_url`` False (supervisors, the audit
        log) the URL only as far as its host (:func:`url_origin`): its path and query often hold a credential."""
        out = asdict(self)
        del out["secret"]
        out["events"] = list(self.events)
        if not full_url:
            out["url"] = url_origin(self.url)
        return out

    def dumps(self) -> str:
        return json.dumps({**asdict(self), "events": list(self.events)}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> Subscription:
        raw = json.loads(text)
        known = set(WebhookEvent.__members__.values())
        raw["events"] = tuple(WebhookEvent(e) for e in raw.get("events", ()) if e in known)
        return cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})


def url_origin(url: str) -> str:
    """``scheme://host[:port]/…``: a URL as far as it may be shown to those who may not see it whole (a path or
    query like Slack's, Zapier's or ``?token=`` is a credential)."""
    try:
        return str(URL(url).origin()) + "/…"
    except ValueError:
        return "…"


def url_host(url: str) -> str:
    """The host of a URL alone, for log lines."""
    try:
        return URL(url).host or "?"
    except ValueError:
        return "?"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(
            "'url' is required: the http(s) URL events are posted to", field="url", code=ErrorCode.MISSING_FIELD
        )
    text = check_text(value.strip(), "url", multiline=False)
    if len(text) > MAX_URL_CHARS:
        raise BadRequest(f"'url' is over {MAX_URL_CHARS} characters", field="url", code=ErrorCode.BAD_FIELD)
    try:
        url = URL(text)
    except ValueError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or not url.is_absolute():
        raise BadRequest("'url' must be an absolute http:// or https:// URL", field="url", code=ErrorCode.BAD_FIELD)
    if url.user is not None or url.password is not None:
        raise BadRequest("'url' must not carry a user name or password", field="url", code=ErrorCode.BAD_FIELD)
    if url.fragment:
        raise BadRequest("'url' must not have a #fragment", field="url", code=ErrorCode.BAD_FIELD)
    return str(url)


def _secret(value: object) -> str:
    low, high = SECRET_CHARS
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise BadRequest(
            f"'secret' must be a string of {low} to {high} characters", field="secret", code=ErrorCode.BAD_FIELD
        )
    return check_text(value, "secret", multiline=False)


def _events(value: object) -> tuple[WebhookEvent, ...]:
    known = list(WebhookEvent)
    if not isinstance(value, list) or not value:
        raise BadRequest(
            "'events' must be a non-empty list of: " + ", ".join(known), field="events", code=ErrorCode.BAD_FIELD
        )
    out: list[WebhookEvent] = []
    for item in value:
        if not isinstance(item, str) or item not in known:
            shown = item if isinstance(item, str) else type(item).__name__
            raise BadRequest(
                f"'events': unknown event type {shown[:40]!r} (one of: {', '.join(known)})",
                field="events",
                code=ErrorCode.BAD_FIELD,
            )
        if WebhookEvent(item) not in out:
            out.append(WebhookEvent(item))
    return tuple(out)


def _description(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_CHARS:
        raise BadRequest(
            f"'description' must be text of at most {MAX_DESCRIPTION_CHARS} characters",
            field="description",
            code=ErrorCode.BAD_FIELD,
        )
    return check_text(value, "description", multiline=False)


def parse_fields(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """A create (every required field) or update (any of them) body -> checked values; BadRequest names the field."""
    for name in body:
        if name not in FIELDS:
            raise BadRequest(f"unknown field '{name[:40]}'", field=name[:40], code=ErrorCode.BAD_FIELD)
    out: dict[str, Any] = {}
    if creating or "url" in body:
        out["url"] = _url(body.get("url"))
    if creating or "events" in body:
        if "events" not in body:
            raise BadRequest("'events' is required", field="events", code=ErrorCode.MISSING_FIELD)
        out["events"] = _events(body["events"])
    if "secret" in body:
        out["secret"] = _secret(body["secret"])
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise BadRequest("'enabled' must be true or false", field="enabled", code=ErrorCode.BAD_FIELD)
        out["enabled"] = body["enabled"]
    if "description" in body:
        out["description"] = _description(body["description"])
    return out


class Webhooks:
    """Managing subscriptions (the REST API's and the seed file's way in) and reading their delivery logs."""

    def __init__(self, store: Store, *, allow: Iterable[str] = (), clock: Callable[[], float] = time.time):
        self.db = WebhookStore(store)
        self.allow = tuple(allow)
        self.clock = clock

    async def check_destination(self, url: str) -> None:
        why = await destination_refusal(url, self.allow)
        if why is not None:
            raise BadRequest(
                f"'url' is not a destination webhooks may reach: {why} (see --webhook-allow)",
                field="url",
                code=ErrorCode.BAD_FIELD,
            )

    async def listing(self) -> list[Subscription]:
        subs = [Subscription.loads(doc) for doc in (await self.db.subscriptions()).values()]
        return sorted(subs, key=lambda s: (s.created_ms, s.id))

    async def get(self, sub_id: str) -> Subscription:
        doc = await self.db.subscription(sub_id) if _plausible_id(sub_id) else None
        if doc is None:
            raise NotFound("no such webhook subscription", field="id")
        return Subscription.loads(doc)

    async def create(self, body: dict[str, Any]) -> Subscription:
        fields = parse_fields(body, creating=True)
        await self.check_destination(fields["url"])
        if await self.db.count() >= MAX_SUBSCRIPTIONS:
            raise TooManyRequests(f"at most {MAX_SUBSCRIPTIONS} webhook subscriptions", field="url")
        now = int(self.clock() * 1000)
        sub = Subscription(
            id="wh_" + secrets.token_hex(8),
            secret=fields.pop("secret", None) or new_secret(),
            created_ms=now,
            updated_ms=now,
            **fields,
        )
        if not await self.db.create(sub.id, sub.dumps()):
            raise GatewayError("webhook id collision; try again")
        log.info("webhook subscription %s created for host %s: %s", sub.id, url_host(sub.url), ", ".join(sub.events))
        return sub

    async def update(self, sub_id: str, body: dict[str, Any]) -> Subscription:
        current = await self.get(sub_id)
        fields = parse_fields(body, creating=False)
        if "url" in fields:
            await self.check_destination(fields["url"])
        sub = replace(current, **fields, updated_ms=int(self.clock() * 1000))
        if not await self.db.replace(sub.id, sub.dumps()):
            raise NotFound("no such webhook subscription", field="id")
        log.info("webhook subscription %s updated: %s", sub.id, ", ".join(sorted(fields)))
        return sub

    async def delete(self, sub_id: str) -> None:
        if not _plausible_id(sub_id) or not await self.db.delete(sub_id):
            raise NotFound("no such webhook subscription", field="id")
        log.info("webhook subscription %s deleted", sub_id)

    async def deliveries(self, sub_id: str, limit: int) -> list[dict[str, Any]]:
        await self.get(sub_id)
        return [json.loads(e) for e in await self.db.deliveries(sub_id, limit)]

    async def seed(self, path: Path) -> list[str]:
        """Create or replace the subscriptions of a seed file (``--webhooks-file``); their ids."""
        now = int(self.clock() * 1000)
        done = []
        for sub_id, fields in load_seed(path):
            try:
                await self.check_destination(fields["url"])
            except BadRequest as exc:
                raise ConfigError(f"{path}: webhook {sub_id}: {exc.message}", field="webhooks_file") from None
            existing = await self.db.subscription(sub_id)
            created = Subscription.loads(existing).created_ms if existing is not None else now
            sub = Subscription(id=sub_id, created_ms=created, updated_ms=now, **fields)
            await self.db.put(sub.id, sub.dumps())
            done.append(sub_id)
        if done:
            log.info("webhook subscriptions seeded from %s: %s", path, ", ".join(done))
        return done


def _plausible_id(sub_id: str) -> bool:
    return 0 < len(sub_id) <= 64 and sub_id.isascii() and sub_id.replace("_", "").replace("-", "").isalnum()


def load_seed(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """``[[webhook]]`` tables of a TOML file -> (id, checked fields); ConfigError naming the entry."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}", field="webhooks_file") from None
    out: list[tuple[str, dict[str, Any]]] = []
    for n, entry in enumerate(doc.get("webhook", []), 1):
        where = f"{path}: webhook #{n}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table", field="webhooks_file")
        body = dict(entry)
        sub_id = body.pop("id", None)
        if not isinstance(sub_id, str) or not _plausible_id(sub_id) or any(sub_id == i for i, _ in out):
            raise ConfigError(f"{where}: 'id' must be a unique name of letters, digits, - and _", field="webhooks_file")
        if "secret" not in body:
            raise ConfigError(f"{where}: 'secret' is required", field="webhooks_file")
        try:
            out.append((sub_id, parse_fields(body, creating=True)))
        except BadRequest as exc:
            raise ConfigError(f"{where}: {exc.message}", field="webhooks_file") from None
    return out
