"""Who said it: variables the customer's browser sent are never trusted for routing or URLs.

Three sources fill a conversation's variables, and their names tell them apart:

- ``context.<key>``: what the customer's browser sent (the page, its title, anything a site
  puts there). The customer's word: fine in prompts and for agents to read, never proof.
- ``verified.<claim>``: what the site's backend signed about its customer (user id, name,
  tier, CRM id). Trusted.
- anything else: what the flow itself collected (menu and gather answers, ``set`` values,
  webhook answers). A menu answer is the customer's choice by design; a webhook answer is the
  admin's CRM speaking.

This check runs when a flow is loaded. It rejects, with the node and line, a flow that lets
unverified input decide what costs or reaches: a webhook URL or a queue name built from
``context.*``, and a branch on ``context.*`` from which a queue or callback with a priority or
skills is reached without asking the customer anything (a customer would set ``tier: gold`` in
the page and jump the queue). ``set`` values copied from ``context.*`` count as unverified too.
An author who means it marks the node ``trust_unverified: true``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .conditions import AllOf, AnyOf, Compare, Condition, Not
from .errors import ErrorCode
from .model import (
    BranchNode,
    CallbackNode,
    Flow,
    GatherNode,
    GotoNode,
    MenuNode,
    Node,
    QueueNode,
    QueueStatusNode,
    SetNode,
    WebhookNode,
)

UNVERIFIED = "context."
VERIFIED = "verified."
RESERVED_PREFIXES = (UNVERIFIED, VERIFIED)
CODE = ErrorCode.UNTRUSTED
MARK = "trust_unverified"


def reserved(name: str) -> bool:
    """True for names only the gateway sets (a flow may read them, never write them)."""
    return name.startswith(RESERVED_PREFIXES)


def condition_reads(condition: Condition) -> frozenset[str]:
    """The variable names a branch condition looks at."""
    match condition:
        case Compare(var=var):
            return frozenset({var})
        case AllOf(conditions=parts) | AnyOf(conditions=parts):
            return frozenset().union(*(condition_reads(c) for c in parts))
        case Not(condition=inner):
            return condition_reads(inner)
    return frozenset()


def _unverified_vars(nodes: Mapping[str, Node]) -> frozenset[str]:
    """``context.*`` names, and every ``set`` variable whose value is built from one (to a fixed point)."""
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in nodes.values():
            if isinstance(node, SetNode):
                for var, template in node.values:
                    if var not in tainted and _bad(template.names, tainted):
                        tainted.add(var)
                        changed = True
    return frozenset(tainted)


def _bad(names: Iterable[str], tainted: set[str] | frozenset[str]) -> list[str]:
    return sorted(n for n in names if n.startswith(UNVERIFIED) or n in tainted)


#: what a queue adds to everything waiting in it, by name: (priority, skills) (the queue objects' settings)
QueueCosts = Mapping[str, tuple[int, tuple[str, ...]]]


def cost_words(priority: int, skills: Iterable[str]) -> str:
    """What a queue gives, in words: "priority 10", "skills billing, vip", or both joined by "and"."""
    named = ", ".join(skills)
    return " and ".join(
        part for part in (f"priority {priority}" if priority > 0 else "", f"skills {named}" if named else "") if part
    )


def _cost(node: QueueNode | CallbackNode, queues: QueueCosts) -> tuple[int, tuple[str, ...]]:
    """The priority and skills a queue or callback node gives: its own, or its queue's (a queue named literally)."""
    own = (node.priority, tuple(node.skills))
    if own[0] > 0 or own[1] or not node.queue.is_static:
        return own
    return queues.get(node.queue.render({}).strip(), own)


def _costly_without_asking(
    start: str, nodes: Mapping[str, Node], queues: QueueCosts, flows: Mapping[str, Flow] | None
) -> tuple[str, int, tuple[str, ...]] | None:
    """(node, priority, skills) of the first queue / callback with a priority or skills reached from ``start``
    before the customer is asked anything (menus, gathers and callbacks ask); into another flow through a ``goto``
    when ``flows`` are given (else it is out of sight). A queue's own settings count (``queues``): a branch on
    ``context.tier`` into a queue an admin gave priority 10 jumped the line as surely as a node's ``priority: 10``
    (a security tester's finding)."""
    seen: set[tuple[int, str]] = set()
    todo: list[tuple[Mapping[str, Node], str]] = [(nodes, start)]
    while todo:
        where, name = todo.pop()
        node = where.get(name)
        if node is None or (id(where), name) in seen:
            continue
        seen.add((id(where), name))
        if isinstance(node, (QueueNode, CallbackNode)):
            priority, skills = _cost(node, queues)
            if priority > 0 or skills:
                return node.name, priority, skills
        if isinstance(node, GotoNode):  # into the other flow, and on from where a sub-flow call comes back
            if flows is not None and (other := flows.get(node.flow)) is not None:
                todo.append((other.nodes, node.node or other.start))
            if node.next is not None:  # (as if the sub-flow asked nothing: a review found a logging sub-flow
                todo.append((where, node.next))  # between the branch and a priority queue passed)
            continue
        if isinstance(node, (MenuNode, GatherNode)):  # CallbackNode is a MenuNode
            continue
        todo.extend((where, target) for _, target in node.targets())
    return None


def check(
    nodes: Mapping[str, Node], *, queues: QueueCosts | None = None, flows: Mapping[str, Flow] | None = None
) -> list[tuple[int, str, str]]:
    """(line, node, message) for each place unverified input decides routing or a URL. The loader checks a file
    alone; a publish gives the queues' settings and the other flows (``queues``, ``flows``) so a queue's own
    priority and a ``goto`` count too."""
    tainted = _unverified_vars(nodes)
    found: list[tuple[int, str, str]] = []
    advice = (
        f"use verified.* variables (signed by the site's backend) or what the flow asked, or mark the node "
        f"'{MARK}: true' if this is deliberate"
    )
    for name, node in nodes.items():
        if getattr(node, MARK, False):
            continue
        if isinstance(node, WebhookNode) and (bad := _bad(node.url.names, tainted)):
            found.append(
                (
                    node.line,
                    name,
                    f"the webhook URL uses {', '.join(bad)}, which the customer's browser sent (unverified); {advice}",
                )
            )
        if isinstance(node, (QueueNode, CallbackNode, QueueStatusNode)) and (bad := _bad(node.queue.names, tainted)):
            found.append(
                (
                    node.line,
                    name,
                    f"the queue name uses {', '.join(bad)}, which the customer's browser sent (unverified); {advice}",
                )
            )
        if isinstance(node, BranchNode):
            offending = [case for case in node.cases if _bad(condition_reads(case.condition), tainted)]
            if not offending:
                continue
            read = [v for case in offending for v in _bad(condition_reads(case.condition), tainted)]
            # A case on unverified input steers between its own target and everything after it.
            first = node.cases.index(offending[0])
            for target in [case.next for case in node.cases[first:]] + [node.otherwise]:
                costly = _costly_without_asking(target, nodes, queues or {}, flows)
                if costly is not None:
                    reached, priority, skills = costly
                    what = cost_words(priority, skills)
                    found.append(
                        (
                            offending[0].line or node.line,
                            name,
                            f"the branch reads {', '.join(sorted(set(read)))}, which the "
                            f"customer's browser sent (unverified), and leads to "
                            f"'{reached}' ({what}) without asking anything; {advice}",
                        )
                    )
                    break
    return found
