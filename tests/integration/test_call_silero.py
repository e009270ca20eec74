"""``--vad silero`` in a real call: an answer said over steady noise on the caller's line ends and routes.

The same call as tests/integration/test_call_endpointing.py's noise test (a real aiortc caller on loopback,
white noise 10 dB under a loud espeak-ng "billing" from the first frame of the call, through Opus), with
the gateway's speech detector set to Silero: the menu plays out over the noise, the answer ends by silence
although the noise goes on, and routes; the noise alone is never an answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import numpy as np
import pytest

from gateway.config import Settings
from gateway.protocol.states import CallStatus
from media.asr import VadKind
from media.audio import Audio
from media.tts import Synthesizer
from tests.conftest import Clients, bounded
from tests.integration.test_call_endpointing import NOISE_DBFS, SR, VOICE_DBFS, NoisyLine, NoisyMic, ivr_steps
from tests.support.caller import in_ivr
from tests.support.servers import Node, start_node


@pytest.fixture
async def silero_node(settings: Settings) -> AsyncIterator[Node]:
    started = await start_node(replace(settings, vad="silero"))
    yield started
    await bounded(started.stop(), "stopping the gateway node")


async def test_an_answer_over_steady_noise_ends_and_routes_with_silero(
    silero_node: Node, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert silero_node.services.speech.vad is VadKind.SILERO
    synth = Synthesizer(cache_dir=tmp_path_factory.mktemp("tts"))
    speech = (await synth.synthesize("billing", voice="en-us", rate_wpm=150)).samples
    speech = speech[: int(np.nonzero(np.abs(speech.astype(np.int32)) > 64)[0][-1]) + 1].astype(np.float64)
    clients = Clients(silero_node.url)
    try:
        line = NoisyLine(NOISE_DBFS)
        async with in_ivr(clients.customer(), NoisyMic(line)) as caller:
            await caller.heard_prompt()  # the greeting
            await caller.heard_prompt(after=caller.recorded_seconds())  # the menu's first sentence
            level = 10 * np.log10(np.mean(speech[np.abs(speech) > 64] ** 2) / 32768.0**2)
            voice = speech * 10 ** ((VOICE_DBFS - level) / 20)
            over_noise = np.clip(np.round(voice + line.block(len(voice))), -32768, 32767).astype(np.int16)
            await caller.mic.play(Audio(over_noise, SR), "answer")  # the line's noise goes on after it
            await caller.status(CallStatus.WAITING, timeout=20)
            steps = await ivr_steps(silero_node, caller.conversation_id)
            assert any(k == "input" and n == "menu" and d.startswith("speech 'billing'") for k, n, d in steps), steps
            assert not any(k == "no_match" for k, _, _ in steps), steps
    finally:
        await bounded(clients.close(), "closing the test clients")
