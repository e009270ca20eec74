"""A Wyoming server's free transcript is decided locally: it routes only if it *is* an allowed phrase."""

from __future__ import annotations

import pytest

from media.asr.errors import AsrError
from media.asr.grammar import Grammar
from media.asr.wyoming_engine import (
    SERVER_CONFIDENCE,
    grammar_context,
    grammar_from_context,
    parse_url,
    transcript_result,
)

MENU = Grammar.of(["billing", "support", "talk to an agent"])
DIGITS = Grammar.of([], digits=True, min_digits=4, max_digits=4)


@pytest.mark.parametrize(
    ("transcript", "text"),
    [
        ("Billing.", "billing"),
        (" SUPPORT! ", "support"),
        ("Talk to an agent.", "talk to an agent"),
        ("I want billing.", ""),  # more than the phrase: out of grammar
        ("Bill", ""),
        ("Thank you.", ""),  # Whisper's favourite hallucination on noise
        ("", ""),
    ],
)
def test_menu_transcripts(transcript: str, text: str) -> None:
    result = transcript_result(transcript, MENU, "en")
    assert (result.text, result.confidence) == (text, SERVER_CONFIDENCE if text else 0.0)


@pytest.mark.parametrize(
    ("transcript", "digits"),
    [
        ("9051", "9051"),
        ("9-0-5-1.", "9051"),
        ("nine oh five one", "9051"),
        ("Nine zero five one.", "9051"),
        ("905", None),  # too short for the grammar
        ("90512", None),
        ("nine o five one", None),
    ],
)
def test_digit_transcripts(transcript: str, digits: str | None) -> None:
    assert transcript_result(transcript, DIGITS, "en").digits == digits


def test_without_a_grammar_the_transcript_is_kept() -> None:
    result = transcript_result("My internet is down.", None, "en")
    assert (result.text, result.heard) == ("my internet is down", "my internet is down")


def test_the_grammar_travels_in_the_context_and_back() -> None:
    for grammar in (MENU, DIGITS, Grammar.of(["yes", "no"], digits=True, min_digits=1, max_digits=8)):
        assert grammar_from_context(grammar_context(grammar)) == grammar
    assert grammar_from_context(None) is None and grammar_context(None) is None
    with pytest.raises(AsrError):
        grammar_from_context({"grammar": {"phrases": "billing"}})
    with pytest.raises(AsrError):
        grammar_from_context({"grammar": {"phrases": [], "digits": True, "min_digits": 9, "max_digits": 2}})


@pytest.mark.parametrize("url", ["http://host:10300", "tcp://host", "host:10300", "tcp://:10300", "tcp://h:99999"])
def test_server_urls_must_be_tcp_host_port(url: str) -> None:
    with pytest.raises(AsrError):
        parse_url(url)
    assert parse_url("tcp://gpu1.lan:10300") == ("gpu1.lan", 10300)
