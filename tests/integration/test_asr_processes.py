"""pocketsphinx's grammar searches in worker processes (media/asr/sphinx_procs.py): the same answers, real processes.

The workers are real ``spawn`` processes with their own model; these tests compare their results with the
in-process engine's on espeak-ng speech, kill a worker to check that decoding goes on in the node process, and
check that closing leaves no process behind. Nothing is timed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import psutil
import pytest

from media.asr.grammar import Grammar
from media.asr.harness import listen
from media.asr.listener import SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.selection import SpeechEngines
from media.asr.sphinx_engine import SphinxEngine
from media.asr.sphinx_procs import SphinxProcessEngine
from media.audio import Audio, resample
from media.tts import Synthesizer

MENU = Grammar.of(["billing", "support", "sales"])


@pytest.fixture(scope="module")
def procs() -> Iterator[SphinxProcessEngine]:
    engine = SphinxProcessEngine(2)
    try:
        yield engine
    finally:
        engine.close()
    assert not multiprocessing.active_children()


async def utterance(tts: Synthesizer, word: str, voice: str) -> bytes:
    audio = await tts.synthesize(word, voice=voice, rate_wpm=160)
    padded = np.concatenate([np.zeros(4800, np.int16), audio.samples, np.zeros(48000 * 7 // 10, np.int16)])
    return bytes(resample(Audio(padded, 48000), 16000).samples.tobytes())


async def test_the_worker_processes_decide_as_the_node_process_does(
    procs: SphinxProcessEngine, sphinx: SphinxEngine, tts: Synthesizer
) -> None:
    grammar, text = sphinx.usable_grammar(MENU)
    digits, digits_text = sphinx.usable_grammar(Grammar.of([], digits=True, min_digits=4, max_digits=4))
    for word, voice in [("billing", "en-us"), ("support", "en-us+f3"), ("sales", "en-gb"), ("hello there", "en-us")]:
        pcm = await utterance(tts, word, voice)
        assert procs.decode(pcm, grammar, text) == sphinx.decode(pcm, grammar, text), (word, voice)
    pcm = await utterance(tts, "four two seven one", "en-us")
    assert procs.decode(pcm, digits, digits_text) == sphinx.decode(pcm, digits, digits_text)
    assert "worker processes" in procs.describe()


async def test_a_listener_on_worker_processes(
    procs: SphinxProcessEngine, pool: RecognitionPool, tts: Synthesizer
) -> None:
    listener = SpeechListener(procs, pool, label="procs")
    try:
        audio = await tts.synthesize("billing", voice="en-us", rate_wpm=160)
        trace = await listen(listener, MENU, audio.samples, no_input_ms=None, paced=True)
    finally:
        await listener.close()
    assert trace.text == "billing"


async def test_a_dead_worker_leaves_decoding_to_the_node_process(sphinx: SphinxEngine, tts: Synthesizer) -> None:
    others = set(multiprocessing.active_children())  # the module's engine's
    engine = SphinxProcessEngine(1)
    try:
        grammar, text = engine.usable_grammar(MENU)
        pcm = await utterance(tts, "sales", "en-us")
        assert engine.decode(pcm, grammar, text) == sphinx.decode(pcm, grammar, text)
        (worker,) = set(multiprocessing.active_children()) - others
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(30)
        assert engine.decode(pcm, grammar, text) == sphinx.decode(pcm, grammar, text)  # here, not in the dead one
        assert engine.decode(pcm, grammar, text) == sphinx.decode(pcm, grammar, text)
    finally:
        engine.close()
    assert set(multiprocessing.active_children()) <= others


async def test_a_ctrl_c_for_the_node_leaves_its_decoding_processes_to_it(
    sphinx: SphinxEngine, tts: Synthesizer
) -> None:
    """Ctrl+C in the terminal of `serve` reaches the whole process group: each decoding process printed a
    KeyboardInterrupt traceback and died (a user test saw two at every stop). They leave stopping to the node."""
    others = set(multiprocessing.active_children())
    engine = SphinxProcessEngine(1)
    try:
        grammar, text = engine.usable_grammar(MENU)
        (worker,) = set(multiprocessing.active_children()) - others
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGINT)
        worker.join(1.0)
        assert worker.is_alive()
        pcm = await utterance(tts, "billing", "en-us")
        assert engine.decode(pcm, grammar, text) == sphinx.decode(pcm, grammar, text)
        assert worker.is_alive()  # it did the decode
    finally:
        engine.close()
    assert set(multiprocessing.active_children()) <= others


def test_the_node_s_engines_stop_their_processes() -> None:
    others = set(multiprocessing.active_children())
    engines = SpeechEngines(sphinx_processes=1)
    engine = engines.get()
    assert isinstance(engine, SphinxProcessEngine) and set(multiprocessing.active_children()) - others
    engines.close()
    assert set(multiprocessing.active_children()) <= others
    assert not isinstance(SpeechEngines().get(), SphinxProcessEngine)  # 0 (the default here): threads


def test_decoding_processes_end_when_their_node_is_killed() -> None:
    """A node SIGKILLed (or a worker that died) must not leave its decoding processes behind: they found the
    orphans of a killed node still running 35 minutes later, 100 MB each, before they checked for their parent."""
    script = (
        "import os, sys, time\n"
        "from media.asr.sphinx_procs import SphinxProcessEngine\n"
        "engine = SphinxProcessEngine(2)\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    node = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert node.stdout is not None and node.stdout.readline().strip() == "ready"
        children = psutil.Process(node.pid).children(recursive=True)
        decoders = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
        assert len(decoders) == 2, [c.cmdline() for c in children]
    finally:
        node.kill()
        node.wait()
        if node.stdout is not None:
            node.stdout.close()
    _, alive = psutil.wait_procs(children, timeout=30)
    for proc in alive:  # the failure: reap them so the suite does not keep them either
        proc.kill()
    assert [p.pid for p in alive if p in decoders] == []
