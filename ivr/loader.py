"""Loading and validating flow files: YAML in, a :class:`~ivr.model.Flow` out, or every error at once.

``load_flow(path)`` returns a Flow or raises :class:`~ivr.errors.FlowErrors`
listing every problem of the file as ``file:line: node 'x': message``.
``load_dir(dir)`` loads every ``*.yaml``/``*.yml`` of a directory, also checks
``goto`` references between flows, and returns the good flows and the errors.

Checks: YAML syntax and duplicate keys; unknown node types and unknown or
missing keys (with "did you mean"); transitions to unknown nodes; nodes that
no transition reaches; missing prompts; menus without choices and duplicate
keys or words; bad durations, numbers, regexes, conditions, time ranges, time
zones and holidays; webhook URLs that are not http(s); audio files that are
missing, outside the flow's directory or not wav/mp3/ogg; ``{{ template }}``
syntax; and, across a directory, ``goto`` to unknown flows or to nodes that
are not entries.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from . import schema, trust
from .ask_reader import QuestionReaders
from .conditions import parse_condition, scalar_text
from .errors import ErrorCode, FlowError, FlowErrors, SpecError
from .hours import parse_schedule
from .model import (
    QUEUE_NAME_RE,
    SPEECH_ENGINES,
    SPEECH_NORMAL,
    SPEECH_STRICTNESS,
    BranchNode,
    Case,
    Flow,
    GotoNode,
    HangupNode,
    HoursNode,
    Node,
    NodeKind,
    PlayNode,
    Prompt,
    QueueNode,
    QueueStatusNode,
    ReturnNode,
    SayNode,
    SetNode,
    VoiceDefaults,
    WebhookNode,
)
from .reader import NODE_NAME_RE, NodeReader
from .reader import suggest as _suggest
from .source import LineDict, LineList, parse_yaml
from .template import NAME_RE, Template

FLOW_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
FLOW_SUFFIXES = (".yaml", ".yml")


def webhook_url_problem(url: Template) -> str | None:
    """What is wrong with a webhook URL, or None. It is http(s) and its scheme, host and port are literal
    text: a variable may fill in the path, the query or the fragment, never choose where the request goes."""
    source = url.source
    literal = url.parts[0].lstrip() if url.parts and isinstance(url.parts[0], str) else ""
    if not literal and not url.is_static:
        return (
            f"webhook url {source!r} starts with a variable: write the scheme and host out, e.g. "
            "'https://crm.example.com/lookup?account={{ account }}' (a variable may only fill in the path "
            "or the query, so that no caller can choose where the request goes)"
        )
    scheme, sep, rest = literal.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return f"webhook url {source!r} must be an http:// or https:// URL"
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    if not ends and not url.is_static:
        return (
            f"webhook url {source!r} has a variable in its host or port: write them out, e.g. "
            "'https://crm.example.com/lookup?account={{ account }}' (a variable may only come after the "
            "first '/' or '?')"
        )
    origin = urlsplit(f"{scheme}://{rest[: min(ends)] if ends else rest}")
    try:
        _ = origin.port  # urlsplit checks the port only when asked for it
    except ValueError:
        return f"webhook url {source!r} has a bad port"
    if not origin.hostname:
        return f"webhook url {source!r} has no host"
    return None


class _FileLoader(QuestionReaders):
    """Validates one parsed file and builds its :class:`Flow`, collecting every error."""

    def __init__(self, path: Path, text: str):
        super().__init__(path)
        self.path = path
        self.text = text

    # -- the file ------------------------------------------------------------------------------------------------

    def load(self) -> Flow | None:
        name = self.path.stem
        if not FLOW_NAME_RE.fullmatch(name):
            self.error(None, None, f"flow file name '{name}' must use only Latin letters (A-Z, a-z), digits, _ and -")
        try:
            data, problems = parse_yaml(self.text)
        except SpecError as exc:
            self.spec_error(exc, None, None)
            return None
        for problem in problems:
            self.spec_error(problem, None, None)
        if not isinstance(data, LineDict):
            self.error(1, None, "a flow file is a mapping with 'start' and 'nodes'", ErrorCode.SHAPE)
            return None
        self.check_keys(data, schema.TOP_PROPERTIES, schema.TOP_REQUIRED, None, "the flow")
        description = data.get("description", "")
        if not isinstance(description, str):
            self.error(data.line_of("description"), None, "description must be text")
        voice = self.read_defaults(data.get("defaults"), data.line_of("defaults"))
        raw_nodes = data.get("nodes")
        nodes: dict[str, Node] = {}
        if "nodes" in data and (not isinstance(raw_nodes, LineDict) or not raw_nodes):
            self.error(data.line_of("nodes"), None, "'nodes' must be a mapping of node names to nodes", ErrorCode.SHAPE)
        elif isinstance(raw_nodes, LineDict):
            for node_name, raw in raw_nodes.items():
                line = raw_nodes.line_of(node_name)
                if not NODE_NAME_RE.fullmatch(node_name):
                    self.error(
                        line,
                        node_name,
                        "node names use Latin letters (A-Z, a-z), digits, _ and -, and start with a Latin letter or _",
                    )
                    continue
                if not isinstance(raw, LineDict):
                    self.error(line, node_name, "a node is a mapping with a 'type'", ErrorCode.SHAPE)
                    continue
                built = self.read_node(node_name, raw)
                if built is not None:
                    nodes[node_name] = built
        start = data.get("start")
        if "start" in data and (
            not isinstance(start, str) or (isinstance(raw_nodes, LineDict) and start not in raw_nodes)
        ):
            self.error(
                data.line_of("start"),
                None,
                f"start names unknown node {start!r}{_suggest(str(start), nodes)}",
                ErrorCode.UNKNOWN_TARGET,
            )
        self.check_targets(raw_nodes if isinstance(raw_nodes, LineDict) else LineDict())
        if isinstance(start, str) and start in nodes:
            self.check_reachable(start, nodes, raw_nodes)  # type: ignore[arg-type]
        for line, node_name, message in trust.check(nodes):
            self.error(line, node_name, message, ErrorCode.UNTRUSTED)
        if self.errors or not isinstance(start, str):
            return None
        version = hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]
        return Flow(
            name=name,
            version=version,
            start=start,
            nodes=MappingProxyType(nodes),
            source=self.path,
            description=description if isinstance(description, str) else "",
            defaults=voice,
        )

    def read_defaults(self, raw: object, line: int) -> VoiceDefaults:
        if raw is None:
            return VoiceDefaults()
        if not isinstance(raw, LineDict):
            self.error(line, None, "'defaults' must be a mapping", ErrorCode.SHAPE)
            return VoiceDefaults()
        self.check_keys(raw, schema.DEFAULTS_PROPERTIES, (), None, "defaults")
        r = NodeReader(self, None, raw)
        d = self.defaults
        d.timeout = r.duration("timeout", d.timeout)
        d.inter_digit_timeout = r.duration("inter_digit_timeout", d.inter_digit_timeout)
        d.chat_timeout = r.duration("chat_timeout", None)
        d.retries = r.integer("retries", d.retries, 0, 10)
        d.min_confidence = r.number("min_confidence", d.min_confidence, 0.0, 1.0)
        d.no_input_prompts = r.prompts("no_input_prompt")
        d.no_match_prompts = r.prompts("no_match_prompt")
        d.speech_fallback = self.read_speech_fallback(r, d.speech_fallback)
        engine = r.text("speech_engine")
        if engine is not None and engine.lower() not in SPEECH_ENGINES:
            r.fail(
                "speech_engine",
                f"speech_engine must be one of {', '.join(SPEECH_ENGINES)}, not {engine!r}"
                f"{_suggest(engine.lower(), SPEECH_ENGINES)}",
            )
            engine = None
        strictness = r.text("speech_strictness")
        if strictness is not None and strictness.lower() not in SPEECH_STRICTNESS:
            r.fail(
                "speech_strictness",
                f"speech_strictness must be one of {', '.join(SPEECH_STRICTNESS)}, not {strictness!r}"
                f"{_suggest(strictness.lower(), SPEECH_STRICTNESS)}",
            )
            strictness = None
        return VoiceDefaults(
            voice=r.text("voice"),
            language=r.text("language"),
            rate=r.number("rate", 1.0, 0.1, 4.0),
            speech_engine=engine.lower() if engine else None,
            speech_language=r.text("speech_language"),
            speech_strictness=strictness.lower() if strictness else SPEECH_NORMAL,
            line=line,
        )

    # -- nodes ---------------------------------------------------------------------------------------------------

    def read_node(self, name: str, raw: LineDict) -> Node | None:
        kinds = [k.value for k in NodeKind]
        kind_name = raw.get("type")
        if kind_name is None:
            self.error(raw.line, name, f"missing 'type' (one of {', '.join(kinds)})", ErrorCode.MISSING_KEY)
            return None
        if kind_name not in kinds:
            one_of = f" (one of {', '.join(kinds)})"
            self.error(
                raw.line_of("type"),
                name,
                f"unknown node type {kind_name!r}{_suggest(str(kind_name), kinds) or one_of}",
                ErrorCode.UNKNOWN_KIND,
            )
            return None
        kind = NodeKind(kind_name)
        required, allowed = schema.node_keys(kind)
        self.check_keys(raw, allowed, required, name, f"a {kind} node")
        r = NodeReader(self, name, raw)
        base: dict[str, Any] = {
            "name": name,
            "line": raw.line,
            "description": r.text("description") or "",
            "entry": r.boolean("entry", False),
            "trust_unverified": r.boolean("trust_unverified", False),
        }
        self.edges[name] = []
        try:
            return getattr(self, f"read_{kind.value}")(r, base)  # type: ignore[no-any-return]
        except SpecError as exc:  # a value the node cannot be built without; already reported lines
            self.spec_error(exc, raw.line, name)
            return None

    def read_say(self, r: NodeReader, base: dict[str, Any]) -> Node:
        return SayNode(**base, prompts=r.prompts("prompt", required=True), next=r.target("next"))

    def read_play(self, r: NodeReader, base: dict[str, Any]) -> Node:
        audio = r.audio("file")
        prompt = Prompt(play=audio, chat=r.template("chat"), barge_in=r.boolean("barge_in", True))
        return PlayNode(**base, prompts=(prompt,), next=r.target("next"))

    def read_queue_status(self, r: NodeReader, base: dict[str, Any]) -> Node:
        queue = r.template("queue") or Template.parse("")
        if "queue" in r.raw and not queue.source.strip():
            self.error(r.line("queue"), r.name, "queue name is empty")
        return QueueStatusNode(**base, queue=queue, next=r.target("next"), queue_line=r.line("queue"))

    def read_set(self, r: NodeReader, base: dict[str, Any]) -> Node:
        raw = r.raw.get("vars")
        values: list[tuple[str, Template]] = []
        if "vars" in r.raw and (not isinstance(raw, LineDict) or not raw):
            self.error(r.line("vars"), r.name, "'vars' must be a mapping of variable names to values", ErrorCode.SHAPE)
        elif isinstance(raw, LineDict):
            for var, value in raw.items():
                line = raw.line_of(var)
                if not NAME_RE.fullmatch(var):
                    self.error(line, r.name, f"bad variable name '{var}' (use lower_case letters, digits, _ or .)")
                elif trust.reserved(var):
                    self.error(
                        line,
                        r.name,
                        f"variable '{var}' cannot be set by a flow: context.* is what the "
                        "customer's browser sent and verified.* what the site signed",
                    )
                elif value is None or isinstance(value, (dict, list)):
                    self.error(line, r.name, f"variable '{var}' needs a text or number value")
                else:
                    values.append((var, NodeReader(self, r.name, raw).parse_template(scalar_text(value), line)))
        return SetNode(**base, values=tuple(values), next=r.target("next"))

    def read_branch(self, r: NodeReader, base: dict[str, Any]) -> Node:
        raw = r.raw.get("cases")
        cases: list[Case] = []
        if "cases" in r.raw and (not isinstance(raw, LineList) or not raw):
            self.error(
                r.line("cases"), r.name, "'cases' must be a list of {when: condition, next: node}", ErrorCode.SHAPE
            )
        elif isinstance(raw, LineList):
            for index, item in enumerate(raw):
                line = raw.line_of(index)
                if not isinstance(item, LineDict):
                    self.error(line, r.name, "a case is a mapping {when: condition, next: node}", ErrorCode.SHAPE)
                    continue
                self.check_keys(item, ("when", "next"), ("when", "next"), r.name, "a case")
                target = NodeReader(self, r.name, item).target("next")
                if "when" not in item:
                    continue
                try:
                    cases.append(Case(parse_condition(item["when"], item.line_of("when")), target, line))
                except SpecError as exc:
                    self.spec_error(exc, item.line_of("when"), r.name)
        return BranchNode(**base, cases=tuple(cases), otherwise=r.target("else"))

    def read_hours(self, r: NodeReader, base: dict[str, Any]) -> Node:
        open_target, closed_target = r.target("open"), r.target("closed")
        if "queue" in r.raw:  # the hours of a queue of the gateway (checked to exist by check_queues)
            own = [k for k in ("timezone", "schedule", "holidays") if k in r.raw]
            if own:
                r.fail(
                    own[0],
                    f"an hours node takes either 'queue' (that queue's opening hours) or its own "
                    f"'timezone' and 'schedule', not both ('{own[0]}' is given)",
                    ErrorCode.SHAPE,
                )
            queue = r.text("queue") or ""
            if not QUEUE_NAME_RE.fullmatch(queue):
                r.fail("queue", f"queue {queue!r} must be a queue name (Latin letters A-Z, a-z, digits, _ and -)")
            return HoursNode(
                **base, schedule=None, open=open_target, closed=closed_target, queue=queue, queue_line=r.line("queue")
            )
        for key in ("timezone", "schedule"):
            if key not in r.raw:
                raise SpecError(
                    f"missing '{key}' in a hours node (or name a queue: 'queue: billing')",
                    line=r.raw.line,
                    code=ErrorCode.MISSING_KEY,
                )
        schedule = parse_schedule(
            r.raw.get("timezone"),
            r.raw.get("schedule"),
            r.raw.get("holidays"),
            lines={k: r.line(k) for k in ("timezone", "schedule", "holidays")},
        )
        return HoursNode(**base, schedule=schedule, open=open_target, closed=closed_target)

    def read_webhook(self, r: NodeReader, base: dict[str, Any]) -> Node:
        url = r.template("url") or Template.parse("")
        problem = webhook_url_problem(url) if "url" in r.raw else None
        if problem is not None:
            self.error(r.line("url"), r.name, problem, ErrorCode.BAD_URL)
        method = (r.text("method") or "POST").upper()
        if method not in ("GET", "POST"):
            self.error(r.line("method"), r.name, f"method {method!r} must be GET or POST")
        headers: list[tuple[str, Template]] = []
        raw_headers = r.raw.get("headers")
        if isinstance(raw_headers, LineDict):
            for header, value in raw_headers.items():
                if not isinstance(value, str):
                    self.error(raw_headers.line_of(header), r.name, f"header '{header}' needs a text value")
                else:
                    headers.append((header, r.parse_template(value, raw_headers.line_of(header))))
        elif raw_headers is not None:
            self.error(r.line("headers"), r.name, "'headers' must be a mapping of header names to values")
        return WebhookNode(
            **base,
            url=url,
            method=method,
            headers=tuple(headers),
            timeout=r.duration("timeout", 5.0),
            next=r.target("next"),
            on_error=r.target("on_error"),
        )

    def read_queue(self, r: NodeReader, base: dict[str, Any]) -> Node:
        queue = r.template("queue") or Template.parse("")
        if "queue" in r.raw and not queue.source.strip():
            self.error(r.line("queue"), r.name, "queue name is empty")
        skills = self.read_skills(r)
        return QueueNode(
            **base,
            queue=queue,
            queue_line=r.line("queue"),
            priority=r.integer("priority", 0, -1000, 1000),
            skills=skills,
            prompts=r.prompts("prompt"),
            record=r.boolean("record", False),
            transcribe=r.boolean("transcribe", False),
        )

    def read_goto(self, r: NodeReader, base: dict[str, Any]) -> Node:
        ref = r.text("flow") or ""
        flow, _, node = ref.partition("#")
        if "flow" in r.raw and (not FLOW_NAME_RE.fullmatch(flow) or (node and not NODE_NAME_RE.fullmatch(node))):
            self.error(r.line("flow"), r.name, f"flow {ref!r} must be 'name' or 'name#node'")
        nxt = r.target("next") if "next" in r.raw else None
        return GotoNode(**base, flow=flow, node=node or None, next=nxt, ref_line=r.line("flow"))

    def read_return(self, r: NodeReader, base: dict[str, Any]) -> Node:
        return ReturnNode(**base)

    def read_hangup(self, r: NodeReader, base: dict[str, Any]) -> Node:
        return HangupNode(**base, prompts=r.prompts("prompt"), reason=r.text("reason") or "completed")

    # -- graph checks --------------------------------------------------------------------------------------------

    def check_targets(self, raw_nodes: LineDict) -> None:
        for node, line, key, target in self.target_refs:
            if target and target not in raw_nodes:
                self.error(
                    line,
                    node,
                    f"'{key}' goes to unknown node '{target}'{_suggest(target, raw_nodes)}",
                    ErrorCode.UNKNOWN_TARGET,
                )

    def check_reachable(self, start: str, nodes: Mapping[str, Node], raw_nodes: LineDict) -> None:
        roots = [start] + [n for n, node in nodes.items() if node.entry]
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(t for t in self.edges.get(name, ()) if t not in seen)
        # A node that a misspelled target was probably meant for is not reported twice.
        misspelled = [t for _, _, _, t in self.target_refs if t and t not in nodes]
        for name in nodes:
            if name not in seen and not difflib.get_close_matches(name, misspelled, n=1, cutoff=0.6):
                self.error(
                    raw_nodes.line_of(name),
                    name,
                    f"unreachable: no transition from '{start}' leads here (remove it, or mark it "
                    f"'entry: true' if other flows jump to it)",
                    ErrorCode.UNREACHABLE,
                )


def parse_flow(text: str, path: Path) -> Flow:
    """Validate the text of a flow file; ``path`` names it in errors and anchors relative audio paths."""
    loader = _FileLoader(path, text)
    flow = loader.load()
    if flow is None:
        raise FlowErrors(loader.errors or [FlowError(str(path), None, None, "invalid flow", ErrorCode.SHAPE)])
    return flow


def read_flow_text(path: Path) -> str:
    """The text of a flow file; raises :class:`FlowErrors` if it cannot be read as UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowErrors([FlowError(str(path), None, None, f"cannot read: {exc}", ErrorCode.IO)]) from None


