"""Speech engines as services: a real Wyoming server process (media/wyoming_server.py) on loopback recognises and
speaks for the gateway, and the local engines take over when it stops.

The server wraps this project's own engines (pocketsphinx, espeak-ng), so what it hears is what the local engine
hears; which side answered is told by the counters of the client (``served`` / ``fell_back``) and of the breaker.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gateway.config import Settings
from gateway.protocol.states import CallStatus
from media.asr.engine import Result
from media.asr.grammar import Grammar
from media.asr.sphinx_engine import SphinxEngine
from media.asr.wyoming_engine import WyomingEngine
from media.audio import Audio, resample
from media.breaker import BreakerState, CircuitBreaker
from media.tts import Synthesizer
from media.wyoming_tts import WyomingTts
from tests.conftest import Clients, bounded
from tests.support.caller import in_ivr
from tests.support.servers import Node, WyomingServer, start_node

MENU = Grammar.of(["billing", "support"])

FLOW = """\
# Two spoken questions in a row, for the Wyoming test.
description: Wyoming test line.
start: department
defaults:
  voice: en-us
  timeout: 6s
  retries: 1
  no_match_prompt: "Please say it again."
nodes:
  department:
    type: menu
    var: department
    prompt: "Say billing or support."
    choices:
      - key: 1
        label: Billing
        value: billing
        words: [billing]
        next: check
      - key: 2
        label: Support
        value: support
        words: [support]
        next: check
    fallback: goodbye
  check:
    type: menu
    var: confirmed
    prompt: "Is that right? Say yes or no."
    choices:
      - key: 1
        label: "Yes"
        value: "yes"
        words: ["yes"]
        next: done
      - key: 2
        label: "No"
        value: "no"
        words: ["no"]
        next: goodbye
    fallback: goodbye
  done:
    type: hangup
    prompt: "Thank you, goodbye."
    reason: confirmed
  goodbye:
    type: hangup
    prompt: "Goodbye."
    reason: no_answer
"""


@pytest.fixture
def wyoming() -> Iterator[WyomingServer]:
    server = WyomingServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def speak(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    synth = Synthesizer(cache_dir=tmp_path_factory.mktemp("tts"))

    async def say(text: str) -> Audio:
        return await synth.synthesize(text, voice="en-us", rate_wpm=150)

    return say


def utterance(audio: Audio) -> bytes:
    """A listener's window: 0.3 s of silence, the words at 16 kHz, 0.3 s of silence."""
    pad = np.zeros(4800, dtype=np.int16)
    return np.concatenate([pad, resample(audio, 16000).samples, pad]).astype(np.int16).tobytes()


def decode(engine: WyomingEngine, pcm: bytes) -> Result:
    recognizer = engine.recognizer(MENU)
    try:
        recognizer.accept(pcm)
        return recognizer.final()
    finally:
        recognizer.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SilentServer:
    """A port that accepts connections and never answers (a hung speech server); counts the connections."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="silent-server")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


async def test_server_answers_then_fallback_then_breaker_opens_and_closes(wyoming: WyomingServer, speak) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    states: list[BreakerState] = []
    breaker = CircuitBreaker("asr test", failures=2, pause_s=30, clock=clock, on_change=states.append)
    engine = WyomingEngine(wyoming.url, SphinxEngine(1), timeout_s=8.0, breaker=breaker)  # a loaded CI decodes slowly
    billing = utterance(await speak("billing"))

    first = await asyncio.to_thread(decode, engine, billing)
    assert (first.text, first.confidence, engine.served, engine.fell_back) == ("billing", 1.0, 1, 0)

    wyoming.halt()  # the server dies: refused connections, the local engine answers the same
    answers = [await asyncio.to_thread(decode, engine, billing) for _ in range(2)]
    assert [r.text for r in answers] == ["billing", "billing"]
    assert (engine.served, engine.fell_back, breaker.state) == (1, 2, BreakerState.OPEN)

    hung = SilentServer(wyoming.port)  # something on the port again, but it never answers
    try:
        third = await asyncio.to_thread(decode, engine, billing)
        assert (third.text, engine.fell_back, len(hung.accepted)) == ("billing", 3, 0)  # open: not even asked
        clock.now += 30  # the pause is over: one probe goes out, times out, and the breaker opens again
        fourth = await asyncio.to_thread(decode, engine, billing)
        assert (fourth.text, engine.fell_back, len(hung.accepted), breaker.state) == (
            "billing",
            4,
            1,
            BreakerState.OPEN,
        )
    finally:
        hung.close()

    wyoming.start()  # back on the same port
    clock.now += 30
    fifth = await asyncio.to_thread(decode, engine, billing)
    assert (fifth.text, engine.served, engine.fell_back, breaker.state) == ("billing", 2, 4, BreakerState.CLOSED)
    assert states == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]


async def test_server_prompts_are_cached_and_espeak_speaks_when_it_is_down(wyoming: WyomingServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    remote = WyomingTts(wyoming.url, timeout_s=5.0, breaker=CircuitBreaker("tts test", failures=1, pause_s=600))
    synth = Synthesizer(cache_dir=tmp_path / "tts", remote=remote)
    hello = await synth.synthesize("Hello from the server.")
    assert (remote.served, remote.failed, hello.sample_rate) == (1, 0, 48000) and hello.duration > 0.5
    wyoming.halt()
    again = await synth.synthesize("Hello from the server.")  # the server's audio, from the cache
    assert np.array_equal(again.samples, hello.samples) and remote.failed == 0
    other = await synth.synthesize("Something new.")  # espeak-ng, the server being down
    assert other.duration > 0.3 and (remote.served, remote.failed, remote.breaker.state) == (1, 1, BreakerState.OPEN)
    await synth.synthesize("And more.")  # the breaker is open: not asked again
    assert remote.failed == 1


@pytest.fixture
async def wyoming_node(settings: Settings, tmp_path: Path, wyoming: WyomingServer) -> AsyncIterator[Node]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "default.yaml").write_text(FLOW)
    started = await start_node(replace(settings, flows_dir=flows, asr_url=wyoming.url, tts_url=wyoming.url))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_a_call_served_by_the_wyoming_server_goes_on_when_it_stops(
    wyoming_node: Node,
    wyoming: WyomingServer,
    speak,  # type: ignore[no-untyped-def]
) -> None:
    calls = wyoming_node.services.calls
    assert calls.speech is not None and calls.synthesizer.remote is not None
    tts = calls.synthesizer.remote
    clients = Clients(wyoming_node.url)
    try:
        async with in_ivr(clients.customer()) as caller:
            await caller.heard_prompt()  # "Say billing or support.", spoken by the server
            assert tts.served == 1
            await caller.say(await speak("billing"))
            await caller.heard_prompt(after=caller.recorded_seconds())  # the next question
            engine = calls.speech.engines.get()  # the one the flow got (made once, shared)
            assert isinstance(engine, WyomingEngine)
            assert (engine.served, engine.fell_back) == (1, 0)
            assert tts.served == 2

            wyoming.halt()  # the speech server dies mid-call
            await caller.say(await speak("yes"))
            ended = await caller.status(CallStatus.ENDED, timeout=20)
            assert ended["reason"] == "confirmed"
            assert (engine.served, engine.fell_back) == (1, 1)  # pocketsphinx in the gateway heard the "yes"
            assert tts.failed == 1  # and espeak-ng said goodbye
        store = wyoming_node.services.store
        context = await store.context(caller.conversation_id)
        assert (context["department"], context["confirmed"]) == ("billing", "yes")
    finally:
        await bounded(clients.close(), "closing the clients")
