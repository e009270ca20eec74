"""CallTaps: a call's recording is finished and put on its timeline whatever happens to the task that asked."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np

from gateway.calls.handoff import Dropped, Handoff
from gateway.calls.manager import Call
from gateway.calls.taps import CallTaps
from gateway.metrics import Metrics
from gateway.protocol.states import EventType
from media.recorder import BATCH_BLOCKS, StereoRecorder


async def test_a_recording_whose_finishing_task_is_cancelled_is_still_written_and_on_the_timeline(
    tmp_path: Path,
) -> None:
    """A hand-off task letting go of the agent's leg is cancelled by the call's end (it closes the hand-off's
    tasks) right after it asked for the recording to be closed. The close must not be dropped: with every worker
    of the loop's default executor busy, a cancelled ``to_thread(close)`` was never run, and the file stayed a
    ``.part`` with its writer thread waiting for good."""
    timeline: list[tuple[str, EventType, dict[str, Any]]] = []

    async def record(call: Call, typ: EventType, data: dict[str, Any]) -> None:
        timeline.append((call.id, typ, data))

    taps = CallTaps(record, recordings=tmp_path)
    call = cast(Call, SimpleNamespace(id="call-7", conversation_id="c-7"))
    handoff = Handoff(call, queued_ms=0)
    path = tmp_path / "c-7" / "call-7-1.ogg"
    handoff.recorder = recorder = StereoRecorder(path)
    for _ in range(50):  # one second of both sides
        recorder("a", np.full(960, 1000, np.int16))
        recorder("b", np.full(960, -1000, np.int16))

    loop = asyncio.get_running_loop()
    busy, release = ThreadPoolExecutor(max_workers=1), threading.Event()
    loop.set_default_executor(busy)
    try:
        blocker = loop.run_in_executor(None, release.wait)  # the only worker is busy: the close has to queue
        asker = asyncio.create_task(taps.finish_recording(handoff, "alice"))
        await asyncio.sleep(0.05)  # it asked for the close
        asker.cancel()
        await asyncio.gather(asker, return_exceptions=True)
        assert handoff.recorder is None
        release.set()
        await blocker
        await taps.stop()  # the node's stop waits for recordings still being written
    finally:
        release.set()
        busy.shutdown(wait=True)

    assert recorder.closed and path.exists() and not path.with_name(path.name + ".part").exists()
    assert [(cid, typ) for cid, typ, _ in timeline] == [("call-7", EventType.RECORDING)]
    event = timeline[0][2]
    assert event["agent_id"] == "alice" and event["file"] == "call-7-1.ogg" and 900 <= event["duration_ms"] <= 1100


async def test_the_stop_finishes_nothing_twice_and_a_closed_hand_off_has_nothing_left(tmp_path: Path) -> None:
    timeline: list[EventType] = []

    async def record(call: Call, typ: EventType, data: dict[str, Any]) -> None:
        timeline.append(typ)

    taps = CallTaps(record, recordings=tmp_path)
    handoff = Handoff(cast(Call, SimpleNamespace(id="call-8", conversation_id="c-8")), queued_ms=0)
    handoff.recorder = StereoRecorder(tmp_path / "c-8" / "call-8-1.wav")
    handoff.recorder("a", np.full(960, 1000, np.int16))
    await asyncio.gather(taps.finish_recording(handoff, "bob"), taps.finish_recording(handoff, "bob"))
    await taps.stop()
    assert timeline == [EventType.RECORDING]
    assert (tmp_path / "c-8" / "call-8-1.wav").exists()


async def test_a_recordings_dropped_audio_is_on_its_timeline_event_and_counted(tmp_path: Path) -> None:
    """A writer that fell behind drops blocks (silence in the file): the recording's event says how much, and the
    node's counter adds it up (the log alone was all an operator had)."""
    timeline: list[dict[str, Any]] = []

    async def record(call: Call, typ: EventType, data: dict[str, Any]) -> None:
        timeline.append(data)

    metrics = Metrics("node-test")
    taps = CallTaps(record, recordings=tmp_path, metrics=metrics)
    handoff = Handoff(cast(Call, SimpleNamespace(id="call-9", conversation_id="c-9")), queued_ms=0)
    # room for one hand-over only: the writer looks at its queue every 0.1 s, the blocks below come at once
    handoff.recorder = recorder = StereoRecorder(tmp_path / "c-9" / "call-9-1.ogg", queue_blocks=BATCH_BLOCKS)
    for _ in range(200):  # four seconds of both sides, handed over far faster than real time
        recorder("a", np.full(960, 1000, np.int16))
        recorder("b", np.full(960, -1000, np.int16))
    assert recorder.blocks_dropped > 0
    await taps.finish_recording(handoff, "alice")
    await taps.stop()

    [event] = timeline
    dropped = event["blocks_dropped"]
    assert dropped == recorder.blocks_dropped
    assert event["dropped_ms"] == dropped // 2 * 20  # both sides lost as many 20 ms blocks
    lost = metrics.registry.get_sample_value("contact_gateway_recording_dropped_seconds_total")
    assert lost == event["dropped_ms"] / 1000


