"""The offline English default (pocketsphinx en-us) on real espeak-ng speech through SpeechListener.

Audio path as in a call: espeak-ng at 48 kHz, fed in 20 ms frames, resampled
to 16 kHz with PyAV, webrtcvad endpointing, decoding in the worker pool.
The accuracy tables are printed (``pytest -s``) and asserted against bars
measured on this machine: synthetic voices are far from the telephone
speech the model was trained on, so the bars are realistic, not perfect.
What is asserted strictly: nothing in grammar is ever routed to a
*different* phrase, and silence and noise never route.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from media.asr import sphinx_engine
from media.asr.grammar import Grammar
from media.asr.harness import listen, silence, white_noise
from media.asr.listener import NoMatch, Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.sphinx_decision import TWO_VIEW
from media.asr.sphinx_engine import CHECK_FLOOR_BELOW_SPEECH_DB, SphinxEngine, confidence_from
from media.asr.sphinx_search import SEGMENT_SCORE_SHIFT
from media.asr.vad import NoInputTimeout
from media.audio import resample
from media.tts import Synthesizer

VOICES = ("en-us", "en-gb", "en-us+f3")
MENU = Grammar.of(["billing", "support", "sales"])
YES_NO = Grammar.of(["yes", "no"])
PIN = Grammar.of([], digits=True, min_digits=4, max_digits=4)
OUT_OF_GRAMMAR = ("hello there", "what is the weather", "cancel my order", "good morning", "thank you", "maybe later")
PINS = ("1234", "5690", "7788", "3017", "2468", "9051")
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def table(title: str, rows: dict[str, dict[str, str]]) -> str:
    cols = sorted({c for r in rows.values() for c in r}, key=list(VOICES + ("en-us+m3",)).index)
    lines = [title, f"{'':22s}" + "".join(f"{c:>24s}" for c in cols)]
    lines += [f"{k:22s}" + "".join(f"{r.get(c, ''):>24s}" for c in cols) for k, r in rows.items()]
    return "\n".join(lines)


def cell(outcome: object) -> str:
    if isinstance(outcome, Recognized):
        return f"{outcome.result.text} {outcome.result.confidence:.2f}"
    if isinstance(outcome, NoMatch):
        r = outcome.result
        return f"no-match {outcome.reason.value[:5]} {r.heard if r else ''}".strip()
    return "no-input"


async def test_menu_words_and_yes_no_across_voices(
    sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer
) -> None:
    listener = SpeechListener(sphinx, pool, label="sphinx-words")
    rows: dict[str, dict[str, str]] = {}
    right = wrong = 0
    try:
        for grammar, words in ((MENU, ("billing", "support", "sales")), (YES_NO, ("yes", "no"))):
            for word in words:
                for voice in VOICES:
                    trace = await listen(listener, grammar, (await tts.synthesize(word, voice=voice)).samples)
                    rows.setdefault(word, {})[voice] = cell(trace.outcome)
                    right += trace.text == word
                    wrong += trace.text not in ("", word)
    finally:
        await listener.close()
    print("\n" + table(f"pocketsphinx, menu and yes/no grammars: {right}/15 right, {wrong} wrong", rows))
    assert wrong == 0  # a misroute is worse than a retry
    assert right >= 13  # measured 15/15 here; earlier runs (other grammars) missed 'no' or 'billing' as no-matches


async def test_digit_string(sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer) -> None:
    listener = SpeechListener(sphinx, pool, label="sphinx-digits")
    results = {}
    try:
        for voice in ("en-us", "en-us+f3", "en-us+m3"):
            trace = await listen(listener, PIN, (await tts.synthesize("one two three four", voice=voice)).samples)
            results[voice] = trace.outcome
    finally:
        await listener.close()
    print(
        "\n"
        + table(
            "pocketsphinx, 4-digit grammar, 'one two three four'",
            {"one two three four": {v: cell(o) for v, o in results.items()}},
        )
    )
    digits = [o.result.digits for o in results.values() if isinstance(o, Recognized)]
    assert digits.count("1234") >= 2 and all(d == "1234" for d in digits)


async def test_silence_is_no_input(sphinx: SphinxEngine, pool: RecognitionPool) -> None:
    listener = SpeechListener(sphinx, pool)
    try:
        trace = await listen(listener, MENU, silence(6000), lead_ms=0, tail_ms=0)
    finally:
        await listener.close()
    assert trace.kinds() == ["NoInputTimeout"] and trace.outcome == NoInputTimeout(5000)


@pytest.mark.parametrize("grammar", [MENU, YES_NO, PIN], ids=["menu", "yes-no", "pin"])
async def test_noise_never_routes(sphinx: SphinxEngine, pool: RecognitionPool, grammar: Grammar) -> None:
    listener = SpeechListener(sphinx, pool)
    outcomes = []
    try:
        for dbfs in (-50, -40, -30, -20, -10):
            trace = await listen(listener, grammar, white_noise(1500, dbfs, seed=-dbfs))
            outcomes.append((dbfs, cell(trace.outcome)))
            assert isinstance(trace.outcome, (NoMatch, NoInputTimeout)), (dbfs, trace.events)
    finally:
        await listener.close()
    print(f"\nwhite noise, {grammar.phrases or 'digits'}: {outcomes}")


async def test_out_of_grammar_speech_is_rarely_routed(
    sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer
) -> None:
    listener = SpeechListener(sphinx, pool, label="sphinx-oog")
    rows: dict[str, dict[str, str]] = {}
    routed = 0
    try:
        for phrase in OUT_OF_GRAMMAR:
            for voice in VOICES:
                trace = await listen(listener, MENU, (await tts.synthesize(phrase, voice=voice)).samples)
                rows.setdefault(phrase, {})[voice] = cell(trace.outcome)
                routed += isinstance(trace.outcome, Recognized)
    finally:
        await listener.close()
    print("\n" + table(f"pocketsphinx, menu grammar, out-of-grammar speech: {routed}/18 routed", rows))
    # measured 0/18 (before the comfort noise, the new thresholds and the second view: 2/18, en-us+f3
    # "hello there" -> billing, "good morning" -> support); the bench still finds 1 in 101 per condition
    assert routed <= 1


async def test_repeatable_across_windows(sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer) -> None:
    """CMN is reset per utterance: the same audio gives the same confidence in any order."""
    listener = SpeechListener(sphinx, pool)
    audio = (await tts.synthesize("support", voice="en-gb")).samples
    try:
        first = (await listen(listener, MENU, audio)).outcome
        await listen(listener, MENU, white_noise(1000, -20))
        await listen(listener, YES_NO, (await tts.synthesize("yes", voice="en-us")).samples)
        again = (await listen(listener, MENU, audio)).outcome
    finally:
        await listener.close()
    assert isinstance(first, Recognized) and first == again
    assert np.isclose(first.result.confidence, again.result.confidence)  # type: ignore[union-attr]


async def test_segment_scores_are_on_the_scale_the_confidence_assumes(sphinx: SphinxEngine, tts: Synthesizer) -> None:
    """The confidence reads word acoustic scores on the path score's scale (after SEGMENT_SCORE_SHIFT)."""
    audio = resample(await tts.synthesize("billing", voice="en-us"), 16000)
    pcm = np.concatenate([np.zeros(4800, np.int16), audio.samples, np.zeros(8000, np.int16)]).tobytes()
    _, text = sphinx.usable_grammar(MENU)
    with sphinx.pool.borrow() as item:
        item.activate(text)
        item.decoder.start_utt()
        item.decoder.process_raw(pcm, full_utt=True)
        item.decoder.end_utt()
        hyp = item.decoder.hyp()
        segments = [s for s in item.decoder.seg() if s.word not in ("<s>", "</s>")]
        base = math.log(float(item.decoder.config["logbase"]))
    assert hyp is not None and hyp.hypstr == "billing"
    acoustic = sum(math.log(s.ascore) / base for s in segments) / (1 << SEGMENT_SCORE_SHIFT)
    path = math.log(hyp.score) / base  # acoustic plus grammar and insertion penalties
    assert 0.3 < acoustic / path < 1.0


