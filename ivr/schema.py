"""The JSON Schema (draft 2020-12) of flow files, for editors, and the key tables the loader checks.

This module is the one source of truth for which keys each node kind takes
and which are required: :mod:`ivr.loader` reads :func:`node_keys` from here,
and ``ivr/flow.schema.json`` is generated from :func:`flow_schema`
(``python -m ivr.schema`` rewrites it; a test keeps it in sync). Point an
editor at it, e.g. with a first line
``# yaml-language-server: $schema=../flow.schema.json``.

The loader checks more than the schema can (targets exist, nodes are
reachable, templates and regexes parse, time zones exist, audio files exist).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .model import SPEECH_ENGINES, SPEECH_STRICTNESS, NodeKind

SCHEMA_PATH = Path(__file__).with_name("flow.schema.json")

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _text(description: str) -> Schema:
    return {"type": "string", "description": description}


_NODE = _ref("node_name")
_PROMPT = _ref("prompt")
_DURATION = _ref("duration")
# a webhook URL: literal http(s) scheme, host and port; a {{ variable }} only after the first / ? or #
WEBHOOK_URL_PATTERN = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#{}\s]+([/?#]|$)"

COMMON_PROPERTIES: dict[str, Schema] = {
    "type": {"description": "the node kind"},
    "description": _text("a note for admins; ignored by the interpreter"),
    "entry": {"type": "boolean", "description": "other flows may jump here with 'flow: this#node'"},
    "trust_unverified": {
        "type": "boolean",
        "description": "deliberately let context.* variables (sent by the "
        "customer's browser, unverified) decide this node's "
        "routing or URL",
    },
}

_REPROMPTS: Schema = {
    "type": "array",
    "minItems": 1,
    "items": {"anyOf": [_ref("prompt_item"), {"type": "array", "minItems": 1, "items": _ref("prompt_item")}]},
}
_SPEECH_FALLBACK: Schema = {
    "description": "after repeated failed spoken answers (default 2) a voice question takes keys only: 'keys' "
    "(the default), 'none' (never), or {after: N, prompt: what to say instead of the question}",
    "anyOf": [
        {"enum": ["keys", "none"]},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "to": {"const": "keys"},
                "after": {"type": "integer", "minimum": 1, "maximum": 10},
                "prompt": _PROMPT,
            },
        },
    ],
}

_ASK: dict[str, Schema] = {
    "prompt": _PROMPT,
    "var": {**_ref("var_name"), "description": "the context variable this node sets"},
    "timeout": {**_DURATION, "description": "time to wait for the first key or word after the prompt"},
    "chat_timeout": {**_DURATION, "description": "time to wait for an answer in chat (default: wait)"},
    "retries": {
        "type": "integer",
        "minimum": 0,
        "maximum": 10,
        "description": "re-asks after a no-input or no-match before the fallback (default 2)",
    },
    "no_input_prompt": {**_PROMPT, "description": "said before the question again after silence"},
    "no_match_prompt": {**_PROMPT, "description": "said before the question again after a no-match"},
    "reprompts": {
        **_REPROMPTS,
        "description": "said instead of the question after the 1st, 2nd, ... no-match (the last one again after "
        "that); replaces no_match_prompt. Default: an apology and the question, then (voice menus) the list of keys",
    },
    "no_input_prompts": {
        **_REPROMPTS,
        "description": "said instead of the question after the 1st, 2nd, ... silence; replaces no_input_prompt",
    },
    "speech_fallback": _SPEECH_FALLBACK,
    "fallback": {**_NODE, "description": "where to go when the retries are used up"},
    "speech": {"type": "array", "items": {"type": "string"}, "description": "speech recognition hints"},
    "min_confidence": {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "speech results below this are a no-match (default 0.5)",
    },
    "skip_if_known": {"type": "boolean", "description": "skip the question when 'var' is already in the context"},
    "known_prompt": {**_PROMPT, "description": "said instead of the question when it is skipped"},
}

# kind -> (required keys, properties besides the common ones)
NODE_PROPERTIES: dict[NodeKind, tuple[tuple[str, ...], dict[str, Schema]]] = {
    NodeKind.SAY: (("prompt", "next"), {"prompt": _PROMPT, "next": _NODE}),
    NodeKind.PLAY: (
        ("file", "next"),
        {
            "file": {
                "type": "string",
                "pattern": r"(?i)\.(wav|mp3|ogg)$",
                "description": "audio file, relative to the flow file",
            },
            "chat": _text("what to post instead in a chat (default: nothing)"),
            "barge_in": {"type": "boolean"},
            "next": _NODE,
        },
    ),
    NodeKind.GATHER: (
        ("prompt", "var", "next", "fallback"),
        {
            **_ASK,
            "min_digits": {"type": "integer", "minimum": 1, "maximum": 64},
            "max_digits": {"type": "integer", "minimum": 1, "maximum": 64},
            "terminator": {
                "type": "string",
                "pattern": "^[0-9*#]?$",
                "description": "key that ends the input (default '#'; quote it in YAML); '' for none",
            },
            "inter_digit_timeout": _DURATION,
            "confirm": {
                "enum": ["never", "speech", "always"],
                "description": "read the answer back and ask 'is that right?' (yes / 1, no / 2) before taking "
                "it: for spoken answers, every answer, or never (default)",
            },
            "confirm_prompt": {**_PROMPT, "description": "the read-back question; {{ answer }} is the number heard"},
            "next": _NODE,
        },
    ),
    NodeKind.MENU: (
        ("prompt", "choices", "fallback"),
        {
            **_ASK,
            "choices": {"type": "array", "minItems": 1, "items": _ref("choice")},
            "confirm": {
                "enum": ["never", "speech"],
                "description": "ask back a spoken answer the recognizer is not sure of ('Did you say Billing?', yes / "
                "1, no / 2) before taking it: speech, or never (default)",
            },
            "confirm_below": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "with confirm: speech, the confidence under which a spoken answer is asked back "
                "(default 0.8; 1 asks back every spoken answer)",
            },
            "confirm_prompt": {**_PROMPT, "description": "the question; {{ answer }} is the choice's label"},
        },
    ),
    NodeKind.SET: (
        ("vars", "next"),
        {
            "vars": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": _ref("var_name"),
                "additionalProperties": {"type": ["string", "number", "boolean"]},
            },
            "next": _NODE,
        },
    ),
    NodeKind.BRANCH: (
        ("cases", "else"),
        {
            "cases": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["when", "next"],
                    "additionalProperties": False,
                    "properties": {"when": _ref("condition"), "next": _NODE},
                },
            },
            "else": _NODE,
        },
    ),
    NodeKind.HOURS: (
        ("open", "closed"),
        {
            "queue": _text("use this queue's opening hours (instead of timezone and schedule)"),
            "timezone": _text("IANA time zone, e.g. Europe/Paris"),
            "schedule": _ref("schedule"),
            "holidays": {"type": "array", "items": {"type": "string", "pattern": r"^(\d{4}-)?\d{2}-\d{2}$"}},
            "open": _NODE,
            "closed": _NODE,
        },
    ),
    NodeKind.WEBHOOK: (
        ("url", "next", "on_error"),
        {
            "url": {
                **_text(
                    "http(s) URL with its scheme and host written out; {{ variables }} only after the first "
                    "'/' or '?' (values are percent-encoded), e.g. https://crm.example.com/c/{{ account }}"
                ),
                "pattern": WEBHOOK_URL_PATTERN,
            },
            "method": {"enum": ["GET", "POST"]},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "timeout": _DURATION,
            "next": _NODE,
            "on_error": _NODE,
        },
    ),
    NodeKind.QUEUE: (
        ("queue",),
        {
            "queue": _text("queue name; may use {{ variables }}"),
            "priority": {"type": "integer"},
            "skills": {"type": "array", "items": {"type": "string"}},
            "record": {"type": "boolean", "description": "record the call (both sides) once an agent answers"},
            "transcribe": {"type": "boolean", "description": "live transcript of both sides once an agent answers"},
            "prompt": _PROMPT,
        },
    ),
    NodeKind.GOTO: (
        ("flow",),
        {
            "flow": {
                "type": "string",
                "pattern": r"^[A-Za-z0-9_-]+(#[A-Za-z_][A-Za-z0-9_-]*)?$",
                "description": "another flow, 'name' or 'name#node'",
            },
            "next": {**_NODE, "description": "makes it a sub-flow call: come back here on 'return'"},
        },
    ),
    NodeKind.RETURN: ((), {}),
    NodeKind.HANGUP: ((), {"prompt": _PROMPT, "reason": {"type": "string"}}),
    NodeKind.QUEUE_STATUS: (
        ("queue", "next"),
        {"queue": _text("the queue to look at; may use {{ variables }}"), "next": _NODE},
    ),
    NodeKind.CALLBACK: (
        ("prompt", "queue", "choices", "next", "fallback"),
        {
            **{k: v for k, v in _ASK.items() if k not in ("skip_if_known", "known_prompt")},
            "queue": _text("the queue the callback waits in; may use {{ variables }}"),
            "choices": {"type": "array", "minItems": 1, "items": _ref("callback_choice")},
            "next": {**_NODE, "description": "where the flow goes once a callback is booked"},
            "timezone": _text("IANA time zone of the HH:MM slots (default UTC)"),
            "phone_var": {
                **_ref("var_name"),
                "description": "variable with a number to call when the browser does not answer",
            },
            "priority": {"type": "integer"},
            "skills": {"type": "array", "items": {"type": "string"}},
            "attempts": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10,
                "description": "delivery attempts before the callback is closed as unreachable (default 3)",
            },
            "retry_after": {**_DURATION, "description": "spacing between attempts (default 10m)"},
            "expire_after": {**_DURATION, "description": "closed as expired if not delivered by then (default 24h)"},
        },
    ),
}

TOP_PROPERTIES: dict[str, Schema] = {
    "description": _text("what this flow is for"),
    "start": {**_NODE, "description": "the first node"},
    "defaults": _ref("defaults"),
    "nodes": {"type": "object", "minProperties": 1, "propertyNames": _NODE, "additionalProperties": _ref("node")},
}
TOP_REQUIRED = ("start", "nodes")

DEFAULTS_PROPERTIES: dict[str, Schema] = {
    "voice": _text("text-to-speech voice"),
    "language": _text("language tag, e.g. en-US"),
    "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 4},
    "speech_engine": {
        "enum": list(SPEECH_ENGINES),
        "description": "pin a speech recognizer; 'none': keys only (default: what the gateway has)",
    },
    "speech_language": _text("language callers speak, e.g. en, ko (default: 'language')"),
    "speech_strictness": {
        "enum": list(SPEECH_STRICTNESS),
        "description": "'strict': fewer words outside a menu routed, more menu words rejected, slower (default: normal)",
    },
    "timeout": _DURATION,
    "inter_digit_timeout": _DURATION,
    "chat_timeout": _DURATION,
    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
    "min_confidence": {"type": "number", "minimum": 0, "maximum": 1},
    "no_input_prompt": _PROMPT,
    "no_match_prompt": _PROMPT,
    "speech_fallback": _SPEECH_FALLBACK,
}

PROMPT_PROPERTIES: dict[str, Schema] = {
    "say": _text("text to speak (and to post in chat unless 'chat' is given)"),
    "play": {"type": "string", "pattern": r"(?i)\.(wav|mp3|ogg)$", "description": "audio file (voice only)"},
    "chat": _text("text to post in a chat instead of 'say' ('' posts nothing)"),
    "barge_in": {"type": "boolean", "description": "a key or word interrupts it (default true)"},
    "voice": {"type": "string"},
    "language": {"type": "string"},
    "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 4},
}

CHOICE_PROPERTIES: dict[str, Schema] = {
    "key": {
        "type": ["string", "integer"],
        "pattern": "^[0-9*#]$",
        "minimum": 0,
        "maximum": 9,
        "description": "the DTMF key (quote * and #)",
    },
    "label": _text("button text in chat (default: value)"),
    "value": _text("stored in the menu's var (default: the key)"),
    "words": {
        "type": "array",
        "items": {"type": "string"},
        "description": "spoken or typed words that pick this choice",
    },
    "only": {"enum": ["voice", "chat"], "description": "offer this choice on one channel only"},
    "next": _NODE,
}
CHOICE_REQUIRED = ("key", "next")

CALLBACK_CHOICE_PROPERTIES: dict[str, Schema] = {
    **{k: v for k, v in CHOICE_PROPERTIES.items() if k != "next"},
    "when": {
        "type": "string",
        "pattern": r"^(asap|([01][0-9]|2[0-3]):[0-5][0-9])$",
        "description": "book a callback: 'asap' (keeps the place in the queue) or a local time 'HH:MM'",
    },
    "next": {**_NODE, "description": "a choice without 'when' goes here without booking"},
}
CALLBACK_CHOICE_REQUIRED = ("key",)

CONDITION_OPERATORS = ("equals", "not_equals", "in", "not_in", "matches", "exists", "gt", "gte", "lt", "lte")


def node_keys(kind: NodeKind) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required keys, all allowed keys) of a node kind."""
    required, props = NODE_PROPERTIES[kind]
    return required, tuple(COMMON_PROPERTIES) + tuple(props)


