"""Fixtures the speech recognition tests share (test_asr_*.py): one recognition pool, one espeak-ng synthesizer
and one Sphinx engine per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from media.asr.pool import RecognitionPool
from media.asr.sphinx_engine import SphinxEngine
from media.tts import Synthesizer


@pytest.fixture(scope="module")
def pool() -> Iterator[RecognitionPool]:
    p = RecognitionPool()
    yield p
    p.shutdown()


@pytest.fixture(scope="module")
def sphinx() -> SphinxEngine:
    return SphinxEngine(pool_size=2)


@pytest.fixture(scope="module")
def tts(tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    return Synthesizer(cache_dir=Path(tmp_path_factory.mktemp("tts")))