def spoken(pin: str) -> str:
    return " ".join(DIGIT_NAMES[int(d)] for d in pin)


async def test_digit_strings_are_right_or_rejected(
    sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer
) -> None:
    """Six 4-digit strings in the en-us voice: never a wrong number (a misroute), mostly the right one."""
    listener = SpeechListener(sphinx, pool, label="sphinx-pins")
    cells: dict[str, str] = {}
    right = wrong = 0
    try:
        for pin in PINS:
            trace = await listen(listener, PIN, (await tts.synthesize(spoken(pin), voice="en-us")).samples)
            got = trace.outcome.result.digits if isinstance(trace.outcome, Recognized) else None
            cells[pin] = cell(trace.outcome)
            right += got == pin
            wrong += got not in (None, pin)
    finally:
        await listener.close()
    print(f"\npocketsphinx, 4-digit strings in en-us: {right}/6 right, {wrong} wrong: {cells}")
    assert wrong == 0
    # measured 4/6 (5690 and 7788 rejected: fit under the threshold); before the comfort noise and the
    # second view the bench had this voice at 160 wpm route "five six nine zero" as 5290, 2468 as 2462
    assert right >= 3


@pytest.mark.parametrize("snr_db", [20, 10])
async def test_steady_noise_under_the_speech(
    sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer, snr_db: int
) -> None:
    """White noise under the whole window, ``snr_db`` under the speech: the right word is still recognised.

    The loudness coverage used to count noise frames as speech (anything within 35 dB of the loudest
    frame), so every right answer covered a third of the "speech" and was rejected: 0 % recognised.
    """
    listener = SpeechListener(sphinx, pool, label=f"sphinx-snr{snr_db}")
    outcomes: dict[str, str] = {}
    right = routed_oog = 0
    try:
        for text in ("billing", "support", "sales", "hello there", "good morning", "cancel my order"):
            speech = (await tts.synthesize(text, voice="en-us")).samples
            window = np.concatenate([np.zeros(24000, np.int16), speech, np.zeros(96000, np.int16)])
            level = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / 32768**2)
            noise = np.random.default_rng(snr_db).normal(0, 32768 * 10 ** ((level - snr_db) / 20), len(window))
            audio = np.clip(window + noise, -32768, 32767).astype(np.int16)
            trace = await listen(listener, MENU, audio, lead_ms=0, tail_ms=0)
            outcomes[text] = cell(trace.outcome)
            if text in MENU.phrases:
                right += trace.text == text
                assert trace.text in ("", text)
            else:
                routed_oog += isinstance(trace.outcome, Recognized)
    finally:
        await listener.close()
    print(f"\npocketsphinx, menu grammar, white noise {snr_db} dB under the speech: {outcomes}")
    assert right >= 2  # measured 3/3 at 20 and 10 dB
    # measured 0/3 at 20 dB; at 10 dB "hello there" -> billing is marginal (0.52-0.54 or a no-match,
    # depending on espeak-ng's pitch flutter, i.e. on what the process synthesised before)
    assert routed_oog <= (0 if snr_db >= 20 else 1)


