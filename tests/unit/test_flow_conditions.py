"""Branch conditions: a safe little language, tested as a truth table."""

from __future__ import annotations

import pytest

from ivr.conditions import AllOf, AnyOf, Compare, Not, parse_condition
from ivr.errors import SpecError
from ivr.source import parse_yaml

CONTEXT = {
    "intent": "billing",
    "tier": "gold",
    "balance": "120.5",
    "account": "904711",
    "empty": "",
    "count": "7",
    "flag": "true",
    "word": "abc",
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"var": "intent", "equals": "billing"}, True),
        ({"var": "intent", "equals": "Billing"}, False),
        ({"var": "missing", "equals": ""}, False),
        ({"var": "count", "equals": 7}, True),
        ({"var": "count", "equals": 7.0}, True),
        ({"var": "flag", "equals": True}, True),
        ({"var": "intent", "not_equals": "sales"}, True),
        ({"var": "missing", "not_equals": "sales"}, True),
        ({"var": "tier", "in": ["gold", "platinum"]}, True),
        ({"var": "missing", "in": ["gold"]}, False),
        ({"var": "tier", "not_in": ["gold"]}, False),
        ({"var": "missing", "not_in": ["gold"]}, True),
        ({"var": "account", "matches": "^9[0-9]{5}$"}, True),
        ({"var": "account", "matches": "471"}, True),
        ({"var": "missing", "matches": ".*"}, False),
        ({"var": "intent", "exists": True}, True),
        ({"var": "empty", "exists": True}, False),
        ({"var": "empty", "exists": False}, True),
        ({"var": "missing", "exists": False}, True),
        ({"var": "balance", "gt": 100}, True),
        ({"var": "balance", "gt": 120.5}, False),
        ({"var": "balance", "gte": 120.5}, True),
        ({"var": "balance", "lt": 0}, False),
        ({"var": "count", "lte": 7}, True),
        ({"var": "word", "gt": 0}, False),
        ({"var": "word", "lt": 0}, False),
        ({"var": "missing", "lt": 10}, False),
        ({"all": [{"var": "intent", "equals": "billing"}, {"var": "tier", "equals": "gold"}]}, True),
        ({"all": [{"var": "intent", "equals": "billing"}, {"var": "tier", "equals": "silver"}]}, False),
        ({"any": [{"var": "intent", "equals": "sales"}, {"var": "tier", "equals": "gold"}]}, True),
        ({"any": [{"var": "intent", "equals": "sales"}, {"var": "tier", "equals": "silver"}]}, False),
        ({"not": {"var": "intent", "equals": "sales"}}, True),
        (
            {
                "all": [
                    {"any": [{"var": "x", "exists": True}, {"var": "count", "gt": 5}]},
                    {"not": {"var": "tier", "in": ["bronze"]}},
                ]
            },
            True,
        ),
    ],
)
def test_truth_table(raw: dict[str, object], expected: bool) -> None:
    assert parse_condition(raw).test(CONTEXT) is expected


def test_parsed_structure_and_description() -> None:
    condition = parse_condition(
        {"any": [{"var": "tier", "in": ["gold", "platinum"]}, {"not": {"var": "balance", "gt": 100}}]}
    )
    assert condition == AnyOf((Compare("tier", "in", ("gold", "platinum")), Not(Compare("balance", "gt", 100.0))))
    assert condition.describe() == "(tier in [gold, platinum] or not balance gt 100)"
    assert (
        parse_condition({"all": [{"var": "a", "matches": "^x"}, {"var": "b", "exists": True}]}).describe()
        == "(a matches '^x' and b exists true)"
    )
    assert isinstance(parse_condition({"all": [{"var": "a", "equals": 1}]}), AllOf)


@pytest.mark.parametrize(
    ("yaml_text", "line", "message"),
    [
        ("when: billing\n", 1, "a condition is a mapping such as {var: intent, equals: billing} or {any: [...]}"),
        ("when: {equals: billing}\n", 1, "a condition needs 'var: name' (lower_case letters, digits, _ or .)"),
        (
            "when:\n  var: Intent\n  equals: x\n",
            2,
            "a condition needs 'var: name' (lower_case letters, digits, _ or .)",
        ),
        (
            "when:\n  var: a\n  equal: x\n",
            3,
            (
                "unknown condition key 'equal' (use var with one of equals, not_equals, in, "
                "not_in, matches, exists, gt, gte, lt, lte, or all/any/not)"
            ),
        ),
        (
            "when:\n  var: a\n",
            2,
            (
                "a condition tests one thing; found 0 of equals, not_equals, in, not_in, matches, "
                "exists, gt, gte, lt, lte"
            ),
        ),
        ("when:\n  var: a\n  in: gold\n", 3, "'in' takes a list of values, e.g. in: [gold, platinum]"),
        ("when:\n  var: a\n  equals: [x]\n", 3, "'equals' takes a single value"),
        (
            "when:\n  var: a\n  matches: '(x'\n",
            3,
            ("bad regular expression '(x': missing ), unterminated subpattern at position 0"),
        ),
        ("when:\n  var: a\n  exists: yes\n", 3, "'exists' takes true or false"),
        ("when:\n  var: a\n  gt: '5'\n", 3, "'gt' takes a number"),
        ("when:\n  all: []\n", 2, "'all' takes a non-empty list of conditions"),
        ("when:\n  any:\n    - {var: a, exists: true}\n    - {var: b, lt: x}\n", 4, "'lt' takes a number"),
        (
            "when:\n  all: [{var: a, exists: true}]\n  var: b\n",
            2,
            "'all' must be alone in its mapping (found all, var)",
        ),
        ("when:\n  not:\n    var: a\n    gte: true\n", 4, "'gte' takes a number"),
    ],
)
def test_errors_name_the_line(yaml_text: str, line: int, message: str) -> None:
    data, _ = parse_yaml(yaml_text)
    with pytest.raises(SpecError) as info:
        parse_condition(data["when"], data.line_of("when"))
    assert (info.value.line, info.value.message) == (line, message)
