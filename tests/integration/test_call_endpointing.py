"""Endpointing in real calls: an answer ends on a short pause, and steady noise on the line does not hold it open.

A real aiortc caller on loopback speaks espeak-ng audio to the test line's
menu (pocketsphinx en-us, the default engine). Both tests are about the audio,
not the clock:

* The early end: after "billing" the caller's microphone sends 500 ms of
  silence and then *nothing at all* (no RTP) until it hears the reply. The
  gateway's endpointing runs on the caller's audio (milliseconds of samples
  received), so without an early end it can never see the 700 ms of
  trailing silence it waits for, and the caller would wait forever, however
  fast or slow the machine is. With it, the caller hears "Connecting you to
  billing" having sent less audio after its speech than the trailing silence.
* Steady noise: the caller's line carries white noise 10 dB under a loud
  voice from the first frame of the call. webrtcvad alone calls that noise
  speech: the menu was cut at once and every window ran to its maximum and
  came back a no-match, so the caller never got anywhere. Now the noise is
  the line's floor, the menu plays out, and "billing" said over it routes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from gateway.protocol.states import CallStatus
from media.asr.harness import white_noise
from media.asr.vad import VadSettings
from media.audio import Audio
from media.player import PromptPlayer
from media.tts import Synthesizer
from tests.conftest import Clients
from tests.support.caller import Caller, in_ivr, sound_segments
from tests.support.servers import Node

SR = 48000
BLOCK = 960
PAUSE_MS = 500  # what the caller sends after its speech before it goes quiet: under the trailing silence
VOICE_DBFS = -6.0
NOISE_DBFS = -16.0  # 10 dB under the voice; webrtcvad alone calls this speech after the codec (-20 it did not)


@pytest.fixture(scope="module")
def speak(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    synth = Synthesizer(cache_dir=tmp_path_factory.mktemp("tts"))

    async def say(text: str) -> np.ndarray:
        samples = (await synth.synthesize(text, voice="en-us", rate_wpm=150)).samples
        loud = np.nonzero(np.abs(samples.astype(np.int32)) > 64)[0]
        return samples[: int(loud[-1]) + 1]  # ends at its last audible sample

    return say


class HoldingMic(PromptPlayer):
    """A microphone that stops sending (no RTP at all) once a given utterance has gone out, until released."""

    def __init__(self) -> None:
        super().__init__()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._hold_after: asyncio.Future[Any] | None = None

    def say_then_hold(self, audio: Audio) -> asyncio.Future[Any]:
        self._hold_after = self.play(audio, "answer")
        return self._hold_after

    def release(self) -> None:
        self._flowing.set()

    @property
    def held(self) -> bool:
        return not self._flowing.is_set()

    async def recv(self) -> Any:
        await self._flowing.wait()
        frame = await super().recv()
        if self._hold_after is not None and self._hold_after.done():  # its last block was the one just sent
            self._hold_after = None
            self._flowing.clear()
        return frame


class NoisyLine:
    """The caller's line: steady white noise in every block the microphone sends while no utterance plays."""

    def __init__(self, dbfs: float) -> None:
        self._noise = white_noise(10_000, dbfs, seed=7)
        self._at = 0

    def block(self, n: int = BLOCK) -> np.ndarray:
        idx = (self._at + np.arange(n)) % len(self._noise)
        self._at = (self._at + n) % len(self._noise)
        return self._noise[idx]

    def pull(self) -> bytes:
        return self.block().tobytes()


class NoisyMic(PromptPlayer):
    def __init__(self, line: NoisyLine) -> None:
        super().__init__()
        self.live = line


async def menu_over(caller: Caller, quiet_s: float = 1.0) -> None:
    """Wait until the greeting and the whole menu were heard: sound, then ``quiet_s`` of silence."""
    async with asyncio.timeout(20):
        while True:
            segments = sound_segments(caller.heard)
            if len(segments) >= 2 and caller.recorded_seconds() - segments[-1][1] >= quiet_s:
                return
            await asyncio.sleep(0.05)


async def ivr_steps(node: Node, cid: str) -> list[tuple[str, str, str]]:
    return [(e["kind"], e["node"], e["detail"]) for e in await node.services.store.events(cid) if e["type"] == "ivr"]


async def test_a_menu_answer_ends_on_a_pause_shorter_than_the_trailing_silence(  # type: ignore[no-untyped-def]
    clients: Clients, node: Node, speak
) -> None:
    assert VadSettings().trailing_silence_ms > PAUSE_MS
    mic = HoldingMic()
    async with in_ivr(clients.customer(), mic) as caller:
        await menu_over(caller)
        speech = await speak("billing")
        asked = caller.recorded_seconds()
        sent = await mic.say_then_hold(Audio(np.concatenate([speech, np.zeros(SR * PAUSE_MS // 1000, np.int16)]), SR))
        assert sent == "finished"
        try:
            # what the caller hears next, while its microphone has sent nothing after those 500 ms
            async with asyncio.timeout(20):
                while not caller.heard_prompt_started(after=asked):
                    await asyncio.sleep(0.02)
            assert mic.held, "the microphone was released before the reply"
        finally:
            mic.release()
        await caller.status(CallStatus.WAITING)
        steps = await ivr_steps(node, caller.conversation_id)
        assert any(k == "input" and n == "menu" and d.startswith("speech 'billing'") for k, n, d in steps), steps


async def test_an_answer_over_steady_noise_ends_and_routes(clients: Clients, node: Node, speak) -> None:  # type: ignore[no-untyped-def]
    line = NoisyLine(NOISE_DBFS)
    async with in_ivr(clients.customer(), NoisyMic(line)) as caller:
        await caller.heard_prompt()  # the greeting
        await caller.heard_prompt(after=caller.recorded_seconds())  # the menu's first sentence
        speech = (await speak("billing")).astype(np.float64)
        level = 10 * np.log10(np.mean(speech[np.abs(speech) > 64] ** 2) / 32768.0**2)
        voice = speech * 10 ** ((VOICE_DBFS - level) / 20)
        over_noise = np.clip(np.round(voice + line.block(len(voice))), -32768, 32767).astype(np.int16)
        await caller.mic.play(Audio(over_noise, SR), "answer")  # the line's noise goes on after it
        await caller.status(CallStatus.WAITING, timeout=20)
        steps = await ivr_steps(node, caller.conversation_id)
        assert any(k == "input" and n == "menu" and d.startswith("speech 'billing'") for k, n, d in steps), steps
        assert not any(k == "no_match" for k, _, _ in steps), steps  # the noise alone was never an answer
