"""{{ templates }}: parsing, rendering, and the errors the loader reports."""

from __future__ import annotations

import pytest

from ivr.errors import SpecError
from ivr.template import Filter, Placeholder, Template

CONTEXT = {"name": "ann", "account": "12 34", "empty": "", "customer.tier": "gold"}


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("Hello", "Hello"),
        ("", ""),
        ("Hello {{ name }}!", "Hello ann!"),
        ("Hello {{name}}", "Hello ann"),
        ("{{ name | title }} / {{ name | upper }} / {{ name|upper|lower }}", "Ann / ANN / ann"),
        ("Hello {{ missing }}.", "Hello ."),
        ("Hello {{ missing | default('there') }}", "Hello there"),
        ('Hello {{ empty | default("friend") }}', "Hello friend"),
        ("Hi {{ name | default('x') | upper }}", "Hi ANN"),
        ("{{ missing | default('a \\'b\\'') }}", "a 'b'"),
        ("{{ missing | default(42) }}", "42"),
        ("Account {{ account | spell }}", "Account 1 2 3 4"),
        ("{{ customer.tier }} member", "gold member"),
        ("a }} b", "a }} b"),
        ("{{ name }}{{ name }}", "annann"),
    ],
)
def test_render(source: str, rendered: str) -> None:
    assert Template.parse(source).render(CONTEXT) == rendered


def test_parts_and_names() -> None:
    template = Template.parse("Hi {{ name | default('you') }}, {{ account }}")
    assert template.parts == ("Hi ", Placeholder("name", (Filter("default", ("you",)),)), ", ", Placeholder("account"))
    assert template.names == {"name", "account"}
    assert not template.is_static
    assert Template.parse("plain").is_static


def test_escape_applies_to_values_only() -> None:
    template = Template.parse("https://x/{{ q }}?a=1")
    assert (
        template.render({"q": "a b/c"}, escape=lambda v: v.replace(" ", "%20").replace("/", "%2F"))
        == "https://x/a%20b%2Fc?a=1"
    )


def test_rendering_never_evaluates_code() -> None:
    assert Template.parse("{{ __class__ }}").render({}) == ""
    with pytest.raises(SpecError):
        Template.parse("{{ name.__class__() }}")
    with pytest.raises(SpecError):
        Template.parse("{{ 1 + 1 }}")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hi {{ name", "unclosed '{{' at column 4 in template 'Hi {{ name'"),
        ("{{ }}", "expected a variable name (lower_case letters, digits, _ or .) in '{{ }}' at column 1"),
        ("{{ Name }}", "expected a variable name (lower_case letters, digits, _ or .) in '{{ Name }}' at column 1"),
        (
            "{{ name | shout }}",
            (
                "unknown filter 'shout' in '{{ name | shout }}' at column 1 (filters: default, upper, "
                "lower, title, spell)"
            ),
        ),
        ("{{ name | uper }}", "unknown filter 'uper' in '{{ name | uper }}' at column 1 (did you mean 'upper'?)"),
        (
            "{{ name | default }}",
            ("filter 'default' takes one argument, e.g. default('x') in '{{ name | default }}' at column 1"),
        ),
        ("{{ name | upper('x') }}", "filter 'upper' takes no argument in '{{ name | upper('x') }}' at column 1"),
        ("{{ name other }}", "unexpected 'other' in '{{ name other }}' at column 1"),
        (
            "ok {{ a }} {{ b | default(x) }}",
            (
                "filter arguments are quoted text or numbers, e.g. default('x'), not (x) "
                "in '{{ b | default(x) }}' at column 12"
            ),
        ),
        (
            "{{ b | default('x) }}",
            (
                "filter arguments are quoted text or numbers, e.g. default('x'), not ('x) in "
                "'{{ b | default('x) }}' at column 1"
            ),
        ),
        (
            "{{ b | default('x', 'y') }}",
            (
                "filter arguments are quoted text or numbers, e.g. default('x'), not "
                "('x', 'y') in '{{ b | default('x', 'y') }}' at column 1"
            ),
        ),
    ],
)
def test_syntax_errors(source: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        Template.parse(source)
    assert (info.value.message, info.value.code) == (message, "bad_template")


@pytest.mark.parametrize(
    ("source", "scope", "rendered"),
    [
        # a leading placeholder is encoded like any other: it cannot become the scheme and host (issue 11: it was
        # rendered as-is, so a customer-supplied "http://127.0.0.1:6379" chose where the webhook went)
        ("{{ base }}/lookup", {"base": "http://127.0.0.1:6379"}, "http%3A%2F%2F127.0.0.1%3A6379/lookup"),
        ("{{ base | default('https://x.example') }}", {}, "https%3A%2F%2Fx.example"),
        (
            "https://crm.example.com/c/{{ account }}?q={{ q }}",
            {"account": "12/34 5", "q": "a&b=c#d"},
            "https://crm.example.com/c/12%2F34%205?q=a%26b%3Dc%23d",
        ),
        (
            "https://crm.example.com/{{ at }}",
            {"at": "@evil.example:80"},
            "https://crm.example.com/%40evil.example%3A80",
        ),
        ("https://crm.example.com/{{ name }}", {"name": "Zoë"}, "https://crm.example.com/Zo%C3%AB"),
        ("  https://crm.example.com/x  ", {}, "https://crm.example.com/x"),
    ],
)
def test_render_url_encodes_every_value(source: str, scope: dict[str, str], rendered: str) -> None:
    assert Template.parse(source).render_url(scope) == rendered