async def test_a_whole_recording_says_nothing_was_dropped(tmp_path: Path) -> None:
    timeline: list[dict[str, Any]] = []

    async def record(call: Call, typ: EventType, data: dict[str, Any]) -> None:
        timeline.append(data)

    metrics = Metrics("node-test")
    taps = CallTaps(record, recordings=tmp_path, metrics=metrics)
    handoff = Handoff(cast(Call, SimpleNamespace(id="call-10", conversation_id="c-10")), queued_ms=0)
    handoff.recorder = StereoRecorder(tmp_path / "c-10" / "call-10-1.wav")
    handoff.recorder("a", np.full(960, 1000, np.int16))
    await taps.finish_recording(handoff, "bob")
    await taps.stop()
    assert [(e["blocks_dropped"], e["dropped_ms"]) for e in timeline] == [(0, 0)]
    assert metrics.registry.get_sample_value("contact_gateway_recording_dropped_seconds_total") == 0


class _Bridge:
    """What CallTaps asks of a bridge: taps added to it."""

    def __init__(self) -> None:
        self.taps: list[Any] = []

    def add_tap(self, tap: Any, sides: str = "ab") -> None:
        self.taps.append(tap)


class _SlowTranscripts:
    """Transcripts whose start takes until the test lets it finish (a model loading) and that count their stops."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.stopped: list[Any] = []

    async def start(self, engine: Any, record: Any, call_id: str) -> Any:
        await self.go.wait()
        return f"transcript-of-{call_id}"

    async def stop(self, transcript: Any) -> None:
        self.stopped.append(transcript)


async def _transcribed_call(transcripts: _SlowTranscripts) -> tuple[CallTaps, Handoff, asyncio.Task[None]]:
    async def record(call: Call, typ: EventType, data: dict[str, Any]) -> None:
        pass

    taps = CallTaps(record, transcripts=cast(Any, transcripts))
    channel = SimpleNamespace(enqueued_action=SimpleNamespace(record=False, transcribe=True))
    call = cast(Call, SimpleNamespace(id="call-11", conversation_id="c-11", channel=channel, flow=None))
    handoff = Handoff(call, queued_ms=0)
    handoff.agent_id, handoff.answers = "alice", 1
    handoff.bridge = cast(Any, _Bridge())
    starting = asyncio.create_task(taps.start(handoff))
    await asyncio.sleep(0.01)  # it waits for the transcript to start
    return taps, handoff, starting


async def test_a_transcript_that_started_while_the_agents_leg_dropped_goes_on_after_the_rejoin() -> None:
    """The agent's leg dropped while the call's live transcript was starting: the transcript was stopped, and the
    rest of the call (after the desk came back) went untranscribed. Now it goes on the closed bridge, whose taps
    the rejoined bridge takes over; on the new bridge when the rejoin came first."""
    transcripts = _SlowTranscripts()
    _, handoff, starting = await _transcribed_call(transcripts)
    old = cast(_Bridge, handoff.bridge)
    handoff.dropped = Dropped(at_ms=0, why="connection_closed", held=False, bridge=cast(Any, old))
    handoff.bridge = None  # (as rejoins.py does on a drop)
    transcripts.go.set()
    await starting
    assert (old.taps, handoff.transcript, transcripts.stopped) == (["transcript-of-call-11"], old.taps[0], [])

    transcripts = _SlowTranscripts()
    _, handoff, starting = await _transcribed_call(transcripts)
    handoff.bridge = new = cast(Any, _Bridge())  # dropped and rejoined already
    transcripts.go.set()
    await starting
    assert (new.taps, transcripts.stopped) == (["transcript-of-call-11"], [])


async def test_a_transcript_that_started_after_the_agents_part_ended_is_stopped() -> None:
    for ends in ("call ended", "transferred and answered by another"):
        transcripts = _SlowTranscripts()
        _, handoff, starting = await _transcribed_call(transcripts)
        if ends == "call ended":
            handoff.agent_id, handoff.bridge = "", None
        else:
            handoff.agent_id, handoff.answers, handoff.bridge = "bob", 2, cast(Any, _Bridge())
        transcripts.go.set()
        await starting
        assert (transcripts.stopped, handoff.transcript) == (["transcript-of-call-11"], None), ends