def load_flow(path: str | Path) -> Flow:
    """Load and validate one flow file (references to other flows are checked by :func:`load_dir`)."""
    path = Path(path)
    return parse_flow(read_flow_text(path), path)


def flow_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in FLOW_SUFFIXES and p.is_file())


def check_references(flows: Mapping[str, Flow], broken: Iterable[str] = ()) -> dict[str, list[FlowError]]:
    """Errors of ``goto`` nodes naming unknown flows or nodes that are not entries, per flow name."""
    broken = set(broken)
    out: dict[str, list[FlowError]] = {}
    for flow in flows.values():
        for node in flow.nodes.values():
            if not isinstance(node, GotoNode):
                continue
            message = None
            target = flows.get(node.flow)
            if target is None:
                message = (
                    f"flow '{node.flow}' has errors and is not loaded"
                    if node.flow in broken
                    else f"goes to unknown flow '{node.flow}'{_suggest(node.flow, flows)}"
                )
            elif node.node is not None and node.node not in target.nodes:
                message = f"goes to unknown node '{node.node}' of flow '{node.flow}'{_suggest(node.node, target.nodes)}"
            elif node.node is not None and node.node not in target.entries:
                message = (
                    f"node '{node.node}' of flow '{node.flow}' is not an entry: mark it 'entry: true' "
                    f"there, or go to the flow's start"
                )
            if message is not None:
                out.setdefault(flow.name, []).append(
                    FlowError(str(flow.source), node.ref_line, node.name, message, ErrorCode.UNKNOWN_FLOW)
                )
    return out


