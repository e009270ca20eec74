"""The JSON Schemas of what the HTTP API sends and takes (``components.schemas`` of /api/openapi.json).

The vocabulary comes from gateway/protocol/ (error codes, states, event types, call statuses) and the limits from
the modules that enforce them, so the document cannot list a value the gateway does not have. Objects the gateway
builds whole are closed (``additionalProperties: false``): tests/integration/test_openapi.py validates real answers
against these, so a field added to an answer without being added here fails it. A timeline event stays open: its
fields are per type (docs/protocol.md "Shapes").
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from gateway.contact.canned import MAX_TEXT, MAX_TITLE, SHORTCUT
from gateway.contact.queues import QUEUE_NAME, MaxWaitAction
from gateway.contact.widget_settings import COLOUR
from gateway.protocol.codes import NEVER_SENT, ErrorCode
from gateway.protocol.states import CallbackState, CallStatus, ConversationState, EventType, MonitorMode, Role

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def enum_of(values: type[StrEnum] | list[str], description: str = "") -> Schema:
    out: Schema = {"type": "string", "enum": [str(v) for v in values]}
    return {**out, "description": description} if description else out


def closed(required: dict[str, Schema], optional: dict[str, Schema] | None = None, description: str = "") -> Schema:
    """An object with exactly these properties (``required`` always there, ``optional`` when they apply)."""
    out: Schema = {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
    }
    return {**out, "description": description} if description else out


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}


def code_list_shapes(name: str, key: str, code_use: str) -> dict[str, Schema]:
    """A center code list's answer and input (gateway/contact/code_lists.py): ``{KEY: [{code, label}], version}``."""
    code = closed(
        {
            "code": {**STR, "pattern": "^[a-z0-9][a-z0-9_-]{0,29}$", "description": code_use},
            "label": {**STR, "maxLength": 40, "description": "what the desk and the wallboard show"},
        }
    )
    items = {"type": "array", "items": code}
    return {
        name: closed({key: items, "version": {**INT, "description": "0: the defaults, no admin wrote a list yet"}}),
        f"{name}Input": closed(
            {key: {**items, "minItems": 1, "maxItems": 20}},
            {"version": {**INT, "minimum": 0, "description": "the version read (0, or left out, for the first list)"}},
        ),
    }


MS: Schema = {"type": "integer", "minimum": 0, "description": "milliseconds since the epoch"}
BOOL: Schema = {"type": "boolean"}
WIDGET_FIELDS: dict[str, Schema] = {
    "title": STR,
    "colour": {**STR, "pattern": COLOUR.pattern},
    "accent": {**STR, "pattern": COLOUR.pattern},
    "greeting": STR,
    "launcher_text": STR,
    "language": STR,
    "hours_queue": STR,
}

CALLBACK_PUBLIC: dict[str, Schema] = {
    "id": STR,
    "state": enum_of([s for s in CallbackState if s != CallbackState.CLOSED]),
    "queue": STR,
    "label": STR,
    "phone": STR,
    "due_ms": MS,
    "attempt": INT,
    "max_attempts": INT,
    "ring_until": {**INT, "description": "ms while ringing, else 0"},
}

SKILLS: Schema = {
    "type": "object",
    "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 10},
    "description": 'skill -> level 1-10, e.g. {"billing": 3}',
}
ROLES: Schema = {"type": "array", "items": enum_of(Role), "minItems": 1}
AGENT_FIELDS: dict[str, Schema] = {
    "name": {**STR, "maxLength": 80},
    "capacity": {**INT, "minimum": 1, "maximum": 50, "description": "concurrent chats"},
    "skills": SKILLS,
    "roles": ROLES,
}
PASSWORD: Schema = {**STR, "minLength": 10, "maxLength": 256, "description": "not in the bundled breached list"}
ADMIN_SCHEMAS: dict[str, Schema] = {
    "AdminAgent": closed(
        {
            "id": STR,
            **AGENT_FIELDS,
            "disabled": BOOL,
            "must_change_password": BOOL,
            "sessions": {
                "type": "array",
                "items": closed({"node": STR, "since": MS, "address": STR}),
                "description": "the agent's live login sessions: the node that logged them in, when, from where",
            },
        }
    ),
    "AdminAgents": closed({"agents": {"type": "array", "items": ref("AdminAgent")}}),
    "NewAgent": closed(
        {"id": {**STR, "pattern": "^[a-z0-9][a-z0-9_.-]{0,31}$"}, "password": PASSWORD},
        {
            **AGENT_FIELDS,
            "must_change_password": {
                **BOOL,
                "description": "the password is one-time: the agent's first login must change it (default true)",
            },
        },
        description="name defaults to the id, capacity to 3, skills to none, roles to [agent]; the password is a "
        "one-time password unless must_change_password is false",
    ),
    "AgentPatch": closed({}, {**AGENT_FIELDS, "disabled": BOOL}, description="only the fields to change"),
    "OneTimePassword": closed({"password": PASSWORD}),
    "OwnPassword": closed(
        {"current": {**STR, "maxLength": 256}, "new": PASSWORD},
        {"agent_id": {**STR, "description": "without a token only: the agent whose one-time password this is"}},
    ),
    "AuditEntry": closed(
        {
            "id": {**STR, "description": "the entry's id, also the cursor `before` of the next page"},
            "at": MS,
            "actor": {**STR, "description": "the agent id of who did it; `cli:USER` for the command line"},
            "action": {**STR, "description": "e.g. agent.add, agent.remove, queue.update, flow.publish"},
            "target": STR,
            "before": {"description": "the object before (null: created); secrets shown as ***"},
            "after": {"description": "the object after (null: removed); secrets shown as ***"},
        }
    ),
    "AuditPage": closed({"entries": {"type": "array", "items": ref("AuditEntry")}, "next": nullable(STR)}),
}

