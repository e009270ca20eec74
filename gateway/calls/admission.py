"""Whether this node takes one more call or chat: admission by load and the drain before a stop.

A node's calls share one event loop. When the loop runs late, every prompt frame and every bridged frame of
every call on it goes out late (a frame is due every 20 ms); one more call only makes that worse. So a new call
is refused with ``lines_busy`` ("all lines busy", the chat offered instead, as ``--max-calls`` does) while the
loop's lag, the median of the last :data:`WINDOW` samples (2 s), is above ``--admission-max-lag-ms``.

What counts as load is a loop that runs late most of the time, not one long stall:

- only once the node serves (:meth:`Admission.serving`, at the end of its start-up): the start-up's own work
  (loading flows and speech models, seeding agents, imports) blocks the loop for a moment and says nothing about
  the calls to come; counted, it made a fresh node refuse every call for a moment (a bench step failed on "the
  event loop runs 75-81 ms late", what one stall of about 300 ms does to a mean over 4 samples). And not before
  :data:`WINDOW` samples were taken since then: a node that just started takes calls (it has none yet), and
  ``/readyz`` says ``ready``;
- the median, not the mean: one stall (a first call's lazy import, a garbage collection, a model loaded on first
  use) wakes one sample late by all of it and then is over; refusing calls for it protects nobody. A loop that
  one more call would make later (every call's frames, every quarter second) is late in most samples, and the
  median sees that as soon as half the window is late.

The lag is not measured here: the node's metrics sampler (gateway/ops/metrics.py, one small owned task) already
measures how late a short sleep wakes up and feeds each sample to :meth:`Admission.observe`. CPU is not a second
signal: a worker's calls run on its one loop, so a worker out of CPU shows as lag first.

Draining (SIGTERM, gateway/cli.py): :meth:`Admission.drain` makes the node refuse every new call and chat
socket, for good; ``/readyz`` then answers 503 ``draining`` so a load balancer sends new traffic elsewhere.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from statistics import median

WINDOW = 8  # samples whose median is the lag (the sampler takes one every 0.25 s: the last 2 seconds)


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
        self.started = False  # the node serves: its start-up is over (samples before are not load)

    def serving(self) -> None:
        """The node's start-up is over: from now on the loop's lag is load (what came before is forgotten)."""
        self.started = True
        self.samples.clear()

    def observe(self, lag_s: float) -> None:
        """One lag sample (seconds a sleep woke up late); ignored while the node is still starting."""
        if self.started:
            self.samples.append(lag_s)

    @property
    def lag_s(self) -> float:
        """The median lag over the window (0 before the first sample)."""
        return median(self.samples) if self.samples else 0.0

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
