"""Menu decisions on real human speech: Allison Smith's prompt voice from Debian's asterisk-core-sounds-en-wav.

The recordings are read in place (``./bin/test`` installs the package, see bench/human_set.py for the
licence). Through the real listener (48 kHz frames, webrtcvad, 16 kHz resampling, the worker pool), with the
default engine: single words outside the menu that the default two-view decision routes ("march" -> monday
in a days menu, "today" in a months menu, "echo" in a NATO menu) are no-matches in a strict window (a flow's
``speech_strictness: strict``: the garbage competitor), and menu words are recognised both ways.
"""

from __future__ import annotations

import pytest

from bench.human_set import MENUS, ensure_installed, recording, word_file
from media.asr.grammar import Grammar
from media.asr.harness import listen
from media.asr.listener import Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.sphinx_engine import SphinxEngine

#: (menu, out-of-grammar word) that the default two-view decision routes on this audio (measured).
ROUTED_BEFORE = (("days", "march"), ("days", "september"), ("months", "today"), ("nato", "echo"), ("nato", "papa"))
IN_GRAMMAR = (("days", "monday"), ("days", "friday"), ("nato", "tango"), ("months", "april"))


@pytest.fixture(scope="module", autouse=True)
def sounds() -> None:
    ensure_installed()


@pytest.fixture(scope="module")
def engine() -> SphinxEngine:
    return SphinxEngine(pool_size=1)  # the default decision; strictness comes with each window's grammar


async def heard(engine: SphinxEngine, pool: RecognitionPool, menu: str, word: str, *, strict: bool) -> str:
    listener = SpeechListener(engine, pool, label="test-human")
    try:
        trace = await listen(listener, Grammar.of(MENUS[menu][0], strict=strict), recording(word_file(word)))
    finally:
        await listener.close()
    out = trace.outcome
    return out.result.text if isinstance(out, Recognized) else ""


@pytest.mark.parametrize(("menu", "word"), ROUTED_BEFORE)
async def test_a_strict_window_does_not_route_words_the_default_routes(
    engine: SphinxEngine, pool: RecognitionPool, menu: str, word: str
) -> None:
    assert await heard(engine, pool, menu, word, strict=False), (
        f"the default no longer routes {word!r}: pick one it does"
    )
    assert await heard(engine, pool, menu, word, strict=True) == ""


@pytest.mark.parametrize(("menu", "word"), IN_GRAMMAR)
@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
async def test_menu_words_are_recognised(
    engine: SphinxEngine, pool: RecognitionPool, menu: str, word: str, strict: bool
) -> None:
    assert await heard(engine, pool, menu, word, strict=strict) == word