FLOW_ERROR = closed(
    {"line": nullable(INT), "column": nullable(INT), "node": nullable(STR), "code": STR, "message": STR},
    description="One loader or publish problem, on its line (the same as `flows validate` prints).",
)

SCHEMAS: dict[str, Schema] = {
    "ErrorCode": enum_of(
        [c for c in ErrorCode if c not in NEVER_SENT], "gateway/protocol/codes.py; docs/protocol.md 'Error codes'"
    ),
    "Problem": closed(
        {"code": ref("ErrorCode"), "message": {**STR, "description": "for people; may change"}},
        {
            "field": {**STR, "description": "the input at fault (a body field, a query parameter, `token`)"},
            "retry_after": {**INT, "minimum": 0, "description": "seconds (rate_limited, store_unavailable)"},
            "request_id": {**STR, "description": "internal: the log holds the traceback under this id"},
            "errors": {
                "type": "array",
                "items": FLOW_ERROR,
                "description": "bad_flow: every loader or publish error of the flow, on its line",
            },
            "current": {**STR, "description": "stale_version: the flow's newest version id ('' for none)"},
            "diff": {**STR, "description": "stale_version: unified diff from the version edited to the newest"},
        },
        "Every error answer (the problem_json middleware of gateway/wire/routes.py).",
    ),
    "Status": closed({"status": STR}),
    "LoggedOut": closed(
        {
            "status": enum_of(["logged_out"]),
            "requeued": {
                **INT,
                "description": "chats put back in the queue: no other desk of the agent was open, and a chat still "
                "assigned to them (no call in progress) goes back at the place it had",
            },
        }
    ),
    "StatusInput": closed({"status": enum_of(["away", "available"])}),
    "AgentPresence": closed(
        {
            "id": STR,
            "name": STR,
            "status": enum_of(["available", "away", "offline"], "offline: no desk of theirs is open"),
            "capacity": INT,
            "active": {**INT, "description": "the conversations they hold"},
            "activity": enum_of(["", "ringing", "on_call", "wrap_up"]),
            "activity_until": MS,
            "activity_conversation": STR,
            "activity_since": MS,
            "away_reason": STR,
        },
        description="An agent's presence, as their desk's `agent` frame has it (docs/protocol.md).",
    ),
    "SignedOut": closed(
        {
            "status": enum_of(["signed_out"]),
            "sessions": {**INT, "description": "login sessions ended"},
            "requeued": {**INT, "description": "chats put back in the queue at the place they had"},
        }
    ),
    "Ready": closed(
        {"status": enum_of(["ready", "unavailable", "draining", "full", "taken_over"])},
        {
            "redis": {**STR, "description": "loopback or supervisors"},
            "node": {**STR, "description": "likewise"},
            "loop_lag_ms": {
                **INT,
                "description": "likewise, when full or draining: the event loop's lag (median of the last 2 s)",
            },
            "late_frames_percent": {
                "type": "number",
                "description": "likewise: the share of the frames due over the last 2 s that went out late",
            },
            "loop_cpu_percent": {
                **INT,
                "description": "likewise: the event loop thread's CPU over the last 2 s, in % of a core",
            },
        },
    ),
    "Stats": closed(
        {
            "node": STR,
            "calls": {"type": "object", "additionalProperties": INT, "required": ["active_calls", "calls"]},
            "chat_bots": INT,
        }
    ),
    "LoginRequest": closed(
        {"agent_id": {**STR, "maxLength": 256}, "password": {**STR, "maxLength": 256}},
        {
            "ask_password_change": {
                **BOOL,
                "description": "true: a one-time password answers 200 PasswordChangeRequired, not 403 (a browser "
                "logs every 403 as an error; the desk expects this one)",
            }
        },
    ),
    "PasswordChangeRequired": closed(
        {"password_change_required": {"const": True}, "message": STR},
        description="the password is right but set for one use: choose your own (POST /api/agent/password), then "
        "log in; no session was made",
    ),
    "AccessToken": closed(
        {
            "token": STR,
            "expires_in": {**INT, "description": "seconds"},
            "session_expires_at": {**INT, "description": "epoch seconds"},
        }
    ),
    "Login": closed(
        {
            "token": STR,
            "expires_in": INT,
            "session_expires_at": INT,
            "agent": closed({"id": STR, "name": STR, "roles": {"type": "array", "items": STR}}),
        }
    ),
    "ConversationRow": closed(
        {
            "id": STR,
            "customer_id": nullable(STR),
            "customer_name": nullable({**STR, "description": "the name the site's token vouched for"}),
            "state": nullable(enum_of(ConversationState)),
            "queue": nullable(STR),
            "agent_id": nullable({**STR, "description": "the conversation's last agent"}),
            "agent_name": nullable(STR),
            "created_at": MS,
            "updated_at": MS,
            "disposition": nullable(STR),
            "channels": {"type": "array", "items": enum_of(["chat", "call"])},
            "messages": INT,
            "last_text": nullable(STR),
        }
    ),
    "ConversationPage": closed(
        {
            "conversations": {"type": "array", "items": ref("ConversationRow")},
            "next": nullable({**STR, "description": "the cursor of the next page; null: no more"}),
            "scanned": {**INT, "description": "conversations this request examined (at most 2,000)"},
        }
    ),
    "Callback": closed(CALLBACK_PUBLIC, description="A conversation's open callback as clients see it."),
    "OpenCallback": closed(
        {**CALLBACK_PUBLIC, "conversation_id": STR, "customer_id": STR, "agent_id": STR, "expires_ms": MS}
    ),
    "Rating": closed({"score": {**INT, "minimum": 1, "maximum": 5}, "comment": STR, "rated_at": MS}),
    "ConversationSummary": closed(
        {
            "id": STR,
            "customer_id": nullable(STR),
            "state": nullable(enum_of(ConversationState)),
            "queue": nullable(STR),
            "agent_id": nullable(STR),
            "agent_name": nullable(STR),
            "created_at": MS,
            "updated_at": MS,
            "queued_at": nullable(MS),
            "context": {"type": "object", "additionalProperties": STR},
            "last_text": nullable(STR),
            "calls": INT,
            "callback": nullable(ref("Callback")),
            "rating": nullable(ref("Rating")),
            "disposition": nullable(STR),
        }
    ),
    "Event": {
        "type": "object",
        "description": "One timeline entry; the fields besides these four are per type (docs/protocol.md Shapes).",
        "required": ["id", "type", "ts", "conversation_id"],
        "properties": {
            "id": {**STR, "pattern": r"^\d+-\d+$", "description": "the Redis stream id ms-seq"},
            "type": enum_of(EventType),
            "ts": MS,
            "conversation_id": STR,
            "playable": {**BOOL, "description": "recording events: whether this agent may play it"},
        },
    },
    "Conversation": closed(
        {"conversation": ref("ConversationSummary"), "events": {"type": "array", "items": ref("Event")}}
    ),
    "SiteUser": closed({"customer_id": STR, "site": STR}),
    "CustomerExport": closed(
        {
            "customer_id": STR,
            "exported_at": MS,
            "conversations": {
                "type": "array",
                "items": ref("Conversation"),
                "description": "newest first; a rated one's summary has its `rating`",
            },
            "callbacks": {"type": "array", "items": {"type": "object", "description": "a callback's stored fields"}},
            "attachments": {
                "type": "array",
                "items": closed(
                    {
                        "conversation_id": STR,
                        "attachment_id": nullable(STR),
                        "name": nullable(STR),
                        "media_type": nullable(STR),
                        "size": nullable(INT),
                    }
                ),
            },
            "recordings": {
                "type": "array",
                "items": closed({"conversation_id": STR, "file": nullable(STR), "duration_ms": nullable(INT)}),
            },
        },
        description="Everything kept about a customer (GET /api/admin/customers/{customer_id}).",
    ),
    "CustomerErasure": closed(
        {
            name: {**INT, "minimum": 0}
            for name in (
                "conversations",
                "closed",
                "callbacks",
                "attachments",
                "recordings",
                "event_log_entries",
                "webhook_payloads",
            )
        }
        | {"customer_id": STR, "erased_at": MS},
        description="What an erasure removed: counts (`closed`: open conversations closed first; `recordings`: files "
        "in this node's data directory).",
    ),
    "CannedInput": closed(
        {
            "title": {**STR, "minLength": 1, "maxLength": MAX_TITLE},
            "text": {**STR, "minLength": 1, "maxLength": MAX_TEXT},
        }
    ),
    "Canned": closed(
        {
            "shortcut": {**STR, "pattern": SHORTCUT.pattern},
            "title": STR,
            "text": STR,
            "updated_by": STR,
            "updated_at": MS,
            "scope": enum_of(["shared", "personal"]),
        }
    ),
    "CannedList": closed(
        {"shared": {"type": "array", "items": ref("Canned")}, "personal": {"type": "array", "items": ref("Canned")}}
    ),
    "LiveCall": closed(
        {
            "call_id": STR,
            "conversation_id": STR,
            "agent_id": STR,
            "agent_name": STR,
            "status": enum_of(CallStatus),
            "held": BOOL,
            "reconnecting": BOOL,  # the agent's leg dropped: the caller holds while their desk comes back
            "monitors": {"type": "object", "additionalProperties": enum_of(MonitorMode)},
        }
    ),
    "LiveCalls": closed({"calls": {"type": "array", "items": ref("LiveCall")}}),
    "OpenCallbacks": closed({"callbacks": {"type": "array", "items": ref("OpenCallback")}}),
    "AttachmentStored": closed({"conversation_id": STR, "event_id": STR, "duplicate": BOOL}),
    # ---- agents managed by admins (gateway/wire/admin_agents.py) and the audit log
    **ADMIN_SCHEMAS,
}

