"""The callers of ``bench speech`` (bench/speech_calls.py): aiortc peers that answer the IVR by voice.

Run by the benchmark as ``python -m bench.speech_gen --generate ...`` (bench/loadgen.py), never by hand; its last
stdout line is its JSON report. Each process holds ``--calls`` callers (global indices ``--first`` ..
``--first + --calls``: a caller's index seeds its pauses and picks its words and voices, as when every caller ran in
the bench's process). Over every generator of a step the callers dial in the order of their indices, one every
0.1 s (the bench's ramp when they all ran in its process); each caller waits until the menu has ended (0.6 s of
silence), thinks 0.3-1.5 s, plays espeak-ng speech of one of the words (cut right after the last non-silent sample)
and listens for the reply: end of speech (the last non-silent sample it sent) -> the first audible frame of the reply,
on ``time.monotonic()`` (one clock for every process of the host: the bench lines the answers up with the
gateway's ``speech turn`` traces on it). With ``--ask-back`` the reply is the question that asks the answer back:
the caller hears it to its end, thinks 0.3-1.0 s, says "yes" in the same voice and times the next reply too.

Measured in the window ``[--start-at, --start-at + --seconds)`` (epoch): this process's CPU, and the frames its
callers received (the gateway sends one every 20 ms per call, silence included). At the window's end the callers
finish the answer they are in (its reply waited for up to 8 s) and hang up; the report has every caller's answers
(the bench keeps those whose speech ended in the window), its conversation id, its microphone's frames sent and
late over the whole call, and the failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.ivr_calls import pin_loopback
from bench.loadgen import FRAMES_PER_SECOND, until
from media import event_loop as node_loop
from media.asr.vad import Endpointer, FrameClassifier, SpeechEnded, VadSettings
from media.audio import Audio, resample, rms_dbfs
from media.player import PromptPlayer
from media.tts import Synthesizer
from tests.support.caller import Caller
from tests.support.clients import Customer

HERE = Path(__file__).resolve().parent
TTS_CACHE = HERE / "results" / "tts-cache"  # shared with bench/asr_accuracy.py: the same audio on every run
WORDS = ("billing", "support", "sales")
YES = "yes"  # the answer to "Did you say Billing?" (``--ask-back``)
VOICES = ("en-us", "en-gb", "en-us+m3", "en-us+f3")
RATE_WPM = 160
SR, BLOCK = 48000, 960
LOUD_DBFS = -45.0  # a received 20 ms frame louder than this is prompt audio
NON_SILENT = 64  # |sample| above this is speech (about -54 dBFS)
QUIET_S = 0.6  # silence after sound that means "the menu is over: answer now"
REPLY_TIMEOUT_S = 8.0
DIAL_GAP_S = 0.1  # between two callers' dials in one process
STOP_GRACE_S = 60.0  # after the window: the answers in flight finish, the callers hang up


@dataclass(frozen=True)
class Utterance:
    word: str
    voice: str
    audio: Audio  # ends at its last non-silent sample
    tail_s: float  # where that sample sits inside the last 20 ms block sent
    vad_end_ms: float  # webrtcvad on this clean audio decides "ended" this long after that sample


def utterance(word: str, voice: str, audio: Audio) -> Utterance:
    loud = np.nonzero(np.abs(audio.samples.astype(np.int32)) > NON_SILENT)[0]
    end = int(loud[-1]) + 1
    speech = audio.samples[:end]
    return Utterance(word, voice, Audio(speech, SR), ((end - 1) % BLOCK) / SR, offline_vad_end_ms(speech))


def offline_vad_end_ms(speech: npt.NDArray[np.int16]) -> float:
    """Where the gateway's VAD (default settings) ends this utterance, from its last non-silent sample:
    the configured trailing silence plus webrtcvad's own hangover (estimate: no codec, fresh VAD)."""
    settings, lead = VadSettings(), SR // 2
    pcm = resample(
        Audio(np.concatenate([np.zeros(lead, np.int16), speech, np.zeros(2 * SR, np.int16)]), SR), 16000
    ).samples
    vad, endpointer, n = FrameClassifier(settings), Endpointer(settings), settings.frame_samples
    endpointer.start(0, None)
    for i in range(0, len(pcm) - n + 1, n):
        for event in endpointer.frame(vad.is_speech(pcm[i : i + n].tobytes()), i * 1000 // 16000):
            if isinstance(event, SpeechEnded):
                return event.at_ms - (lead + len(speech)) * 1000 / SR
    return math.nan


async def prepare_speech() -> dict[tuple[str, str], Utterance]:
    """Every menu word and the yes of the asked-back question, in every voice."""
    synth = Synthesizer(cache_dir=TTS_CACHE)
    return {
        (w, v): utterance(w, v, await synth.synthesize(w, voice=v, rate_wpm=RATE_WPM))
        for w in (*WORDS, YES)
        for v in VOICES
    }


class Mic(PromptPlayer):
    """The caller's microphone: notes when the last block of the watched utterance went to the sender."""

    def __init__(self) -> None:
        super().__init__()
        self.watch: asyncio.Future[Any] | None = None
        self.last_block_at = 0.0

    async def recv(self) -> Any:
        frame = await super().recv()
        if self.watch is not None and self.watch.done():  # resolved by the block just returned
            self.last_block_at = time.monotonic()
            self.watch = None
        return frame


class Ears:
    """Fed every frame the caller receives: when sound was last heard, the first sound after a mark, and how much
    audio arrived (samples: the generator's frames-received check)."""

    def __init__(self) -> None:
        self.last_loud = 0.0
        self.mark = math.inf
        self.reply_at: float | None = None
        self.reply = asyncio.Event()
        self.samples = 0

    def feed(self, samples: npt.NDArray[np.int16]) -> None:
        self.samples += len(samples)
        if len(samples) and rms_dbfs(samples) > LOUD_DBFS:
            now = time.monotonic()
            self.last_loud = now
            if self.reply_at is None and now > self.mark:
                self.reply_at = now
                self.reply.set()

    def expect_reply(self, after: float) -> None:
        self.mark, self.reply_at = after, None
        self.reply.clear()

    async def prompt_over(self, since: float) -> None:
        """Sound heard after ``since``, then QUIET_S of silence."""
        while not (self.last_loud > since and time.monotonic() - self.last_loud >= QUIET_S):
            await asyncio.sleep(0.05)


async def keep_reading(customer: Customer, done: asyncio.Event) -> None:
    """Read (and drop) the caller's frames until ``done``: reading is what answers the gateway's pings."""
    while not done.is_set() and customer.ws is not None and not customer.ws.closed:
        await customer.quiet(0.5)


async def one_caller(
    base: str,
    idx: int,
    utterances: dict[tuple[str, str], Utterance],
    stop: asyncio.Event,
    result: dict[str, Any],
    limit: int | None = None,
    ears: Ears | None = None,
    ask_back: float | None = None,
) -> None:
    """Dial, then answer the menu until ``stop`` (or ``limit`` answers); answers go to ``result``. ``ask_back``: the
    menu asks every spoken answer back, and the caller answers the question with "yes" that many seconds after it
    began to be heard (``math.inf``: once it ended)."""
    rng = random.Random(idx)
    customer = Customer(base)
    caller = Caller(customer)
    caller.call_id = f"{caller.call_id}-{os.getpid()}"  # unique across the generator processes
    mic = caller.mic = Mic()  # before dial(): the offer sends this track
    ears = ears if ears is not None else Ears()
    answers: list[dict[str, Any]] = result.setdefault("answers", [])
    done = asyncio.Event()
    reading: asyncio.Task[None] | None = None
    try:
        await customer.hello()
        await caller.dial()
        assert caller.recorder is not None
        caller.recorder.on_samples = ears.feed
        result["conversation_id"] = caller.conversation_id
        # read the socket all along, as a browser does: the gateway's heartbeat (a ping every 25 s) closes a socket
        # that never answers, and a caller that only sent closed it within the step ("Cannot write to closing
        # transport" at its hang-up)
        reading = asyncio.create_task(keep_reading(customer, done))
        since, n = 0.0, idx
        while not stop.is_set() and (limit is None or len(answers) < limit):
            await asyncio.wait_for(ears.prompt_over(since), 30)  # the menu (or a re-prompt) ended
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            if stop.is_set():
                break
            u = utterances[WORDS[n % len(WORDS)], VOICES[(n // len(WORDS) + idx) % len(VOICES)]]
            n += 1
            ears.expect_reply(time.monotonic())
            mic.watch = mic.play(u.audio, f"answer-{n}")
            await mic.watch
            end = mic.last_block_at + u.tail_s
            wall_end = time.time() - (time.monotonic() - end)
            try:
                await asyncio.wait_for(ears.reply.wait(), REPLY_TIMEOUT_S)
            except TimeoutError:
                pass
            reply = ears.reply_at
            answer = {
                "word": u.word,
                "voice": u.voice,
                "end": end,
                "wall_end": wall_end,
                "vad_end_ms": u.vad_end_ms,
                "reply_ms": None if reply is None else (reply - end) * 1000,
            }
            answers.append(answer)
            since = end
            if ask_back is not None and reply is not None:
                since = await say_yes(ears, mic, utterances[YES, u.voice], rng, answer, ask_back)
        result["mic_frames"] = (mic.stats.frames_sent, mic.stats.late_frames)
        done.set()
        await reading
        await caller.hangup()
    except Exception as exc:  # noqa: BLE001 - a failed caller is reported, not fatal to the run
        result["error"] = repr(exc)
    finally:
        done.set()
        if reading is not None:
            await reading
        await caller.close()
        await customer.close()


async def say_yes(
    ears: Ears, mic: Mic, yes: Utterance, rng: random.Random, answer: dict[str, Any], after: float
) -> float:
    """Hear the question that asks the answer back to its end (``after`` inf: then think) or for ``after`` seconds
    (then cut in), say yes and wait for what comes next; into ``answer``: the yes's end of speech (monotonic and
    epoch), the next prompt heard after it, and from the end of the menu answer. Returns the yes's end of speech.
    Cutting in, the next prompt is the first sound after the yes's end (the question was cut at its start)."""
    if math.isinf(after):
        await asyncio.wait_for(ears.prompt_over(answer["end"]), 30)
        await asyncio.sleep(rng.uniform(0.3, 1.0))
    else:
        await asyncio.sleep(max(0.0, answer["end"] + answer["reply_ms"] / 1000 + after - time.monotonic()))
    ears.expect_reply(time.monotonic())
    mic.watch = mic.play(yes.audio, "yes")
    await mic.watch
    end = mic.last_block_at + yes.tail_s
    if not math.isinf(after):
        ears.expect_reply(end)
    answer["yes_end"], answer["yes_wall_end"] = end, time.time() - (time.monotonic() - end)
    try:
        await asyncio.wait_for(ears.reply.wait(), REPLY_TIMEOUT_S)
    except TimeoutError:
        pass
    reply = ears.reply_at
    answer["yes_reply_ms"] = None if reply is None else (reply - end) * 1000
    answer["routed_ms"] = None if reply is None else (reply - answer["end"]) * 1000
    return end


async def generate(
    base: str,
    first: int,
    calls: int,
    seconds: float,
    start_at: float,
    dial_at: float,
    ask_back: float | None = None,
) -> dict[str, Any]:
    """A load-generator process: callers ``first`` .. ``first + calls``, caller ``k`` dialling at ``dial_at + k *``
    :data:`DIAL_GAP_S` (epoch: over every generator, one call every 0.1 s in the order of their indices), measured
    from ``start_at`` (epoch) for ``seconds``."""
    pin_loopback()
    utterances = await prepare_speech()  # from the TTS cache the bench filled before it started this process
    stop = asyncio.Event()
    results: list[dict[str, Any]] = [{} for _ in range(calls)]
    ears = [Ears() for _ in range(calls)]
    tasks = []
    for i in range(calls):
        await until(dial_at + DIAL_GAP_S * (first + i))
        caller = one_caller(base, first + i, utterances, stop, results[i], ears=ears[i], ask_back=ask_back)
        tasks.append(asyncio.create_task(caller))
    await until(start_at)
    up = sum(1 for r in results if "conversation_id" in r and "error" not in r)
    heard0, c0, t0 = sum(e.samples for e in ears), time.process_time(), time.monotonic()
    await until(start_at + seconds)
    heard1, c1, t1 = sum(e.samples for e in ears), time.process_time(), time.monotonic()
    stop.set()
    # a caller finishes the answer it is in (the reply waited up to REPLY_TIMEOUT_S, the menu up to 30 s); one that
    # is still in it long after (its track no longer pulled: the answer never ends) is ended and counted as failed
    _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    for task, result in zip(tasks, results, strict=True):
        if task in late:
            result.setdefault("error", f"still answering {STOP_GRACE_S:.0f} s after the window")
    mic = [r.get("mic_frames", (0, 0)) for r in results]
    failed = [r["error"] for r in results if "error" in r]
    return {
        "first": first,
        "calls": calls,
        "window": [t0, t1],  # monotonic
        "window_s": t1 - t0,
        "cpu_s": c1 - c0,
        "late_start": up < calls,
        "frames_expected": int(up * (t1 - t0) * FRAMES_PER_SECOND),
        "frames_received": (heard1 - heard0) // BLOCK,
        "mic_frames_sent": sum(m[0] for m in mic),
        "mic_late_frames": sum(m[1] for m in mic),
        "failed": len(failed),
        "errors": failed[:3],
        "callers": [{k: v for k, v in r.items() if k != "mic_frames"} for r in results],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", action="store_true", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--first", type=int, default=0, help="the global index of this process's first caller")
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--start-at", type=float, required=True, help="the measured window's start (epoch)")
    parser.add_argument("--dial-at", type=float, required=True, help="when caller 0 of the step dials (epoch)")
    parser.add_argument(
        "--ask-back",
        type=float,
        help="answer the question that asks back with yes this many seconds into it (inf: after)",
    )
    args = parser.parse_args()
    result = node_loop.run(
        generate(args.base, args.first, args.calls, args.seconds, args.start_at, args.dial_at, args.ask_back)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
