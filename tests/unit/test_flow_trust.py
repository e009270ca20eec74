"""The loader refuses flows where what the customer's browser sent (context.*) decides routing or a URL."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent, indent

import pytest

from ivr.errors import ErrorCode, FlowErrors
from ivr.loader import parse_flow
from ivr.model import Flow

HEAD = """\
start: route
nodes:
"""

QUEUES = """\
  normal: {type: queue, queue: support, entry: true}
  vip: {type: queue, queue: support, priority: 10, entry: true}
  billing: {type: queue, queue: billing, skills: [billing], entry: true}
  ask: {type: menu, var: intent, prompt: "1 for billing", choices: [{key: 1, label: Billing, value: b, next: vip}],
        fallback: normal, entry: true}
"""


def load(nodes: str, extra: str = QUEUES) -> Flow:
    return parse_flow(HEAD + indent(dedent(nodes), "  ") + extra, Path("trust.yaml"))


def untrusted(nodes: str, extra: str = QUEUES) -> list[str]:
    with pytest.raises(FlowErrors) as info:
        load(nodes, extra)
    found = [e for e in info.value.errors if e.code == ErrorCode.UNTRUSTED]
    assert found, [str(e) for e in info.value.errors]
    return [str(e) for e in found]


def test_a_branch_on_browser_context_that_reaches_a_priority_queue_is_refused_with_its_line() -> None:
    errors = untrusted("""\
      route:
        type: branch
        cases: [{when: {var: context.tier, in: [gold]}, next: vip}]
        else: normal
    """)
    assert errors == [
        "trust.yaml:5: node 'route': the branch reads context.tier, which the customer's browser "
        "sent (unverified), and leads to 'vip' (priority 10) without asking anything; use verified.* "
        "variables (signed by the site's backend) or what the flow asked, or mark the node "
        "'trust_unverified: true' if this is deliberate"
    ]


def test_the_else_of_such_a_branch_and_skills_through_say_and_set_nodes_count_too() -> None:
    errors = untrusted("""\
      route:
        type: branch
        cases: [{when: {not: {var: context.plan, equals: basic}}, next: normal}]
        else: hello
      hello: {type: say, prompt: "Hello", next: remember}
      remember: {type: set, vars: {seen: "yes"}, next: billing}
    """)
    assert "leads to 'billing' (skills billing)" in errors[0]


def test_a_value_copied_from_context_by_a_set_node_is_still_unverified() -> None:
    errors = untrusted("""\
      route: {type: set, vars: {tier: "{{ context.tier }}", level: "x{{ tier }}"}, next: check}
      check:
        type: branch
        cases: [{when: {var: level, equals: xgold}, next: vip}]
        else: normal
    """)
    assert "the branch reads level" in errors[0]


def test_webhook_urls_and_queue_names_from_browser_context_are_refused() -> None:
    errors = untrusted(
        """\
      route:
        type: webhook
        url: "https://crm.example.com/lookup?page={{ context.page }}"
        next: pick
        on_error: pick
      pick: {type: queue, queue: "{{ context.queue }}"}
    """,
        extra="",
    )
    assert [e.split(": ", 2)[1] for e in errors] == ["node 'route'", "node 'pick'"]
    assert "the webhook URL uses context.page" in errors[0]
    assert "the queue name uses context.queue" in errors[1]


def test_routing_on_verified_claims_or_on_the_customers_answers_is_fine() -> None:
    flow = load("""\
      route:
        type: branch
        cases:
          - {when: {var: verified.tier, in: [gold]}, next: vip}
          - {when: {var: context.page, matches: pricing}, next: ask}
        else: normal
    """)
    assert flow.start == "route"  # context.page leads to a menu: the customer is asked before any priority


def test_an_author_can_mark_a_node_as_deliberate() -> None:
    flow = load("""\
      route:
        type: branch
        trust_unverified: true
        cases: [{when: {var: context.tier, in: [gold]}, next: vip}]
        else: normal
    """)
    assert flow.nodes["route"].trust_unverified


@pytest.mark.parametrize(
    "node",
    [
        "route: {type: set, vars: {verified.tier: gold}, next: normal}",
        "route: {type: gather, var: context.account, prompt: 'Account?', fallback: normal, next: normal}",
    ],
)
def test_flows_cannot_write_the_gateways_namespaces(node: str) -> None:
    with pytest.raises(FlowErrors) as info:
        load(node + "\n")
    assert "cannot be set by a flow" in str(info.value)


def test_the_shipped_and_test_flows_pass_the_check() -> None:
    from ivr.loader import load_dir

    root = Path(__file__).parents[2]
    for directory in (root / "ivr" / "flows", root / "tests" / "flows"):
        flows, errors = load_dir(directory)
        assert flows and not errors, [str(e) for e in errors]


def test_a_publish_counts_the_queues_own_priority_and_the_flows_a_goto_enters() -> None:
    """A branch on context.tier into a queue an admin gave priority 10, or into another flow that queues there,
    passed (only the node's own priority was read, and another flow was out of sight): a security tester's
    finding. A file alone cannot know either; a publish gives the queues' settings and the other flows."""
    from ivr import trust

    plain = """\
      route:
        type: branch
        cases: [{when: {var: context.tier, in: [gold]}, next: gold}]
        else: normal
      gold: {type: queue, queue: vip}
      normal: {type: queue, queue: support}
      jump:
        type: branch
        entry: true
        cases: [{when: {var: context.tier, in: [gold]}, next: other}]
        else: normal
      other: {type: goto, flow: vipflow}
    """
    flow = parse_flow(HEAD + indent(dedent(plain), "  "), Path("tiered.yaml"))  # loads: a file alone is fine
    vipflow = parse_flow("start: q\nnodes:\n  q: {type: queue, queue: vip}\n", Path("vipflow.yaml"))
    costs = {"vip": (10, ()), "support": (0, ())}
    found = trust.check(flow.nodes, queues=costs, flows={"vipflow": vipflow, "tiered": flow})
    assert [
        (node, "leads to 'gold' (priority 10)" in m or "leads to 'q' (priority 10)" in m) for _, node, m in found
    ] == [
        ("route", True),
        ("jump", True),
    ]
    assert trust.check(flow.nodes, queues={"vip": (0, ()), "support": (0, ())}, flows={"vipflow": vipflow}) == []
    assert trust.check(flow.nodes) == []  # as the loader sees it


def test_a_sub_flow_call_between_the_branch_and_a_priority_queue_does_not_hide_it() -> None:
    """A goto with `next` comes back: what follows it counts (a review: a logging sub-flow in between passed)."""
    errors = untrusted("""\
      route:
        type: branch
        cases: [{when: {var: context.tier, in: [gold]}, next: log}]
        else: normal
      log: {type: goto, flow: audit, next: vip}
    """)
    assert "leads to 'vip' (priority 10)" in errors[0], errors
