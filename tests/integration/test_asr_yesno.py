"""The read-back question's yes/no grammar on real human speech: words cut out of the prompt voice's recordings.

Debian's asterisk-core-sounds-en-g722 and -en-wav (read in place; ``./bin/test`` installs them, else these tests
skip) have no "yes" and no "correct" said alone; bench/word_cuts.py cuts "correct" out of "If this is correct,
press..." and "incorrect" out of "Login incorrect." by pocketsphinx's forced alignment ("yes" out of "yesterday", aligned
as "yes terday"). These tests check that the
cut is found where the word is, that the yes/no window a ``confirm`` gather opens (the grammar the gateway builds
from ivr/readback.py's words, the default decision, the listener as in a call) hears "correct" in it, and that no
take of "incorrect" (four prompts, 16 kHz and telephone band) is ever taken as an answer: its first view hears
"correct" (in one telephone-band take "yes", since the telephone band's MLLR transform) and the decision rejects it
(``./bin/bench asr --set human --tasks yesno,yesno-oog-near,...``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.asr_accuracy import telephone
from bench.human_set import YESNO_CUTS, YESNO_WORDS
from bench.word_cuts import Take, cut_word
from gateway.flows.speech import grammar_for
from ivr import readback
from ivr.actions import Listen, ListenMode
from ivr.events import Speech
from media.asr.grammar import Grammar
from media.asr.harness import listen
from media.asr.listener import NoMatch, Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.sphinx_engine import SphinxEngine
from tests.support import prompt_voice
from tests.support.prompt_voice import BANDS, NARROW, RATE, WIDE

CORRECT = next(t for t in YESNO_CUTS["in"] if t.word == "correct")
YES = next(t for t in YESNO_CUTS["in"] if t.word == "yes")  # the start of "yesterday", cut at the t's closure
INCORRECT = tuple(t for t in YESNO_CUTS["near"] if t.word == "incorrect")
NO = tuple(t for t in YESNO_CUTS["in"] if t.name in ("vm-nomore", "pbx-invalidpark"))


@pytest.fixture(scope="module", autouse=True)
def sounds() -> None:
    missing = prompt_voice.ensure_installed(wide=True)
    if missing:
        pytest.skip(missing)


@pytest.fixture(scope="module")
def engine() -> SphinxEngine:
    return SphinxEngine(pool_size=1)  # the default decision


@pytest.fixture(scope="module")
def pool() -> Iterator[RecognitionPool]:
    p = RecognitionPool()
    yield p
    p.shutdown()


def yes_no_grammar() -> Grammar:
    """The grammar of the window a confirm gather opens after reading the answer back (ivr/questions.py)."""
    choices, phrases = readback.listen_choices("en")
    grammar = grammar_for(Listen("l1", ListenMode.MENU, None, choices=choices, speech_hints=phrases))
    assert grammar is not None
    return grammar


async def window(engine: SphinxEngine, pool: RecognitionPool, take: Take, band: str) -> Recognized | NoMatch:
    audio = cut_word(take, band).samples
    listener = SpeechListener(engine, pool, label="test-yesno")
    try:
        trace = await listen(listener, yes_no_grammar(), telephone(audio) if band == NARROW else audio)
    finally:
        await listener.close()
    out = trace.outcome
    assert isinstance(out, (Recognized, NoMatch)), out
    return out


def answer(out: Recognized | NoMatch) -> str | None:
    """What the read-back question takes from the window: "yes", "no", or None (asked again)."""
    return (
        readback.answer(Speech(out.result.text, out.result.confidence), "en") if isinstance(out, Recognized) else None
    )


@pytest.mark.parametrize("band", BANDS)
def test_the_cut_of_correct_is_the_word(band: str) -> None:
    cut = cut_word(CORRECT, band)
    # "if this is correct, press": the word is aligned 570-1180 ms into the prompt (both recordings)
    assert 500 <= cut.word_start_ms <= 650 and 1100 <= cut.word_end_ms <= 1250, cut
    assert 0.5 <= len(cut.samples) / RATE <= 0.8
    assert (cut.word_end_ms - cut.word_start_ms) / cut.duration_ms > 0.85  # little of "is" or "press" in it
    assert min(cut.edges_db) > 15.0  # cut where it is quiet: the closure before the k, the pause after the t


@pytest.mark.parametrize("band", BANDS)
def test_the_cut_of_yes_ends_in_the_closure_before_terday(band: str) -> None:
    cut = cut_word(YES, band)
    assert cut.start_ms < 50 and 350 <= cut.word_end_ms <= 450, cut  # the s ends about 400 ms in, the t's burst follows
    assert min(cut.edges_db) > 40.0  # silence on both sides: nothing of "terday" in it


async def test_a_yes_no_window_takes_the_cut_yes_as_yes(engine: SphinxEngine, pool: RecognitionPool) -> None:
    out = await window(engine, pool, YES, WIDE)
    assert answer(out) == "yes", out


@pytest.mark.parametrize("band", BANDS)
async def test_a_yes_no_window_hears_correct_in_the_cut(engine: SphinxEngine, pool: RecognitionPool, band: str) -> None:
    out = await window(engine, pool, CORRECT, band)
    assert out.result.text == "correct", out
    assert answer(out) != "no"


@pytest.mark.parametrize("band", BANDS)
@pytest.mark.parametrize("take", INCORRECT, ids=lambda t: t.name)
async def test_incorrect_is_never_taken_as_yes(
    engine: SphinxEngine, pool: RecognitionPool, take: Take, band: str
) -> None:
    out = await window(engine, pool, take, band)
    # the first view hears a yes word: "correct" ("yes" in one telephone-band take, with the telephone band's MLLR)
    heard = readback.answer(Speech(out.result.text), "en")
    assert heard == "yes", f"the first view no longer hears a yes in {take.name}: {out}"
    assert answer(out) is None, f"'incorrect' ({take.name}, {band}) answered {answer(out)!r}: {out}"


@pytest.mark.parametrize("take", NO, ids=lambda t: t.name)
async def test_no_cut_out_of_a_prompt_answers_no(engine: SphinxEngine, pool: RecognitionPool, take: Take) -> None:
    out = await window(engine, pool, take, WIDE)
    assert answer(out) == YESNO_WORDS[take.word] == "no", out