def _object(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    out: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def flow_schema() -> Schema:
    """The whole JSON Schema document."""
    scalar = {"type": ["string", "number", "boolean"]}
    defs: dict[str, Schema] = {
        "node_name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_-]*$"},
        "var_name": {"type": "string", "pattern": r"^[a-z_][a-z0-9_.]*$"},
        "duration": {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?\s*(ms|s|m|h)$"},
            ],
            "description": "seconds, or '500ms', '5s', '2m', '1h'",
        },
        "prompt_item": {
            "anyOf": [
                {"type": "string", "description": "text to speak and to post in chat; may use {{ variables }}"},
                {
                    **_object(PROMPT_PROPERTIES),
                    "anyOf": [{"required": ["say"]}, {"required": ["play"]}, {"required": ["chat"]}],
                },
            ]
        },
        "prompt": {"anyOf": [_ref("prompt_item"), {"type": "array", "minItems": 1, "items": _ref("prompt_item")}]},
        "choice": _object(CHOICE_PROPERTIES, CHOICE_REQUIRED),
        "callback_choice": {
            **_object(CALLBACK_CHOICE_PROPERTIES, CALLBACK_CHOICE_REQUIRED),
            "oneOf": [{"required": ["when"]}, {"required": ["next"]}],
        },
        "condition": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {
                "var": _ref("var_name"),
                "equals": scalar,
                "not_equals": scalar,
                "in": {"type": "array", "items": scalar},
                "not_in": {"type": "array", "items": scalar},
                "matches": {"type": "string"},
                "exists": {"type": "boolean"},
                "gt": {"type": "number"},
                "gte": {"type": "number"},
                "lt": {"type": "number"},
                "lte": {"type": "number"},
                "all": {"type": "array", "minItems": 1, "items": _ref("condition")},
                "any": {"type": "array", "minItems": 1, "items": _ref("condition")},
                "not": _ref("condition"),
            },
        },
        "schedule": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {
                "pattern": r"^\s*(mon|tue|wed|thu|fri|sat|sun)(\s*-\s*(mon|tue|wed|thu|fri|sat|sun))?"
                r"(\s*,\s*(mon|tue|wed|thu|fri|sat|sun)(\s*-\s*(mon|tue|wed|thu|fri|sat|sun))?)*"
                r"\s*$"
            },
            "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        },
        "defaults": _object(DEFAULTS_PROPERTIES),
        "node": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": [k.value for k in NodeKind]}},
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": k.value}}, "required": ["type"]},
                    "then": _ref(f"node_{k.value}"),
                }
                for k in NodeKind
            ],
        },
    }
    for kind, (required, props) in NODE_PROPERTIES.items():
        node = _object({**COMMON_PROPERTIES, **props, "type": {"const": kind.value}}, ("type",) + required)
        defs[f"node_{kind.value}"] = node
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://contact-gateway.invalid/ivr/flow.schema.json",
        "title": "contact-gateway IVR / chat-bot flow",
        "description": "A flow: named nodes with explicit transitions. See ivr/flows/README.md.",
        **_object(TOP_PROPERTIES, TOP_REQUIRED),
        "$defs": defs,
    }


def schema_json() -> str:
    """The schema as the text of ``flow.schema.json``."""
    return json.dumps(flow_schema(), indent=2, sort_keys=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(schema_json(), encoding="utf-8")


if __name__ == "__main__":  # python -m ivr.schema [PATH]
    write_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH)
