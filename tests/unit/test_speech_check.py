"""The gateway's speech setup for flows: engine choice, grammars of listening windows, vocabulary checks.

Real engines: pocketsphinx en-us from its wheel (loads in a fraction of a second).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from gateway.cli import main as cli_main
from gateway.flows.speech import SpeechRecognition, grammar_for
from ivr.actions import Listen, ListenMode
from ivr.errors import ErrorCode
from ivr.registry import FlowRegistry
from media.asr import Grammar, VadKind
from tests.unit.flowkit import flow_of

MENU = """\
    start: menu
    defaults: {{timeout: 4s{defaults}}}
    nodes:
      menu:
        type: menu
        prompt: "Say billing or support."
        speech: [{hints}]
        choices:
          - {{key: 1, label: Billing, words: [billing{words}], next: bye}}
          - {{key: 2, label: {label}, next: bye}}
        fallback: bye
      bye: {{type: hangup, prompt: "Bye."}}
"""


def menu_flow(*, words: str = "", hints: str = "", label: str = "Support", defaults: str = "") -> str:
    return MENU.format(words=words, hints=hints, label=label, defaults=defaults)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpeechRecognition]:
    made = SpeechRecognition.configure([], tmp_path_factory.mktemp("data"), workers=1)
    yield made
    made.close()


async def test_the_vad_setting_picks_every_listeners_speech_detector(speech: SpeechRecognition, tmp_path: Path) -> None:
    flow = flow_of(menu_flow())
    silero = SpeechRecognition.configure([], tmp_path, workers=1, vad="silero")
    try:
        for made, kind in ((speech, VadKind.WEBRTC), (silero, VadKind.SILERO)):
            listener = made.listener(flow, "test")
            assert listener is not None
            try:
                assert listener.detector is kind
            finally:
                await listener.close()
    finally:
        silero.close()


def test_known_words_pass(speech: SpeechRecognition) -> None:
    assert speech.check(flow_of(menu_flow(words=", invoice", hints="operator"))) == []


def test_unknown_words_are_flow_errors_with_file_line_and_node(speech: SpeechRecognition) -> None:
    errors = speech.check(flow_of(menu_flow(words=", zorbly", hints="frobnicate now"), name="shop"))
    assert len(errors) == 1
    error = errors[0]
    assert (error.file, error.line, error.node, error.code) == ("/flows/shop.yaml", 5, "menu", ErrorCode.SPEECH)
    assert "'zorbly', 'frobnicate'" in error.message and "pocketsphinx" in error.message
    assert str(error).startswith("/flows/shop.yaml:5: node 'menu': ")


def test_a_choice_that_cannot_be_said_is_only_logged(
    speech: SpeechRecognition, caplog: pytest.LogCaptureFixture
) -> None:
    assert speech.check(flow_of(menu_flow(label="Kwijibo"))) == []
    assert "choice 2 ('Kwijibo') cannot be said" in caplog.text and "'kwijibo'" in caplog.text


def test_an_unsayable_label_of_a_choice_with_words_is_not_worth_a_warning(
    speech: SpeechRecognition, caplog: pytest.LogCaptureFixture
) -> None:
    """The shipped flows' "After 5 PM" (words: after five, evening, later) warned on every start."""
    flow = flow_of(menu_flow().replace("{key: 2, label: Support,", "{key: 2, label: After 5 PM, words: [later],"))
    assert speech.check(flow) == []
    assert "cannot be said" not in caplog.text


def test_the_shipped_flows_start_without_speech_warnings(
    speech: SpeechRecognition, caplog: pytest.LogCaptureFixture
) -> None:
    registry = FlowRegistry(Path(__file__).parents[2] / "ivr" / "flows", check=speech.check)
    assert registry.errors == [] and "default" in registry
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []


@pytest.mark.parametrize(
    ("defaults", "wanted"),
    [
        (", speech_engine: vosk", "wants Vosk"),
        (", speech_language: ko", "no speech engine for language 'ko'"),
        (", language: de-DE", "no speech engine for language 'de'"),
    ],
)
def test_an_engine_the_node_lacks_is_a_flow_error(speech: SpeechRecognition, defaults: str, wanted: str) -> None:
    errors = speech.check(flow_of(menu_flow(defaults=defaults)))
    assert [(e.line, e.code) for e in errors] == [(2, ErrorCode.SPEECH)]
    assert wanted in errors[0].message and "speech_engine: none" in errors[0].message


def test_speech_off_takes_keys_only(speech: SpeechRecognition) -> None:
    flow = flow_of(menu_flow(words=", zorbly", defaults=", speech_engine: none, speech_language: ko"))
    assert speech.check(flow) == []
    assert speech.listener(flow, "call-1") is None


def test_grammar_of_a_menu_and_of_a_spoken_number() -> None:
    menu = Listen("l1", ListenMode.MENU, 5.0, speech_hints=("billing", "support", "talk to an agent"))
    assert grammar_for(menu) == Grammar.of(["billing", "support", "talk to an agent"])
    assert grammar_for(Listen("l1", ListenMode.MENU, 5.0)) is None
    digits = Listen("l2", ListenMode.DIGITS, 5.0, max_digits=8, min_digits=4, speech_hints=("i don't know",))
    assert grammar_for(digits) == Grammar.of(["i don't know"], digits=True, min_digits=4, max_digits=8)
    # a gather without a minimum still needs one spoken digit; lengths beyond the grammar limit are capped
    wide = grammar_for(Listen("l3", ListenMode.DIGITS, 5.0, max_digits=99, min_digits=0))
    assert wide is not None and (wide.min_digits, wide.max_digits) == (1, 32)


def test_a_strict_flow_asks_for_the_strict_decision_in_every_window() -> None:
    assert not flow_of(menu_flow()).defaults.speech_strict
    strict = flow_of(menu_flow(defaults=", speech_strictness: Strict"))
    assert strict.defaults.speech_strict
    menu = Listen("l1", ListenMode.MENU, 5.0, speech_hints=("billing",))
    assert grammar_for(menu, strict=strict.defaults.speech_strict) == Grammar.of(["billing"], strict=True)
    digits = Listen("l2", ListenMode.DIGITS, 5.0, max_digits=4, min_digits=4)
    got = grammar_for(digits, strict=True)
    assert got is not None and got.strict
    assert grammar_for(menu) == Grammar.of(["billing"], strict=False)


def test_registry_refuses_a_flow_the_recognizer_cannot_hear_and_takes_the_fix(
    speech: SpeechRecognition, tmp_path: Path
) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(dedent(menu_flow(words=", zorbly")))
    registry = FlowRegistry(tmp_path, check=speech.check)
    assert "shop" not in registry
    assert [(e.line, e.node, e.code) for e in registry.errors] == [(5, "menu", ErrorCode.SPEECH)]
    path.write_text(dedent(menu_flow(words=", invoice")) + "\n")
    registry.reload_if_changed()
    assert "shop" in registry and registry.errors == []


def test_flows_validate_command_reports_unknown_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOSK_MODEL", raising=False)
    monkeypatch.setenv("CG_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "shop.yaml").write_text(dedent(menu_flow(words=", zorbly")))
    assert cli_main(["flows", "validate", str(tmp_path)]) == 2
    out = capsys.readouterr()
    assert f"{tmp_path / 'shop.yaml'}:5: node 'menu': " in out.out and "'zorbly'" in out.out
    assert "0 flow(s) ok; 1 error(s) in 1 file(s)" in out.err
