"""The picture of a flow: its nodes with the lines they span, and every transition with what takes it.

Built from the validated model (:class:`~ivr.model.Flow`), not from the YAML text: an edge exists exactly when the
interpreter can take it. Labels say why: a menu's choices (key and label), ``no input / no match`` (a question's
fallback once its retries are used), ``open`` / ``closed`` (hours), ``ok`` / ``error`` (webhooks), a branch's
condition or ``else``, ``return`` (back from a called flow). ``goto`` and ``queue`` and ``hangup`` end this flow's
part; a goto's target is in its label.
"""

from __future__ import annotations

from typing import Any

from .model import (
    BranchNode,
    CallbackNode,
    Flow,
    GatherNode,
    GotoNode,
    HoursNode,
    MenuNode,
    Node,
    QueueNode,
    WebhookNode,
)

FALLBACK = "no input / no match"


def _edges(node: Node) -> list[tuple[str, str]]:
    match node:
        case CallbackNode():
            out = [(c.next, f"{c.key} {c.label}") for c in node.choices if c.next]
            if all(target != node.next for target, _ in out):
                out.append((node.next, "booked"))
            return [*out, (node.input.fallback, FALLBACK)]
        case MenuNode():
            choices = [(c.next, f"{c.key} {c.label}" + (f" ({c.only} only)" if c.only else "")) for c in node.choices]
            return [*choices, (node.input.fallback, FALLBACK)]
        case GatherNode():
            return [(node.next, "answer"), (node.input.fallback, FALLBACK)]
        case BranchNode():
            return [*((c.next, c.condition.describe()) for c in node.cases), (node.otherwise, "else")]
        case HoursNode():
            return [(node.open, "open"), (node.closed, "closed")]
        case WebhookNode():
            return [(node.next, "ok"), (node.on_error, "error")]
        case GotoNode():
            return [(node.next, "return")] if node.next is not None else []
    return [(target, "") for _, target in node.targets()]


def _label(node: Node) -> str:
    match node:
        case GotoNode():
            return f"{node.name} → {node.flow}" + (f"#{node.node}" if node.node else "")
        case QueueNode():
            return f"{node.name} → queue {node.queue.source}"
    return node.name


def _spans(text: str, flow: Flow) -> dict[str, tuple[int, int]]:
    """Each node's lines: from its name (the model keeps where its mapping starts, the line after) to the last line
    before one indented no deeper than the name."""
    lines = text.splitlines()
    out: dict[str, tuple[int, int]] = {}
    for name, node in flow.nodes.items():
        start = node.line
        for back in range(start, max(0, start - 3), -1):
            if 1 <= back <= len(lines) and lines[back - 1].strip().startswith(f"{name}:"):
                start = back
                break
        if not 1 <= start <= len(lines):
            out[name] = (node.line, node.line)
            continue
        indent = len(lines[start - 1]) - len(lines[start - 1].lstrip())
        end = start
        for number in range(start + 1, len(lines) + 1):
            line = lines[number - 1]
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if len(line) - len(line.lstrip()) <= indent:
                break
            end = number
        out[name] = (start, end)
    return out


def flow_graph(flow: Flow, text: str) -> dict[str, Any]:
    """``{"start", "nodes": [{"id", "kind", "line", "end_line", "label"}], "edges": [{"from", "to", "label"}]}``
    (``text``: the flow's YAML, for where each node ends)."""
    spans = _spans(text, flow)
    nodes = [
        {"id": name, "kind": str(node.kind), "line": spans[name][0], "end_line": spans[name][1], "label": _label(node)}
        for name, node in flow.nodes.items()
    ]
    edges = [
        {"from": name, "to": target, "label": label}
        for name, node in flow.nodes.items()
        for target, label in _edges(node)
        if target
    ]
    return {"start": flow.start, "nodes": nodes, "edges": edges}
