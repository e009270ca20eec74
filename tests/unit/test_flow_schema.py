"""The published JSON Schema: in sync with the code, and agreeing with the loader on real flows.

``jsonschema`` is not a dependency, so a small checker of the keywords the
schema uses validates flows against it here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from ivr.errors import FlowErrors
from ivr.loader import load_dir, parse_flow
from ivr.model import NodeKind
from ivr.schema import SCHEMA_PATH, flow_schema, node_keys, schema_json
from ivr.source import parse_yaml

SHIPPED = Path(__file__).parents[2] / "ivr" / "flows"

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_errors(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    """Errors of ``value`` against the subset of JSON Schema 2020-12 that flow.schema.json uses."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return schema_errors(value, root["$defs"][name], root, path)
    errors: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{path}: not {types}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: not one of {schema['enum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: does not match {schema['pattern']}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{path}: not above {schema['exclusiveMinimum']}")
    if isinstance(value, dict):
        errors += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        if len(value) < schema.get("minProperties", 0):
            errors.append(f"{path}: too few properties")
        props = schema.get("properties", {})
        for key, item in value.items():
            if "propertyNames" in schema:
                errors += schema_errors(key, schema["propertyNames"], root, f"{path}.<{key}>")
            if key in props:
                errors += schema_errors(item, props[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unknown key {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += schema_errors(item, schema["additionalProperties"], root, f"{path}.{key}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: too few items")
        if "items" in schema:
            for index, item in enumerate(value):
                errors += schema_errors(item, schema["items"], root, f"{path}[{index}]")
    for sub in schema.get("allOf", []):
        errors += schema_errors(value, sub, root, path)
    if "anyOf" in schema and all(schema_errors(value, sub, root, path) for sub in schema["anyOf"]):
        errors.append(f"{path}: matches none of anyOf")
    if "if" in schema and not schema_errors(value, schema["if"], root, path):
        errors += schema_errors(value, schema.get("then", {}), root, path)
    return errors


def plain(value: Any) -> Any:
    """The parsed YAML as JSON-like data (the line-recording containers are dict/list subclasses)."""
    return json.loads(json.dumps(value))


def validate_text(text: str) -> list[str]:
    data, problems = parse_yaml(dedent(text))
    assert problems == []
    schema = flow_schema()
    return schema_errors(plain(data), schema, schema)


def test_the_published_file_is_in_sync() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_json(), "run: python -m ivr.schema"


def test_schema_shape() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["start", "nodes"]
    assert schema["$defs"]["node"]["properties"]["type"]["enum"] == [k.value for k in NodeKind]
    for kind in NodeKind:
        node = schema["$defs"][f"node_{kind.value}"]
        required, allowed = node_keys(kind)
        assert node["required"] == ["type", *required]
        assert sorted(node["properties"]) == sorted(allowed)
        assert node["additionalProperties"] is False


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_flows_match_the_schema(path: Path) -> None:
    assert validate_text(path.read_text(encoding="utf-8")) == []


KITCHEN_SINK = """\
    description: every key of every node kind
    start: say
    defaults: {voice: v, language: en, rate: 1.1, timeout: 5s, inter_digit_timeout: 2, chat_timeout: 5m,
               retries: 1, min_confidence: 0.4, no_input_prompt: "?", no_match_prompt: ["??", {chat: "???"}],
               speech_engine: pocketsphinx, speech_language: en, speech_fallback: keys}
    nodes:
      say: {type: say, description: d, entry: true, prompt: "hi {{ a }}", next: play}
      play: {type: play, file: beep.wav, chat: "(beep)", barge_in: false, next: gather}
      gather:
        type: gather
        prompt: {say: s, play: beep.wav, chat: c, barge_in: true, voice: v, language: l, rate: 1}
        var: acct
        timeout: 500ms
        chat_timeout: 1m
        retries: 3
        no_input_prompt: x
        no_match_prompt: y
        fallback: menu
        speech: [one]
        min_confidence: 0.3
        confirm: speech
        confirm_prompt: "I heard {{ answer | spell }}, right?"
        skip_if_known: true
        known_prompt: k
        min_digits: 2
        max_digits: 4
        terminator: "*"
        inter_digit_timeout: 1.5
        next: menu
      menu:
        type: menu
        prompt: m
        var: intent
        timeout: 3
        chat_timeout: 2m
        retries: 0
        no_input_prompt: [a, b]
        no_match_prompt: {say: c}
        speech: [w2]
        min_confidence: 0.9
        skip_if_known: true
        known_prompt: kp
        choices:
          - {key: 1, label: L, value: v, words: [w], only: voice, next: set}
          - {key: "#", next: again}
        fallback: set
      again:
        type: menu
        prompt: m
        retries: 2
        reprompts: ["r1", ["r2", {say: r3}]]
        no_input_prompts: [n1]
        speech_fallback: {to: keys, after: 1, prompt: "Press 1."}
        confirm: speech
        confirm_below: 0.8
        confirm_prompt: "{{ answer }}?"
        choices: [{key: 1, next: ask2}]
        fallback: set
      ask2:
        type: gather
        prompt: a
        var: acct2
        reprompts: [r]
        no_input_prompts: [n]
        speech_fallback: none
        next: offer2
        fallback: set
      offer2:
        type: callback
        queue: q
        prompt: p
        retries: 2
        reprompts: [r]
        no_input_prompts: [n]
        speech_fallback: keys
        choices: [{key: 1, when: asap}]
        next: set
        fallback: set
      set: {type: set, vars: {a: "1", b: 2, c: true}, next: branch}
      branch:
        type: branch
        cases:
          - when: {all: [{var: a, equals: 1}, {any: [{var: b, in: [2]}, {not: {var: c, exists: true}}]}]}
            next: hours
        else: hours
      hours:
        type: hours
        timezone: UTC
        schedule: {"mon-fri, sun": "09:00-17:00", sat: ["10:00-12:00"]}
        holidays: ["12-25", "2026-01-01"]
        open: queue_hours
        closed: hook
      queue_hours: {type: hours, queue: q, open: hook, closed: hook}
      hook:
        type: webhook
        url: https://x.example/{{ a }}
        method: GET
        headers: {X-Token: t}
        timeout: 1s
        next: status
        on_error: goto
      status: {type: queue_status, queue: "{{ a }}", next: offer}
      offer:
        type: callback
        queue: q
        prompt: p
        var: picked
        timeout: 4s
        chat_timeout: 1m
        retries: 1
        no_input_prompt: p
        no_match_prompt: p
        speech: [w]
        min_confidence: 0.6
        timezone: Europe/Paris
        phone_var: phone
        priority: 3
        skills: [s:2]
        attempts: 2
        retry_after: 5m
        expire_after: 4h
        choices:
          - {key: 1, label: Now, value: now, words: [now], only: voice, when: asap}
          - {key: 2, when: "17:30"}
          - {key: 3, next: queue}
        next: bye
        fallback: queue
      queue: {type: queue, queue: q, priority: 1, skills: [s], record: true, transcribe: true, prompt: p}
      goto: {type: goto, flow: "kitchen#say", next: bye}
      bye: {type: hangup, prompt: bye, reason: r}
      back: {type: return, entry: true}
"""


def test_loader_and_schema_agree_on_a_flow_using_every_key(tmp_path: Path) -> None:
    (tmp_path / "beep.wav").write_bytes(b"RIFF")
    (tmp_path / "kitchen.yaml").write_text(dedent(KITCHEN_SINK), encoding="utf-8")
    flows, errors = load_dir(tmp_path)
    assert (sorted(flows), errors) == (["kitchen"], [])
    assert validate_text(KITCHEN_SINK) == []
    used: dict[NodeKind, set[str]] = {kind: set() for kind in NodeKind}
    for raw in parse_yaml(dedent(KITCHEN_SINK))[0]["nodes"].values():
        used[NodeKind(raw["type"])].update(raw)
    for kind in NodeKind:
        assert used[kind] | {"description", "entry", "trust_unverified"} >= set(node_keys(kind)[1]), kind


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("start: a\nnodes:\n  a: {type: hangup, reasn: x}\n", "$.nodes.a: unknown key reasn"),
        ("start: a\nnodes:\n  a: {type: sya}\n", "$.nodes.a.type: not one of"),
        ("start: a\nnodes:\n  a: {type: say, next: a}\n", "$.nodes.a: missing prompt"),
        (
            "start: a\nnodes:\n  a: {type: gather, prompt: p, var: x, next: a, fallback: a, timeout: 5 sec}\n",
            "$.nodes.a.timeout: matches none of anyOf",
        ),
        (
            "start: a\nnodes:\n  a: {type: menu, prompt: p, fallback: a, choices: [{key: 12, next: a}]}\n",
            "$.nodes.a.choices[0].key: above 9",
        ),
        ("nodes:\n  a: {type: hangup}\n", "$: missing start"),
    ],
)
def test_schema_rejects_what_the_loader_rejects(tmp_path: Path, text: str, error: str) -> None:
    errors = validate_text(text)
    assert any(e.startswith(error) for e in errors), errors
    with pytest.raises(FlowErrors):
        parse_flow(text, tmp_path / "f.yaml")
