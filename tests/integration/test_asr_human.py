"""Menu decisions on real human speech: Allison Smith's prompt voice from Debian's asterisk-core-sounds-en-wav.

The recordings are read in place (``./bin/test`` installs the package, see bench/human_set.py for the
licence). Through the real listener (48 kHz frames, webrtcvad, 16 kHz resampling, the worker pool): single
words outside the menu that the earlier two-view agreement routed ("march" -> monday in a days menu,
"today" in a months menu, "echo" in a NATO menu) are no-matches with the garbage competitor, and the
menu words themselves are still recognised.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.human_set import MENUS, ensure_installed, recording, word_file
from media.asr.grammar import Grammar
from media.asr.harness import listen
from media.asr.listener import Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.sphinx_engine import GARBAGE, TWO_VIEW, SphinxEngine

#: (menu, out-of-grammar word) that the two-view decision routed on this audio.
ROUTED_BEFORE = (("days", "march"), ("days", "september"), ("months", "today"), ("nato", "echo"), ("nato", "papa"))
IN_GRAMMAR = (("days", "monday"), ("days", "friday"), ("nato", "tango"), ("months", "april"))


@pytest.fixture(scope="module", autouse=True)
def sounds() -> None:
    ensure_installed()


@pytest.fixture(scope="module")
def engines() -> dict[str, SphinxEngine]:
    return {d: SphinxEngine(pool_size=1, decision=d) for d in (GARBAGE, TWO_VIEW)}


@pytest.fixture(scope="module")
def pool() -> Iterator[RecognitionPool]:
    p = RecognitionPool()
    yield p
    p.shutdown()


async def heard(engine: SphinxEngine, pool: RecognitionPool, menu: str, word: str) -> str:
    listener = SpeechListener(engine, pool, label="test-human")
    try:
        trace = await listen(listener, Grammar.of(MENUS[menu][0]), recording(word_file(word)))
    finally:
        await listener.close()
    out = trace.outcome
    return out.result.text if isinstance(out, Recognized) else ""


@pytest.mark.parametrize(("menu", "word"), ROUTED_BEFORE)
async def test_out_of_grammar_word_is_not_routed(
    engines: dict[str, SphinxEngine], pool: RecognitionPool, menu: str, word: str
) -> None:
    before = await heard(engines[TWO_VIEW], pool, menu, word)
    assert before, f"the two-view decision no longer routes {word!r}: pick a word it routes"
    assert await heard(engines[GARBAGE], pool, menu, word) == ""


@pytest.mark.parametrize(("menu", "word"), IN_GRAMMAR)
async def test_menu_words_are_still_recognised(
    engines: dict[str, SphinxEngine], pool: RecognitionPool, menu: str, word: str
) -> None:
    assert await heard(engines[GARBAGE], pool, menu, word) == word
