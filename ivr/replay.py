"""Replay: past sessions' inputs fed to another version of their flow, and whether they take the same path.

The interpreter is pure (events in, actions out), and every flow step on a timeline carries the events it is the
outcome of (``inputs``: the start with its context, keys, typed and recognised words, no-inputs, webhook answers,
queue looks, the hang-up; see :func:`ivr.events.event_record`). :func:`recorded_runs` rebuilds each run of a flow from
a conversation's timeline events, :func:`replay` runs those inputs through a draft with prompts acknowledged at once
(as :mod:`ivr.harness` does), each at the time it was recorded (opening hours decide as they did then), and
:class:`Comparison` says whether the nodes entered are the same.

A run recorded before steps carried their inputs cannot be replayed exactly: it is reported ``unreplayable`` with the
reason, never guessed at; so is one whose webhook answer was too big to keep. An input the original flow ignored (a
key pressed during a prompt that may not be interrupted) is left out: prompts finish at once in a replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .actions import Action, Done, Play, Say, Step, StepKind
from .events import NoInput, NotReplayable, PromptFinished, event_from_record
from .interpreter import Interpreter
from .model import Channel, Flow

LEGACY = "recorded before flow steps kept their inputs"


@dataclass(frozen=True)
class RecordedRun:
    """One run of a flow on a timeline: what went in, and the path it took."""

    cid: str
    flow: str
    version: str  # the version it ran ('' when unknown)
    channel: Channel
    started: datetime
    context: Mapping[str, str]
    inputs: tuple[tuple[datetime, dict[str, Any]], ...]
    path: tuple[str, ...]
    problem: str = ""  # why it cannot be replayed exactly ('' when it can)


@dataclass(frozen=True)
class Replayed:
    path: tuple[str, ...]
    steps: tuple[dict[str, str], ...]
    ended: str  # the interpreter's reason for ending ('' when the inputs ran out first)


@dataclass
class Comparison:
    """The runs of a flow replayed against a version: how many, how many end the same way, which differ."""

    sessions: int = 0
    same: int = 0
    differ: list[dict[str, Any]] = field(default_factory=list)
    unreplayable: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "same": self.same,
            "differ": self.differ,
            "unreplayable": len(self.unreplayable),
            "unreplayable_sessions": self.unreplayable,
        }

    def summary(self, flow: str, version: str) -> str:
        text = f"{self.sessions} sessions of flow {flow} replayed against {version}: {self.same} same, "
        text += f"{len(self.differ)} differ"
        if self.unreplayable:
            text += f"; {len(self.unreplayable)} could not be replayed exactly (not counted)"
        return text


def _place(root: str, flow: str, node: str) -> str:
    return node if not flow or flow == root else f"{flow}#{node}"


def _time(ms: Any) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def recorded_runs(cid: str, events: Iterable[Mapping[str, Any]], flow: str) -> list[RecordedRun]:
    """Every run of ``flow`` in a conversation's timeline events (oldest first; ``type`` ``ivr`` steps with
    ``kind``, ``node``, ``flow``, ``inputs`` and ``ts`` ms), rebuilt as inputs and the path taken."""
    runs: list[RecordedRun] = []
    current: dict[str, Any] | None = None
    legacy: dict[str, Any] | None = None

    def close() -> None:
        nonlocal current, legacy
        for run in (current, legacy):
            if run is not None and run["root"] == flow:
                runs.append(
                    RecordedRun(
                        cid,
                        flow,
                        run["version"],
                        run["channel"],
                        run["started"],
                        run["context"],
                        tuple(run["inputs"]),
                        tuple(run["path"]),
                        run["problem"],
                    )
                )
        current = legacy = None

    for event in events:
        if event.get("type") != "ivr":
            continue
        inputs = event.get("inputs") or []
        start = next((i for i in inputs if isinstance(i, dict) and i.get("type") == "start"), None)
        step_flow, node, kind = str(event.get("flow", "")), str(event.get("node", "")), event.get("kind")
        if start is not None:
            close()
            try:
                channel = Channel(start.get("channel", "voice"))
            except ValueError:
                channel = Channel.VOICE
            current = {
                "root": step_flow,
                "version": str(start.get("version", "")),
                "channel": channel,
                "started": _time(event.get("ts", 0)),
                "context": {str(k): str(v) for k, v in (start.get("context") or {}).items()},
                "inputs": [],
                "path": [],
                "problem": "",
            }
        run = current
        if run is None:  # steps without a start: a run from before inputs were recorded
            if legacy is None:
                legacy = {
                    "root": step_flow,
                    "version": "",
                    "channel": Channel.CHAT if event.get("channel") == "chat" else Channel.VOICE,
                    "started": _time(event.get("ts", 0)),
                    "context": {},
                    "inputs": [],
                    "path": [],
                    "problem": LEGACY,
                }
            run = legacy
        if kind == StepKind.ENTER:
            run["path"].append(_place(run["root"], step_flow, node))
        fed = [i for i in inputs if isinstance(i, dict) and i.get("type") != "start"]
        if kind == StepKind.IGNORED and fed:
            fed = fed[:-1]  # the original flow ignored it (a prompt that may not be cut was playing)
        for record in fed:
            if record.get("type") == "webhook" and record.get("truncated") and not run["problem"]:
                run["problem"] = "a webhook answer was too big to keep on the timeline"
            run["inputs"].append((_time(event.get("ts", 0)), record))
    close()
    return runs


def _settle(interp: Interpreter, actions: list[Action], now: datetime, out: list[Action]) -> None:
    pending = list(actions)
    while pending:
        action = pending.pop(0)
        out.append(action)
        if isinstance(action, (Say, Play)) and interp.channel is Channel.VOICE:
            pending.extend(interp.handle(PromptFinished(action.prompt_id), now))


def replay(flow: Flow, run: RecordedRun, flows: Mapping[str, Flow] | None = None) -> Replayed:
    """Feed a recorded run's inputs to ``flow`` (``flows``: what its ``goto`` may enter). Raises
    :class:`~ivr.events.NotReplayable` for a run that cannot be replayed exactly."""
    if run.problem:
        raise NotReplayable(run.problem)
    interp = Interpreter(flow, run.context, channel=run.channel, flows=flows, conversation_id=run.cid)
    actions: list[Action] = []
    _settle(interp, interp.start(run.started), run.started, actions)
    for at, record in run.inputs:
        if interp.done:
            break
        event = event_from_record(record)
        if isinstance(event, NoInput):
            event = NoInput(interp.listen_id)
        _settle(interp, interp.handle(event, max(at, run.started)), at, actions)
    steps = [a for a in actions if isinstance(a, Step)]
    path = tuple(_place(flow.name, s.flow, s.node) for s in steps if s.kind is StepKind.ENTER)
    ended = next((a.reason for a in reversed(actions) if isinstance(a, Done)), "")
    shown = tuple({"kind": str(s.kind), "node": s.node, "detail": s.detail, "flow": s.flow} for s in steps)
    return Replayed(path, shown, ended)


def compare(
    flow: Flow, runs: Iterable[RecordedRun], flows: Mapping[str, Flow] | None = None, *, limit: int | None = None
) -> Comparison:
    """Replay each run against ``flow``; a run whose nodes entered differ from those it took is listed."""
    result = Comparison()
    for run in runs:
        if limit is not None and result.sessions + len(result.unreplayable) >= limit:
            break
        try:
            new = replay(flow, run, flows)
        except NotReplayable as exc:
            result.unreplayable.append({"cid": run.cid, "reason": str(exc)})
            continue
        result.sessions += 1
        if new.path == run.path:
            result.same += 1
        else:
            result.differ.append(
                {
                    "cid": run.cid,
                    "old_version": run.version,
                    "old_path": list(run.path),
                    "new_path": list(new.path),
                    "steps": list(new.steps),
                }
            )
    return result
