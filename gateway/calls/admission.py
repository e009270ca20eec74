"""Whether this node takes one more call or chat: admission by load and the drain before a stop.

A node's calls share one event loop. When the loop runs late, every prompt frame and every bridged frame of
every call on it goes out late (a frame is due every 20 ms); one more call only makes that worse. So a new call
is refused with ``lines_busy`` ("all lines busy", the chat offered instead, as ``--max-calls`` does) while the
loop's lag, averaged over the last :data:`WINDOW` samples, is above ``--admission-max-lag-ms``.

The lag is not measured here: the node's metrics sampler (gateway/ops/metrics.py, one small owned task) already
measures how late a short sleep wakes up and feeds each sample to :meth:`Admission.observe`. CPU is not a second
signal: a worker's calls run on its one loop, so a worker out of CPU shows as lag first.

Draining (SIGTERM, gateway/cli.py): :meth:`Admission.drain` makes the node refuse every new call and chat
socket, for good; ``/readyz`` then answers 503 ``draining`` so a load balancer sends new traffic elsewhere.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

WINDOW = 4  # samples averaged (the sampler takes one every 0.25 s: the last second)


class Load(StrEnum):
    """What ``/readyz`` says of this node beyond Redis answering."""

    READY = "ready"
    FULL = "full"  # the loop runs late: no new call until it catches up
    DRAINING = "draining"  # stopping: no new call or chat, ever


class Admission:
    """The node's admission state: lag samples in, ``ready`` / ``full`` / ``draining`` out."""

    def __init__(self, max_lag_ms: float, window: int = WINDOW) -> None:
        self.max_lag_s = max_lag_ms / 1000
        self.samples: deque[float] = deque(maxlen=window)
        self.draining = False

    def observe(self, lag_s: float) -> None:
        """One lag sample (seconds a sleep woke up late)."""
        self.samples.append(lag_s)

    @property
    def lag_s(self) -> float:
        """The mean lag over the window (0 before the first sample)."""
        return sum(self.samples) / len(self.samples) if self.samples else 0.0

    @property
    def state(self) -> Load:
        if self.draining:
            return Load.DRAINING
        if self.max_lag_s > 0 and len(self.samples) == self.samples.maxlen and self.lag_s > self.max_lag_s:
            return Load.FULL
        return Load.READY

    def drain(self) -> None:
        """From now on: no new call, no new chat socket (the node is stopping)."""
        self.draining = True
