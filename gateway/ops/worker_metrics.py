"""``/metrics`` of a machine's workers as one: each worker's figures, whichever worker a scrape reaches.

The workers of ``serve --workers N`` share one port (gateway/workers.py): a scrape reaches one of them at random,
and each had only its own counters, so series came and went between scrapes and ``rate()`` was meaningless (an
operator's finding). Each worker writes its own exposition into ``DATA_DIR/metrics/worker-N.prom`` every second
(written aside, then renamed: never half a file); the worker a scrape reaches answers with every worker's samples,
each labelled ``worker="N"`` (its own read fresh, its siblings' from their files, a file older than
:data:`STALE_SECONDS` left out: a worker that died). Gauges read from the shared Redis (queues, callbacks) are the
same in each worker's samples: take ``max`` over ``worker``, sum the counters.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gateway.data_dir import private_mkdir
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

WRITE_SECONDS = 1.0
STALE_SECONDS = 10.0


class WorkerMetrics:
    """Worker ``number``'s exposition shared with its siblings through ``directory`` (the module's docstring)."""

    def __init__(self, directory: Path, number: int, render: Callable[[], bytes]) -> None:
        self.directory = directory
        self.number = number
        self.render = render  # this worker's own exposition, no Redis read (NodeMetrics.as_last_read)
        self.path = directory / f"worker-{number}.prom"
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        private_mkdir(self.directory)
        await self._write()
        self._writer = asyncio.create_task(self._write_every(), name="worker-metrics")

    async def stop(self) -> None:
        await cancel_and_wait(self._writer)
        self._writer = None
        self.path.unlink(missing_ok=True)  # (a stopped worker's figures are not served as a live one's)

    async def _write_every(self) -> None:
        while True:
            await asyncio.sleep(WRITE_SECONDS)
            try:
                await self._write()
            except OSError as exc:  # a full disk: its siblings serve this worker's last figures until they go stale
                log.warning("worker metrics not written: %s", exc)

    async def _write(self) -> None:
        body = self.render()
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        tmp.replace(self.path)

    async def merged(self, own: bytes) -> bytes:
        """``own`` (fresh) and every live sibling's exposition, each sample labelled with its worker; parsed in a
        thread (thousands of lines: not on the loop that carries the calls' audio)."""
        return await asyncio.to_thread(self._merged, own)

    def _merged(self, own: bytes) -> bytes:
        texts = {self.number: own.decode()}
        now = time.time()
        for path in sorted(self.directory.glob("worker-*.prom")):
            number = path.stem.removeprefix("worker-")
            if not number.isdigit() or int(number) == self.number:
                continue
            try:
                if now - path.stat().st_mtime > STALE_SECONDS:
                    continue
                texts[int(number)] = path.read_text(encoding="utf-8")
            except OSError:  # (gone meanwhile: a worker that stopped)
                continue
        return merge(texts)


def merge(texts: dict[int, str]) -> bytes:
    """Expositions by worker number as one, each sample labelled ``worker``; a family once (the first's help)."""
    families: dict[str, Metric] = {}
    for number, text in sorted(texts.items()):
        for family in text_string_to_metric_families(text):
            into = families.get(family.name)
            if into is None:
                into = families[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
            elif into.type != family.type:  # (a worker on other code, mid-upgrade): not mixed into another type
                continue
            into.samples.extend(
                Sample(s.name, {**s.labels, "worker": str(number)}, s.value, s.timestamp, s.exemplar)
                for s in family.samples
            )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(families.values())))
    return generate_latest(registry)


class _Families:
    """Parsed families as a collector (what ``generate_latest`` renders)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families
