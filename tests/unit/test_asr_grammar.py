"""Grammars: normalisation, exact matching, digit strings, and the JSGF pocketsphinx gets."""

from __future__ import annotations

import pytest

from media.asr.errors import AsrError
from media.asr.grammar import Grammar, Match, base_language, digits_of, normalize
from media.asr.sphinx_engine import fsg, jsgf


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
    assert g.match(["one", "billing"], "en") is None
    assert g.words("en")[:3] == ["one", "zero", "oh"]
    assert digits_of(["일", "이", "공"], "ko") == "120"
    assert digits_of(["영", "일"], "ko") == "01"
    assert digits_of(["일", "네"], "ko") is None


def test_oh_is_zero_and_a_grammar_word() -> None:
    g = Grammar.of([], digits=True, min_digits=4, max_digits=4)
    assert g.match(["nine", "oh", "five", "one"], "en") == Match("nine oh five one", "9051")
    assert g.match(["nine", "zero", "five", "one"], "en") == Match("nine zero five one", "9051")
    assert {"zero", "oh"} <= set(g.words("en"))
    assert g.digit_graph("en").accepts(["nine", "oh", "five", "one"])


def test_double_and_triple_repeat_the_next_digit() -> None:
    assert digits_of(["double", "five"], "en") == "55"
    assert digits_of(["triple", "seven", "one"], "en") == "7771"
    assert digits_of(["five", "double", "oh", "one"], "en") == "5001"
    assert digits_of(["double"], "en") is None  # nothing to repeat
    assert digits_of(["double", "double", "five"], "en") is None
    assert digits_of(["five", "double"], "en") is None
    assert digits_of(["double", "일"], "ko") is None  # no repeat words in Korean
    g = Grammar.of([], digits=True, min_digits=2, max_digits=2)
    assert g.match(["double", "five"], "en") == Match("double five", "55")
    assert {"double", "triple"} <= set(g.words("en"))


def test_length_counts_digits_not_words() -> None:
    g = Grammar.of([], digits=True, min_digits=4, max_digits=4)
    assert g.match(["double", "five", "one", "two"], "en") == Match("double five one two", "5512")
    assert g.match(["triple", "five", "one"], "en") == Match("triple five one", "5551")
    assert g.match(["double", "five", "one"], "en") is None  # 3 digits
    assert g.match(["triple", "five", "double", "one"], "en") is None  # 5 digits


def test_digit_graph_never_goes_past_max_and_lets_shorter_strings_compete() -> None:
    g = Grammar.of(["talk to agent"], digits=True, min_digits=4, max_digits=4)
    graph = g.digit_graph("en")
    assert graph.accepts(["one", "two", "three", "four"])
    assert graph.accepts(["double", "five", "oh", "one"])
    assert graph.accepts(["talk", "to", "agent"])
    assert not graph.accepts(["one", "two", "three", "four", "five"])  # no fifth digit can be inserted
    assert not graph.accepts(["triple", "five", "double", "one"])  # nor counted past four by repeats
    assert not graph.accepts(["double"])
    assert not graph.accepts([])
    # a shorter string is a path the decoder may end on (a competitor), and a no-match for the grammar
    assert graph.accepts(["one", "two", "three"]) and g.match(["one", "two", "three"], "en") is None
    assert len(Grammar.of([], digits=True, min_digits=20, max_digits=20).digit_graph("en").arcs) < 1000  # linear


def test_without_drops_phrases_with_unknown_words() -> None:
    g = Grammar.of(["billing", "talk to agent", "sales"])
    assert g.without(["agent"]) == Grammar(("billing", "sales"))
    assert g.without([]) is g
    assert Grammar.of(["xyzzy"]).without(["xyzzy"]) is None
    assert Grammar.of(["xyzzy"], digits=True).without(["xyzzy"]) == Grammar((), digits=True)


def test_base_language() -> None:
    assert [base_language(x) for x in ("en-US", "en_us", "KO", "ko")] == ["en", "en", "ko", "ko"]


def said(text: str) -> list[str]:
    return text.split()


def test_oh_may_end_an_exact_length_number_but_not_a_range() -> None:
    """A trailing "oh" in a 4-8 digit window was noise (a read-back of 12340 for "one two three four")."""
    exact = Grammar.of([], digits=True, min_digits=4, max_digits=4).digit_graph("en")
    ranged = Grammar.of([], digits=True, min_digits=4, max_digits=8).digit_graph("en")
    assert exact.accepts(said("five six nine oh"))
    assert not ranged.accepts(said("one two three four oh"))
    assert ranged.accepts(said("one two three four oh one")) and ranged.accepts(said("nine oh five one"))
    assert ranged.accepts(said("five six nine double oh"))  # said on purpose
    assert ranged.accepts(said("one two three four five six seven zero"))
    assert not ranged.accepts(said("one two three four five six seven oh"))


def test_jsgf_for_phrases_and_fsg_for_digits() -> None:
    assert jsgf(Grammar.of(["billing", "talk to agent"])) == (
        "#JSGF V1.0;\ngrammar asr;\npublic <utterance> = <phrase>;\n<phrase> = billing | ( talk to agent );\n"
    )
    text = fsg(Grammar.of(["yes"], digits=True, min_digits=2, max_digits=2))
    lines = text.splitlines()
    assert lines[:4] == ["FSG_BEGIN asr", "NUM_STATES 5", "START_STATE 0", "FINAL_STATE 3"]
    assert lines[-1] == "FSG_END"
    assert "TRANSITION 0 1 0.0769231 oh" in lines  # 11 digit words, double, and "yes" leave state 0
    assert "TRANSITION 0 4 0.0769231 double" in lines and "TRANSITION 4 2 0.0909091 five" in lines
    assert "TRANSITION 1 3 0.0833333" in lines and "TRANSITION 2 3 1" in lines  # empty moves to the end
    assert "TRANSITION 0 3 0.0769231 yes" in lines
    assert not any("triple" in line for line in lines)  # three digits never fit in two
    with pytest.raises(AsrError, match="fsg"):
        jsgf(Grammar.of([], digits=True))