_SKILLS = {"type": "object", "additionalProperties": {**INT, "minimum": 1, "maximum": 10}}
_HOURS = closed(
    {"timezone": STR, "schedule": {"type": "object", "additionalProperties": STR}},
    {"holidays": {"type": "array", "items": STR}},
    "opening hours: an IANA time zone, days ('mon-fri', 'sat') to ranges ('09:00-17:00'), holidays "
    "(YYYY-MM-DD or MM-DD)",
)
_QUEUE_FIELDS = {
    "name": {**STR, "pattern": QUEUE_NAME.pattern},
    "skills": _SKILLS,
    "priority": {**INT, "minimum": -1000, "maximum": 1000, "description": "higher is routed first, across queues"},
    "service_level_seconds": {**INT, "minimum": 1, "maximum": 3600},
    "announce_seconds": {
        **INT,
        "minimum": 0,
        "maximum": 3600,
        "description": "0: no announcements to callers; otherwise 5 to 3600 (an announcement takes a few seconds)",
    },
    "music": {
        **STR,
        "description": "'' (the generated music) or a wav/mp3/ogg file of the flows directory (GET /api/admin/music): "
        "callers waiting in the queue hear it; a newly named file must exist there, decode and last 1 s to 10 minutes",
    },
    "max_wait_seconds": {**INT, "minimum": 0, "maximum": 86400, "description": "0: no maximum"},
    "on_max_wait": closed({"action": enum_of(MaxWaitAction), "target": STR}),
    "callback": closed(
        {
            "attempts": {**INT, "minimum": 1, "maximum": 10},
            "spacing_seconds": {**INT, "minimum": 60, "maximum": 86400},
            "expiry_hours": {"type": "number", "minimum": 1, "maximum": 720},
        }
    ),
    "hours": nullable(_HOURS),
}
QUEUE_SHAPES: dict[str, Schema] = {
    "Queue": closed({**_QUEUE_FIELDS, "version": INT}, description="A queue (gateway/contact/queues.py)."),
    "QueueInput": {
        **closed({}, {**_QUEUE_FIELDS, "version": {**INT, "description": "the version read (0: a new queue)"}}),
        "description": "A queue; missing fields take their defaults.",
    },
    "QueueList": closed({"queues": {"type": "array", "items": ref("Queue")}}),
    **code_list_shapes("AwayReasons", "reasons", "what the status frame names"),
    **code_list_shapes("Dispositions", "dispositions", "what the close frame names"),
    "MusicFiles": closed(
        {"files": {"type": "array", "items": closed({"name": STR, "bytes": INT})}},
    ),
    "WidgetSettings": closed(WIDGET_FIELDS),
    "WidgetSettingsInput": closed({}, WIDGET_FIELDS, "the settings; a field left out takes its default"),
    "PublicWidgetSettings": closed(
        {
            "title": STR,
            "colour": STR,
            "accent": STR,
            "greeting": STR,
            "launcher_text": STR,
            "language": STR,
            "hours_queue": STR,
            "hours_open": nullable(BOOL),
        }
    ),
}
SCHEMAS.update(QUEUE_SHAPES)
