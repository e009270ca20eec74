"""An agent's softphone as a script: an aiortc peer that answers a ringing call over the agent's WebSocket.

    phone = Softphone(agent)
    ring = await phone.ringing()              # call_status 'ringing' for this agent
    await phone.answer(ring["call_id"])       # our offer -> the gateway's answer; then 'connected'
    phone.mic.play(tone, "hello")            # what the agent says
    phone.heard                              # what the agent heard (48 kHz mono int16)

What a browser softphone sends: an offer with one audio track (the microphone).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from media.loopback import TrackRecorder
from media.player import PromptPlayer
from tests.support.clients import Agent


class Softphone:
    def __init__(self, agent: Agent, mic: PromptPlayer | None = None):
        self.agent = agent
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mic = mic if mic is not None else PromptPlayer()
        self.recorder: TrackRecorder | None = None
        self.call_id = ""

    async def ringing(self, timeout: float = 15) -> dict[str, Any]:
        me = self.agent.agent_id
        return await self.agent.expect(
            "call_status", lambda f: f["status"] == "ringing" and f.get("agent_id") == me, timeout=timeout
        )

    async def offer(self) -> str:
        self.pc.addTrack(self.mic)

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            self.recorder = TrackRecorder(track).start()

        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def answer(self, call_id: str, *, wait_connected: bool = True) -> None:
        """Accept the ringing call with our offer; by default wait until the gateway says 'connected'."""
        self.call_id = call_id
        sdp = await self.offer()
        await self.agent.send({"type": "call_offer", "call_id": call_id, "sdp": sdp})
        answer = await self.agent.expect("call_answer", lambda f: f["call_id"] == call_id, timeout=15)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        if wait_connected:
            await self.status("connected")

    async def monitor(self, call_id: str, mode: str = "listen") -> None:
        """A supervisor joins a connected call to listen (or whisper to the agent)."""
        self.call_id = call_id
        sdp = await self.offer()
        await self.agent.send({"type": "call_monitor", "call_id": call_id, "mode": mode, "sdp": sdp})
        answer = await self.agent.expect("call_answer", lambda f: f["call_id"] == call_id, timeout=15)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

    async def status(self, wanted: str, timeout: float = 15) -> dict[str, Any]:
        return await self.agent.expect(
            "call_status", lambda f: f["call_id"] == self.call_id and f["status"] == wanted, timeout=timeout
        )

    @property
    def heard(self) -> np.ndarray:
        return self.recorder.samples if self.recorder is not None else np.zeros(0, dtype=np.int16)

    async def close(self) -> None:
        if self.recorder is not None:
            await self.recorder.stop()
        self.mic.end()
        await self.pc.close()
