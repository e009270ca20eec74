"""Grammars: normalisation, exact matching, digit strings, and the JSGF pocketsphinx gets."""

from __future__ import annotations

import pytest

from media.asr.errors import AsrError
from media.asr.grammar import Grammar, Match, base_language, digits_of, normalize
from media.asr.sphinx_engine import jsgf


def test_normalize() -> None:
    assert normalize("  Talk to an AGENT, please! ") == "talk to an agent please"
    assert normalize("don't  hang-up") == "don't hang up"
    assert normalize("아니요.") == "아니요"


def test_of_normalises_and_deduplicates_in_order() -> None:
    g = Grammar.of(["Billing", "billing ", "Talk to  agent", "", "!!"])
    assert g == Grammar(("billing", "talk to agent"))
    assert g.words("en") == ["billing", "talk", "to", "agent"]


def test_grammar_needs_something_and_sane_digit_lengths() -> None:
    with pytest.raises(AsrError, match="at least one phrase"):
        Grammar.of([])
    with pytest.raises(AsrError, match="digit lengths"):
        Grammar.of([], digits=True, min_digits=5, max_digits=4)
    with pytest.raises(AsrError, match="not normalised"):
        Grammar(("Billing",))


def test_match_is_exact() -> None:
    g = Grammar.of(["billing", "talk to agent"])
    assert g.match(["billing"], "en") == Match("billing")
    assert g.match(["talk", "to", "agent"], "en") == Match("talk to agent")
    assert g.match(["billing", "billing"], "en") is None
    assert g.match(["agent"], "en") is None
    assert g.match([], "en") is None


def test_digit_strings() -> None:
    g = Grammar.of(["one"], digits=True, min_digits=2, max_digits=4)
    assert g.match(["one"], "en") == Match("one", "1")  # the phrase, a menu key
    assert g.match(["one", "two", "three", "four"], "en") == Match("one two three four", "1234")
    assert g.match(["one", "two", "three", "four", "five"], "en") is None  # too long
    assert g.match(["one", "oh", "one"], "en") == Match("one oh one", "101")  # "oh" understood, never asked for
    assert g.match(["one", "billing"], "en") is None
    assert g.words("en")[:2] == ["one", "zero"]
    assert "oh" not in g.words("en")
    assert digits_of(["일", "이", "공"], "ko") == "120"
    assert digits_of(["일", "네"], "ko") is None


def test_without_drops_phrases_with_unknown_words() -> None:
    g = Grammar.of(["billing", "talk to agent", "sales"])
    assert g.without(["agent"]) == Grammar(("billing", "sales"))
    assert g.without([]) is g
    assert Grammar.of(["xyzzy"]).without(["xyzzy"]) is None
    assert Grammar.of(["xyzzy"], digits=True).without(["xyzzy"]) == Grammar((), digits=True)


def test_base_language() -> None:
    assert [base_language(x) for x in ("en-US", "en_us", "KO", "ko")] == ["en", "en", "ko", "ko"]


def test_jsgf_for_phrases_and_digits() -> None:
    assert jsgf(Grammar.of(["billing", "talk to agent"])) == (
        "#JSGF V1.0;\ngrammar asr;\npublic <utterance> = <phrase>;\n<phrase> = billing | ( talk to agent );\n"
    )
    text = jsgf(Grammar.of(["yes"], digits=True, min_digits=2, max_digits=4))
    assert text.splitlines()[2:] == [
        "public <utterance> = <phrase> | <digits>;",
        "<phrase> = yes;",
        "<digit> = zero | one | two | three | four | five | six | seven | eight | nine;",
        "<digits> = <digit> <digit> [ <digit> [ <digit> ]];",
    ]
