"""bench m2e's bookkeeping of clicks (bench/mouth_to_ear.py): each click sent matched with the far page's click of
its code (lost, doubled and stray ones counted, never taken for a neighbour), and the receiver's jitter buffer over
a window from its getStats."""

from __future__ import annotations

import bisect
from typing import Any

EARLY_US = 5_000  # a click may be seen up to 5 ms "before" it was sent (codec pre-echo, 10 ms blocks)


def match(
    sent: list[tuple[float, int]],
    received: list[tuple[float, int]],
    t0: float,
    t1: float,
    spacing_us: float,
    codes: int,
    late_us: float = 0.0,
) -> dict[str, Any]:
    """Each click sent in [t0, t1) against the clicks received with its code from ``late_us`` after it, for half a
    code cycle (longer would take the next click of that code for it). ``late_us``: :func:`search_from_us`.

    Returns the one-way latencies (ms) and how many clicks were lost (none received), doubled (more than one)
    and stray (received in the window, matching no click sent: a wrong code, or noise taken for a click).
    """
    horizon = spacing_us * codes / 2
    by_code: dict[int, list[float]] = {}
    for t, c in received:
        by_code.setdefault(c, []).append(t)
    for times in by_code.values():
        times.sort()
    used: set[tuple[int, float]] = set()
    out: list[float] = []
    lost = doubled = 0
    count = 0
    for t, c in sent:
        times = by_code.get(c, [])
        lo = bisect.bisect_left(times, t + late_us - EARLY_US)
        hi = bisect.bisect_left(times, t + late_us + horizon)
        used.update((c, x) for x in times[lo:hi])  # every click sent claims its own (those before t0 too)
        if not t0 <= t < t1:
            continue
        count += 1
        if lo == hi:
            lost += 1
            continue
        doubled += hi - lo > 1
        out.append((times[lo] - t) / 1000)
    first, last = t0 + late_us + horizon, t1 + late_us  # after every click sent before t0 could have arrived
    stray = sum(1 for t, c in received if first <= t < last and (c, t) not in used)
    return {"ms": out, "sent": count, "lost": lost, "doubled": doubled, "stray": stray}


def search_from_us(jitter_buffer_ms: float, spacing_us: float, codes: int) -> float:
    """Where the search for a click starts after it was sent (µs): 0, or once the receiver's mean jitter buffer
    over the window is over a quarter code cycle (0.8 s), the search is centred on it. A stall of a second or two
    on a loaded machine leaves NetEq buffering that long for a while: every click then plays over half a cycle
    late, and a search from the moment of sending finds none (a CI failure: the agent "heard nothing")."""
    return max(0.0, 1000 * jitter_buffer_ms - spacing_us * codes / 4)


def buffer_figures(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The receiver's jitter buffer over a window (getStats deltas): mean delay and target in ms, concealed and
    time-stretched audio in % of what it played."""
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    emitted = max(d.get("jitterBufferEmittedCount", 0), 1)
    samples = max(d.get("totalSamplesReceived", 0), 1)
    stretched = d.get("insertedSamplesForDeceleration", 0) + d.get("removedSamplesForAcceleration", 0)
    return {
        "jitter_buffer_ms": round(1000 * d.get("jitterBufferDelay", 0) / emitted, 1),
        "jitter_buffer_target_ms": round(1000 * d.get("jitterBufferTargetDelay", 0) / emitted, 1),
        "concealed_percent": round(100 * d.get("concealedSamples", 0) / samples, 2),
        "stretched_percent": round(100 * stretched / samples, 2),
        "packets_received": int(d.get("packetsReceived", 0)),
        "packets_lost": int(d.get("packetsLost", 0)),
        "arrival_jitter_ms": round(1000 * after.get("jitter", 0), 1),
    }
