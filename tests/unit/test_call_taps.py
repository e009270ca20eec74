"""CallTaps: a call's recording is finished and put on its timeline whatever happens to the task that asked."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np

from gateway.calls.handoff import Handoff
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
