"""What listens to a bridged call's audio beside the caller and the agent: the recording and the live transcript.

Both are taps of both sides (:meth:`media.bridge.Bridge.add_tap`), asked for by the queue the call waited in
(its flow's ``record`` and ``transcribe``); the caller's in-band DTMF detector is a tap of the caller's side
only, added with the bridge itself (:meth:`gateway.calls.legs.AgentLegs.bridge`, ``--bridge-inband-dtmf``).
A relaying bridge decodes a side only while a tap listens to it; the forwarded packets never change.
:class:`CallTaps` starts them when an agent's leg is bridged and finishes them when the agent side closes: the
transcript stops, the recording is written and put on the conversation's timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.calls.handoff import Handoff
from gateway.calls.manager import Call
from gateway.calls.transcripts import Transcripts
from gateway.flows.speech import SpeechRecognition
from gateway.metrics import Metrics
from gateway.protocol.states import EventType
from gateway.tasks import Tasks
from media.asr import AsrError, SpeechEngine
from media.recorder import RecordingError, StereoRecorder

log = logging.getLogger(__name__)

#: Puts an event on the call's timeline (a full or closed one does not take it: logged, the call goes on).
Record = Callable[[Call, EventType, dict[str, Any]], Awaitable[None]]


class CallTaps:
    def __init__(
        self,
        record: Record,
        *,
        speech: SpeechRecognition | None = None,
        transcripts: Transcripts | None = None,
        recordings: Path | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._record = record
        self.metrics = metrics  # counts the seconds of recordings lost to a writer that fell behind
        self.speech = speech
        self.transcripts = transcripts  # live transcripts, opt-in per queue (None: off)
        self.recordings = recordings  # where recorded calls go (None: recording is off on this node)
        self._finishing = Tasks("recordings", log)  # recordings being written after their agent side closed

    async def start(self, handoff: Handoff) -> None:
        """The call was just bridged to an agent: record it and transcribe it if its queue says so."""
        call = handoff.call
        action = call.channel.enqueued_action if call.channel is not None else None
        if action is None or handoff.bridge is None:
            return
        if action.record and self.recordings is not None:
            name = f"{call.id}-{handoff.answers}.ogg"
            handoff.recorder = StereoRecorder(self.recordings / call.conversation_id / name)
            handoff.bridge.add_tap(handoff.recorder)
        if action.transcribe and self.transcripts is not None and handoff.transcript is None:
            answers = handoff.answers
            transcript = await self.transcripts.start(self._speech_engine(call), self._recorder_of(call), call.id)
            if transcript is None:
                return
            # while it started, the agent's leg may have dropped (the caller holds: the closed bridge's taps carry
            # over to the rejoined one) or rejoined already: it goes on the bridge of now. Not when this agent's
            # part is over (the call ended or moved on): nobody would stop it (it was stopped after any drop too,
            # and the rest of the call went untranscribed)
            dropped = handoff.dropped.bridge if handoff.dropped is not None else None
            bridge = handoff.bridge if handoff.bridge is not None else dropped
            if bridge is None or not handoff.agent_id or handoff.answers != answers or handoff.transcript is not None:
                await self.transcripts.stop(transcript)
                return
            handoff.transcript = transcript
            bridge.add_tap(transcript)

    async def stop_transcript(self, handoff: Handoff) -> None:
        transcript, handoff.transcript = handoff.transcript, None
        if transcript is not None and self.transcripts is not None:
            await self.transcripts.stop(transcript)

    async def finish_recording(self, handoff: Handoff, agent_id: str) -> None:
        """Write the recording of the agent's part (if any) and put it on the timeline.

        In a task of this node's recordings, waited for here: the caller may be cancelled meanwhile (a hand-off
        task that the call's end closes while the agent's leg was being let go), and a cancelled
        ``to_thread(close)`` that no worker had picked up yet never runs at all, leaving the file a ``.part``, its
        writer thread waiting for good and the timeline without the recording. :meth:`stop` waits for them."""
        recorder, handoff.recorder = handoff.recorder, None
        if recorder is None:
            return
        done = self._finishing.spawn(self._finish(handoff.call, recorder, agent_id), f"finish-{recorder.path.name}")
        await asyncio.wait({done})  # cancelling this wait leaves the recording to be finished

    async def _finish(self, call: Call, recorder: StereoRecorder, agent_id: str) -> None:
        try:
            path = await asyncio.to_thread(recorder.close)
        except (RecordingError, OSError):  # a failed recording must not break the call's cleanup
            log.exception("recording failed", extra={"conversation_id": call.conversation_id})
            return
        finally:
            if self.metrics is not None and recorder.dropped_ms:
                self.metrics.recording_dropped.inc(recorder.dropped_ms / 1000)
        if path is None:
            return
        await self._record(
            call,
            EventType.RECORDING,
            {
                "call_id": call.id,
                "agent_id": agent_id,
                "file": path.name,
                "url": f"/api/recordings/{call.conversation_id}/{path.name}",
                "duration_ms": recorder.duration_ms,
                "bytes": path.stat().st_size,
                # blocks the writer fell too far behind to take: silence in the file instead (the desk says so)
                "blocks_dropped": recorder.blocks_dropped,
                "dropped_ms": recorder.dropped_ms,
            },
        )

    async def stop(self) -> None:
        """The node stops (after its calls ended): the recordings still being written are finished."""
        await self._finishing.wait()
        await self._finishing.close()

    def _speech_engine(self, call: Call) -> SpeechEngine | None:
        if self.speech is None or call.flow is None:
            return None
        try:
            return self.speech.engine_for(call.flow)
        except AsrError:
            return None

    def _recorder_of(self, call: Call) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
        async def record(typ: str, data: dict[str, Any]) -> None:
            await self._record(call, EventType(typ), data)

        return record