def check_queues(flow: Flow, known: Collection[str]) -> list[FlowError]:
    """Errors of nodes naming a queue (by a fixed name) that is not among ``known`` (the gateway's queues, given
    as data: this package knows nothing of where queues live). A name built from ``{{ variables }}`` is checked
    when it is used."""
    errors = []
    for name, (node, line) in flow.queue_refs().items():
        if name not in known:
            errors.append(
                FlowError(
                    str(flow.source),
                    line,
                    node,
                    f"unknown queue '{name}'{_suggest(name, known)} (create it first, or fix the name)",
                    ErrorCode.UNKNOWN_QUEUE,
                )
            )
    return errors


def resolve_references(flows: dict[str, Flow], broken: set[str]) -> list[FlowError]:
    """Drop flows whose ``goto`` cannot be resolved (repeatedly, as dropping one may break another)."""
    errors: list[FlowError] = []
    while True:
        bad = check_references(flows, broken)
        if not bad:
            return errors
        for name, errs in bad.items():
            errors.extend(errs)
            del flows[name]
            broken.add(name)


def load_dir(directory: str | Path) -> tuple[dict[str, Flow], list[FlowError]]:
    """Load every flow file of a directory; returns the valid flows by name, and all errors.

    A flow with any error, including a ``goto`` to a flow that is missing or
    broken, is left out: a flow is never half-loaded.
    """
    directory = Path(directory)
    flows: dict[str, Flow] = {}
    errors: list[FlowError] = []
    broken: set[str] = set()
    if not directory.is_dir():
        return {}, [FlowError(str(directory), None, None, "not a directory", ErrorCode.IO)]
    for path in flow_files(directory):
        if path.stem in flows or path.stem in broken:
            errors.append(
                FlowError(
                    str(path), None, None, f"another file already defines flow '{path.stem}'", ErrorCode.DUPLICATE
                )
            )
            continue
        try:
            flows[path.stem] = load_flow(path)
        except FlowErrors as exc:
            errors.extend(exc.errors)
            broken.add(path.stem)
    errors.extend(resolve_references(flows, broken))
    return flows, sorted(errors, key=lambda e: (e.file, e.line or 0))
