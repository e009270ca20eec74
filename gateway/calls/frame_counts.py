"""The node's outgoing audio frames: counters over its live and ended call legs, and the 20 ms clock's due and late.

Every leg's :class:`~media.player.PromptPlayer` counts the frames it sent, those that went out late (more than
20 ms behind their slot), skipped and relayed ones. :class:`NodeFrames` adds them up for ``/api/stats`` and
``/metrics`` (:meth:`NodeFrames.stats`: the live legs' counters plus the ended legs' kept in its totals) and for
admission by late frames (:meth:`NodeFrames.clocked_frames`: always growing, read twice to see a rate).
"""

from __future__ import annotations

from collections.abc import Callable

from media.player import FRAME_COUNTERS, PromptPlayer


class NodeFrames:
    """``calls``: the live callers' tracks; ``agents``: the live agent-side tracks (agents, consultants,
    supervisors); ``agent_stats``: the agent side's counters, ended legs included."""

    def __init__(
        self,
        calls: Callable[[], list[PromptPlayer]],
        agents: Callable[[], list[PromptPlayer]],
        agent_stats: Callable[[], dict[str, int]],
    ) -> None:
        self._calls = calls
        self._agents = agents
        self._agent_stats = agent_stats
        self.totals = {"calls": 0, **dict.fromkeys(FRAME_COUNTERS, 0)}  # ended calls and their legs' counters
        # clocked_frames(): each live track's (due, late) as last read, and the node's sums of what changed since
        self._clocked: dict[PromptPlayer, tuple[int, int]] = {}
        self._clocked_totals = (0, 0)

    def stats(self) -> dict[str, int]:
        """Counters over ended and live calls: outgoing frames, late ones (> 20 ms behind), skipped ones, and the
        packets relayed between bridged legs (sent from the receive path at once, dropped behind)."""
        out = dict(self.totals)
        players = self._calls()
        out["active_calls"] = len(players)
        for player in players:
            for name, count in player.stats.counts().items():
                out[name] += count
        for name, count in self._agent_stats().items():
            out[name] += count
        return out

    def clocked_frames(self) -> tuple[int, int]:
        """Frames due on the 20 ms clock of this node's live tracks, and those that went out late, since the node
        started: always growing (admission by late frames differences two reads). Relayed packets are not on the
        clock (never late) and are left out; skipped slots are due and late. Each track counts from the first read
        that finds it: a leg that comes or goes between two reads adds what changed while both saw it, never its
        whole life at once (``stats()`` moves ended legs into its totals some awaits after they leave the live
        sets, so its sums can dip)."""
        due_sum, late_sum = self._clocked_totals
        seen: dict[PromptPlayer, tuple[int, int]] = {}
        for player in self._calls() + self._agents():
            s = player.stats
            due, late = s.frames_sent - s.relayed + s.skipped_frames, s.late_frames + s.skipped_frames
            was_due, was_late = self._clocked.get(player, (due, late))
            due_sum, late_sum = due_sum + due - was_due, late_sum + late - was_late
            seen[player] = (due, late)
        self._clocked, self._clocked_totals = seen, (due_sum, late_sum)
        return due_sum, late_sum

    def call_ended(self, player: PromptPlayer) -> None:
        """A call ended: count it, and keep its leg's frame counters in the totals."""
        self.totals["calls"] += 1
        for name, count in player.stats.counts().items():
            self.totals[name] += count
