"""The loader's rule for webhook URLs: http(s), with the scheme, host and port written out (issue 11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.errors import ErrorCode, FlowErrors
from ivr.loader import parse_flow, webhook_url_problem
from ivr.model import WebhookNode
from ivr.schema import WEBHOOK_URL_PATTERN, flow_schema
from ivr.template import Template

FLOW = """\
start: lookup
nodes:
  lookup:
    type: webhook
    url: {url}
    next: done
    on_error: done
  done: {{type: hangup}}
"""

STARTS_WITH_A_VARIABLE = (
    "starts with a variable: write the scheme and host out, e.g. "
    "'https://crm.example.com/lookup?account={{ account }}' (a variable may only fill in the "
    "path or the query, so that no caller can choose where the request goes)"
)
VARIABLE_IN_HOST = (
    "has a variable in its host or port: write them out, e.g. "
    "'https://crm.example.com/lookup?account={{ account }}' (a variable may only come after the "
    "first '/' or '?')"
)


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.com/ivr/lookup",
        "http://127.0.0.1:8080",
        "https://crm.example.com/customers/{{ account }}?src=ivr",
        "https://crm.example.com?account={{ account }}",
        "https://crm.example.com#{{ account }}",
        "HTTPS://crm.example.com:8443/{{ a }}/{{ b | default('x') }}",
        "https://[::1]:8443/x/{{ a }}",
        "https://user:pw@crm.example.com/{{ a }}",
    ],
)
def test_literal_origins_are_accepted(tmp_path: Path, url: str) -> None:
    assert webhook_url_problem(Template.parse(url)) is None
    assert re.search(WEBHOOK_URL_PATTERN, url), "the JSON schema agrees"
    flow = parse_flow(FLOW.format(url=f'"{url}"'), tmp_path / "f.yaml")
    node = flow.nodes["lookup"]
    assert isinstance(node, WebhookNode) and node.url.source == url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("{{ crm_lookup_url }}", STARTS_WITH_A_VARIABLE),
        ("{{ crm_lookup_url | default('https://crm.example.com/ivr/lookup') }}", STARTS_WITH_A_VARIABLE),
        ("{{ base }}/customers/{{ account }}", STARTS_WITH_A_VARIABLE),
        ("  {{ base }}/x", STARTS_WITH_A_VARIABLE),
        ("https://{{ host }}/lookup", VARIABLE_IN_HOST),
        ("https://{{ tenant }}.crm.example.com/lookup", VARIABLE_IN_HOST),
        ("https://crm.example.com:{{ port }}/lookup", VARIABLE_IN_HOST),
        ("https://crm.example.com{{ path }}", VARIABLE_IN_HOST),
        ("https://crm.example.com@{{ host }}/x", VARIABLE_IN_HOST),
        ("https://{{ user }}@crm.example.com/x", VARIABLE_IN_HOST),
        ("http{{ s }}://crm.example.com/x", "must be an http:// or https:// URL"),
        ("ftp://example.com/x", "must be an http:// or https:// URL"),
        ("crm.example.com/x", "must be an http:// or https:// URL"),
        ("https:crm.example.com/{{ a }}", "must be an http:// or https:// URL"),
        ("https:///x", "has no host"),
        ("https://", "has no host"),
        ("https://crm.example.com:80x/x", "has a bad port"),
    ],
)
def test_a_variable_before_the_path_is_a_load_error_with_file_and_line(tmp_path: Path, url: str, problem: str) -> None:
    path = tmp_path / "flow.yaml"
    with pytest.raises(FlowErrors) as info:
        parse_flow(FLOW.format(url=f'"{url}"'), path)
    [error] = info.value.errors
    if "{{" in url:  # the JSON schema (editors) refuses a variable before the path too
        assert not re.search(WEBHOOK_URL_PATTERN, url)
    assert (error.code, str(error)) == (ErrorCode.BAD_URL, f"{path}:5: node 'lookup': webhook url {url!r} {problem}")


def test_the_published_schema_carries_the_rule() -> None:
    webhook = flow_schema()["$defs"]["node_webhook"]["properties"]["url"]
    assert webhook["pattern"] == WEBHOOK_URL_PATTERN
