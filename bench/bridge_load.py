"""A load-generator process of ``bench bridge``: its share of the bridged calls, callers and agents both.

``python -m bench.bridge_load --base URL --step K --first-agent I --calls N --seconds S --start-at EPOCH`` logs in
agents ``sK-aI`` .. ``sK-a(I+N-1)`` (their softphones answer whatever rings for them: routing may hand one of this
process's callers to another process's agent), dials N callers who press 1, and once the calls are up both sides
talk (bench/bridge_calls.py's CALLER_AUDIO and AGENT_AUDIO); ``--callers light`` (the default) makes them
bench/light_peers.py's peers (Opus packets encoded once; an agent decodes each packet as it arrives, to time the
bursts, a caller only until the greeting ended), ``aiortc`` the tests' peers. From ``start_at`` for ``seconds`` it measures its own
CPU and the frames its callers and softphones received, then prints one JSON line (bench/loadgen.py): besides
what :func:`bench.loadgen.kept_up` judges, the monotonic times each caller's bursts went to its sender and each
softphone heard them, by conversation id. ``time.monotonic()`` is one clock for every process of the machine
(CLOCK_MONOTONIC), so bench/bridge_calls.py pairs a burst of one process with its onset in another.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from bench.bridge_calls import (
    AGENT_AUDIO,
    CALLER_AUDIO,
    PASSWORD,
    PATTERN,
    OnsetDetector,
    answer,
    dial,
    late_arrivals,
    late_frames,
    listen,
)
from bench.ivr_calls import pin_loopback
from bench.light_peers import LightCaller, LightSoftphone, packets_of
from bench.loadgen import FRAMES_PER_SECOND, until
from media import event_loop as node_loop
from media.aiortc_patches import speed_up_aiortc
from tests.support.caller import Caller
from tests.support.clients import Agent as AgentClient
from tests.support.softphone import Softphone

SETTLE = 0.7  # seconds after the window for its last bursts to arrive (latencies() looks 600 ms ahead)


async def generate(
    base: str, step: int, first: int, calls: int, seconds: float, start_at: float, light: bool = True
) -> dict[str, Any]:
    """``light``: bench/light_peers.py's peers (the agent decodes each packet as it arrives to time the bursts),
    else the tests' aiortc peers (encode every frame, jitter buffer, decoder thread, recorder)."""
    pin_loopback()
    speed_up_aiortc()  # the clients' legs as cheap as the gateway's
    agents = [AgentClient(base, f"s{step}-a{first + i:03d}", PASSWORD) for i in range(calls)]
    callers: list[Caller] = []
    phones: dict[str, Softphone] = {}
    errors: list[str] = []
    answering: list[asyncio.Task[tuple[str, Softphone]]] = []
    heard_by: dict[str, OnsetDetector] = {}  # agent id -> what its light softphone hears

    def light_phone(agent: AgentClient) -> Softphone:
        return LightSoftphone(agent, on_audio=heard_by.setdefault(agent.agent_id, OnsetDetector()).feed, arrivals=True)

    try:
        for agent in agents:  # one at a time: logins in flight from one address count as failures until they pass
            await agent.hello()  # (gateway/wire/login_limits.py: 20 per address, then back-off)
        answering = [asyncio.create_task(answer(a, light_phone if light else Softphone)) for a in agents]
        dialing = []
        for _ in range(calls):
            dialing.append(asyncio.create_task(dial(base, suffix=f"-{os.getpid()}", light=light)))
            await asyncio.sleep(0.1)
        for result in await asyncio.gather(*dialing, return_exceptions=True):
            if isinstance(result, BaseException):
                errors.append(f"caller: {result!r}")
            else:
                callers.append(result)
        # an agent of this process may ring for another process's caller: wait until just before the window
        done, pending = await asyncio.wait(answering, timeout=max(1.0, start_at - time.time() - 1.0))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                errors.append(f"agent: {task.exception()!r}")
            else:
                conversation_id, phone = task.result()
                phones[conversation_id] = phone
        caller_packets = packets_of(CALLER_AUDIO) if light else None
        agent_packets = packets_of(AGENT_AUDIO) if light else None
        for caller in callers:
            caller.mic.loop(CALLER_AUDIO, PATTERN, caller_packets)
        detectors = {}
        for cid, phone in phones.items():
            phone.mic.loop(AGENT_AUDIO, "agent", agent_packets)
            if phone.recorder is not None:
                detectors[cid] = listen(phone.recorder)
            elif phone.agent.agent_id in heard_by:
                detectors[cid] = heard_by[phone.agent.agent_id]
        late_start = time.time() > start_at or len(callers) < calls or len(phones) < calls
        await until(start_at)
        c0, t0 = time.process_time(), time.monotonic()
        await until(start_at + seconds)
        c1, t1 = time.process_time(), time.monotonic()
        await asyncio.sleep(SETTLE)
        to_caller = [heard_late(c, t0, t1) for c in callers]
        to_agent = [heard_late(p, t0, t1) for p in phones.values()]
        return {
            "calls": calls,
            "window_s": t1 - t0,
            "cpu_s": c1 - c0,
            "frames_expected": int((len(callers) + len(phones)) * (t1 - t0) * FRAMES_PER_SECOND),
            "frames_received": sum(n for _, n in to_caller) + sum(n for _, n in to_agent),
            "late_to_caller": [sum(x for x, _ in to_caller), sum(n for _, n in to_caller)],
            "late_to_agent": [sum(x for x, _ in to_agent), sum(n for _, n in to_agent)],
            "late_start": late_start,
            "callers": len(callers),
            "answered": len(phones),
            "bursts": {c.conversation_id: c.mic.bursts for c in callers if hasattr(c.mic, "bursts")},
            "onsets": {cid: d.onsets for cid, d in detectors.items()},
            "errors": errors[:3],
        }
    finally:
        for task in answering:
            task.cancel()
        await asyncio.gather(*answering, return_exceptions=True)
        await asyncio.gather(*(c.hangup() for c in callers), return_exceptions=True)
        await asyncio.gather(
            *(p.close() for p in phones.values()), *(c.close() for c in callers), return_exceptions=True
        )
        await asyncio.gather(
            *(c.customer.close() for c in callers), *(a.close() for a in agents), return_exceptions=True
        )


def heard_late(peer: Caller | Softphone, t0: float, t1: float) -> tuple[int, int]:
    """Frames ``peer`` received in [t0, t1) more than 20 ms behind their schedule, and how many it received."""
    if isinstance(peer, (LightCaller, LightSoftphone)):
        return late_arrivals(peer.counter.arrivals if peer.counter is not None else None, t0, t1)
    return late_frames(peer.recorder, t0, t1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", action="store_true", help="(bench/loadgen.py spawns generators with it)")
    parser.add_argument("--base", required=True)
    parser.add_argument("--step", type=int, required=True)
    parser.add_argument("--first-agent", type=int, required=True)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--start-at", type=float, required=True)
    parser.add_argument("--callers", choices=("light", "aiortc"), default="light")
    args = parser.parse_args()
    out = node_loop.run(
        generate(
            args.base, args.step, args.first_agent, args.calls, args.seconds, args.start_at, args.callers == "light"
        )
    )
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