async def test_the_second_view_must_agree(
    sphinx: SphinxEngine, tts: Synthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A right answer is accepted only when the decode with other comfort noise gives the same words."""
    audio = resample(await tts.synthesize("billing", voice="en-us"), 16000).samples
    pcm = np.concatenate([np.zeros(4800, np.int16), audio, np.zeros(11200, np.int16)]).tobytes()
    recognizer = sphinx.recognizer(MENU)
    recognizer.accept(pcm)
    agreed = recognizer.final()
    assert agreed.text == "billing" and agreed.confidence >= sphinx.min_confidence

    real = sphinx_engine.with_noise_floor

    def deaf_second_view(
        pcm16k: bytes, below_speech_db: float, seed: int = 0, high_band_below_db: float | None = None
    ) -> bytes:
        if below_speech_db == CHECK_FLOOR_BELOW_SPEECH_DB:
            return bytes(len(pcm16k))  # the second view hears nothing: it cannot agree
        return real(pcm16k, below_speech_db, seed, high_band_below_db)

    monkeypatch.setattr(sphinx_engine, "with_noise_floor", deaf_second_view)
    recognizer.accept(pcm)
    disputed = recognizer.final()
    assert (disputed.text, disputed.heard, disputed.confidence) == ("billing", "billing", 0.0)


def test_confidence_calibration() -> None:
    """0.5 (the threshold) at coverage 0.70 with fit -25; either measure alone can veto."""
    assert confidence_from(0.70, -25.0) == pytest.approx(0.5)
    assert confidence_from(1.0, -10.0) == 1.0
    assert confidence_from(0.64, -10.0) < 0.5 and confidence_from(1.0, -28.0) < 0.5
    assert confidence_from(0.35, -10.0) == 0.0 and confidence_from(1.0, -45.0) == 0.0
    assert confidence_from(float("nan"), -10.0) == 0.0


async def test_free_dictation_for_transcripts_with_the_bundled_language_model(
    sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer
) -> None:
    """No grammar (a live transcript): the en-us LM dictates. Synthetic speech is far from what the model was
    trained on, so the words are asserted loosely: most of what was said, nothing from silence."""
    listener = SpeechListener(sphinx, pool, label="sphinx-free")
    said = "i would like to talk to someone about my account"
    speech = (await tts.synthesize(said, voice="en-us")).samples
    try:
        # a generous bound: the first dictation makes the LM decoder (about 5 s on a quiet machine) and decodes
        # with it (about 1 s of CPU); a machine loaded 10 deep stretched that past the harness's 15 s
        trace = await listen(listener, None, speech, no_input_ms=None, min_confidence=0.0, timeout=90)
        quiet = await listen(listener, None, silence(3000), lead_ms=0, tail_ms=0, no_input_ms=2000, min_confidence=0.0)
    finally:
        await listener.close()
    assert isinstance(trace.outcome, Recognized), trace.outcome
    heard = trace.outcome.result.text.split()
    print(f"\nsaid {said!r}, dictated {' '.join(heard)!r}")
    assert len(set(heard) & set(said.split())) >= 4
    assert 0.5 <= trace.outcome.result.confidence <= 1.0
    assert quiet.kinds() == ["NoInputTimeout"]
    assert sphinx.free_pool is not None and sphinx.free_pool.made == 1


async def test_a_quiet_line_adds_the_clean_bonus_and_a_noisy_one_does_not(
    tts: Synthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under ``two-view`` (the default before ``fitted``, which keeps the bonus for digit strings only)."""
    sphinx = SphinxEngine(pool_size=1, decision=TWO_VIEW)
    grammar, text = sphinx.usable_grammar(MENU)

    def decode(pcm: np.ndarray, bonus: float) -> tuple[str, float]:
        monkeypatch.setattr(sphinx_engine, "CLEAN_BONUS", bonus)
        result = sphinx.decode(pcm.tobytes(), grammar, text)
        return result.text, result.confidence

    tried = []
    for word, voice in (("sales", "en-gb"), ("support", "en-us+f3"), ("billing", "en-gb"), ("sales", "en-us+m3")):
        speech = resample(await tts.synthesize(word, voice=voice, rate_wpm=190), 16000).samples
        clean = np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(8000, np.int16)])
        plain = decode(clean, 0.0)
        tried.append((word, voice, plain))
        if plain[0] == word and 0 < plain[1] < 0.95:
            break
    else:
        pytest.fail(f"no test word decoded with a mid confidence: {tried}")
    assert decode(clean, 0.05) == (word, pytest.approx(plain[1] + 0.05))
    noise = np.random.default_rng(5).normal(0, float(np.std(speech.astype(np.float64))) / 10 ** (15 / 20), len(clean))
    noisy = np.clip(clean + noise, -32768, 32767).astype(np.int16)
    assert sphinx_engine.snr_db(clean.tobytes()) > 60 and sphinx_engine.snr_db(noisy.tobytes()) < 30
    assert decode(noisy, 0.05) == decode(noisy, 0.0)  # a noisy line gets no bonus
