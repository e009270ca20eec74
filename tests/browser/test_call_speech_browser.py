"""Speech answers from the customer widget in real Chromium: a fake microphone that talks -> WebRTC -> the IVR.

Chromium's fake microphone plays a WAV made here with the project's TTS (espeak-ng, en-us, 150 wpm): quiet
room noise, the answer, more quiet. Chromium loops the file, so the answer is said again every few seconds
and one repetition falls inside the menu's listening window (the menu listens from the start of its prompt
until its no-input timeout; the greeting before it does not listen). The test flow is tests/flows/default.yaml.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from playwright.async_api import expect

from media.audio import Audio
from media.audiofile import write_wav
from media.tts import Synthesizer
from tests.browser.conftest import LaunchWithMic
from tests.browser.test_call_browser import call_into_ivr, call_state, eventually, ivr_steps, live_calls, open_widget
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

RATE = 48000


async def write_spoken_mic(
    path: Path, text: str, lead_s: float = 1.5, tail_s: float = 3.0, noise_peak: int = 300
) -> Path:
    """A 48 kHz mono 16-bit WAV: ``lead_s`` of quiet room noise, ``text`` spoken, ``tail_s`` of quiet noise."""
    synth = Synthesizer(cache_dir=path.parent / "tts")
    speech = await synth.synthesize(text, voice="en-us", rate_wpm=150, sample_rate=RATE)
    voice = np.concatenate(
        [
            np.zeros(int(lead_s * RATE), np.int32),
            speech.samples.astype(np.int32),
            np.zeros(int(tail_s * RATE), np.int32),
        ]
    )
    noise = np.random.default_rng(4733).integers(-noise_peak, noise_peak, len(voice), dtype=np.int32, endpoint=True)
    mixed = np.clip(voice + noise, -32768, 32767).astype(np.int16)
    write_wav(path, Audio(mixed, RATE))
    return path


async def test_caller_says_billing_into_the_widget_and_is_queued_for_billing(
    speaking_browser: LaunchWithMic, node: Node, tmp_path: Path
) -> None:
    browser = await speaking_browser(await write_spoken_mic(tmp_path / "billing.wav", "billing"))
    ctx = await browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        bar, call = await call_into_ivr(page)
        cid = call["conversation_id"]
        assert cid
        # no key is pressed: the spoken word routes the call
        await expect(bar).to_have_attribute("data-status", "waiting", timeout=25000)
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("Waiting for an agent")
        assert (await call_state(page))["status"] == "waiting"
        assert node.services.calls.calls[call["id"]].digits_heard == []

        conv = await node.services.store.conversation(cid)
        assert conv is not None and conv["state"] == "queued" and conv["queue"] == "billing"
        steps = await ivr_steps(node, cid)
        assert any(k == "input" and n == "menu" and d.startswith("speech 'billing'") for k, n, d in steps), steps
        assert ("choice", "menu", "1 (Billing) -> billing") in steps
        kinds = [s[:2] for s in steps]
        assert kinds.index(("prompt", "menu")) < kinds.index(("choice", "menu")) < kinds.index(("queue", "billing"))

        await page.click("[data-testid=cg-hangup]")
        await expect(bar).to_have_attribute("data-status", "ended")
        await eventually(lambda: live_calls(node), lambda calls: calls == {}, "live calls after hang-up")
        assert errors == []
    finally:
        await ctx.close()


async def test_out_of_grammar_speech_in_the_widget_never_routes(
    speaking_browser: LaunchWithMic, node: Node, tmp_path: Path
) -> None:
    browser = await speaking_browser(await write_spoken_mic(tmp_path / "weather.wav", "what is the weather"))
    ctx = await browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        bar, call = await call_into_ivr(page)
        cid = call["conversation_id"]
        assert cid
        steps = await eventually(
            lambda: ivr_steps(node, cid), lambda s: any(k == "no_match" for k, _, _ in s), "a no_match step", timeout=25
        )
        assert any(k == "input" and n == "menu" and d.startswith("speech not understood") for k, n, d in steps), steps
        # every repetition is out of grammar: after the retry the flow gives up (fallback -> goodbye), never routes
        await expect(bar).to_have_attribute("data-status", "ended", timeout=25000)
        assert (await call_state(page))["reason"] == "no_choice"
        steps = await ivr_steps(node, cid)
        assert not any(k == "choice" for k, _, _ in steps), steps
        assert [s for s in steps if s[0] == "fallback"] == [("fallback", "menu", "-> goodbye")], steps
        conv = await node.services.store.conversation(cid)
        assert conv is not None and conv["state"] == "open" and conv["queue"] != "billing", conv
        await eventually(lambda: live_calls(node), lambda calls: calls == {}, "live calls after the flow hung up")
        assert errors == []
    finally:
        await ctx.close()
