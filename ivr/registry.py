"""The flows in service, reloaded from their directory without a restart.

::

    registry = FlowRegistry(Path("flows"))       # loads every flow file
    flow = registry.get("default")                # the version in service now
    interp = Interpreter(flow, ..., flows=registry.snapshot())
    report = registry.reload_if_changed()         # cheap; call every few seconds or on demand

A :class:`~ivr.model.Flow` is immutable, so a call that holds one keeps that
version to its end whatever happens to the file. A reload only looks at
files whose size or modification time changed, and only re-validates those
whose content hash changed. A file that becomes invalid (or whose ``goto``
no longer resolves) does not replace the version in service: the previous
good version stays, and the errors are reported until the file is fixed. A
deleted file takes its flow out of service. A flow is never half-loaded.

``check`` adds validation the flow language cannot do alone, such as the
gateway's speech recognizer refusing words its model does not know: a flow it
returns errors for is treated exactly like an invalid file.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .errors import ErrorCode, FlowError, FlowErrors
from .loader import check_references, flow_files, parse_flow, read_flow_text
from .model import Flow

log = logging.getLogger("ivr.registry")


@dataclass(frozen=True)
class ReloadReport:
    """What a reload changed: flows put in service, taken out, and the current errors."""

    loaded: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    errors: tuple[FlowError, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.loaded or self.removed)


@dataclass
class _FileState:
    signature: tuple[int, int] = (0, 0)  # (mtime_ns, size)
    digest: str = ""  # sha256 of the content
    flow: Flow | None = None  # the last valid content of the file (in service or waiting on a goto)
    errors: list[FlowError] = field(default_factory=list)


class FlowsByName:
    """What a session reads of the flows in service (``self._flows``, by name): a flow, the names, a snapshot.

    :class:`FlowRegistry` (from a directory) and gateway/flows/live.py (from the store) both are one.
    """

    _flows: dict[str, Flow]

    def _where(self) -> str:
        """How a missing flow's error says where it looked, after "no flow 'NAME'"."""
        raise NotImplementedError

    def get(self, name: str) -> Flow:
        """The version of flow ``name`` in service now; raises ``KeyError`` naming the known flows."""
        try:
            return self._flows[name]
        except KeyError:
            raise KeyError(f"no flow '{name}' {self._where()} (known: {', '.join(sorted(self._flows))})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._flows

    def names(self) -> list[str]:
        return sorted(self._flows)

    def snapshot(self) -> Mapping[str, Flow]:
        """The flows in service now, frozen: give it to an Interpreter for its ``goto``\\ s."""
        return MappingProxyType(dict(self._flows))


class FlowRegistry(FlowsByName):
    """All valid flows of a directory, by name (the file name without ``.yaml``)."""

    def __init__(self, directory: str | Path, *, check: Callable[[Flow], list[FlowError]] | None = None):
        self.directory = Path(directory)
        self._check = check
        self._flows: dict[str, Flow] = {}
        self._files: dict[Path, _FileState] = {}
        self._ref_errors: list[FlowError] = []
        self.reload_if_changed()

    def _where(self) -> str:
        return f"in {self.directory}"

    @property
    def errors(self) -> list[FlowError]:
        """Current problems of the files (the last good version of such a flow, if any, stays in service)."""
        out = [e for state in self._files.values() for e in state.errors] + self._ref_errors
        return sorted(out, key=lambda e: (e.file, e.line or 0))

    def reload_if_changed(self) -> ReloadReport:
        """Look for added, changed and deleted flow files and put the valid changes in service."""
        if not self.directory.is_dir():
            error = FlowError(str(self.directory), None, None, "flows directory not found", ErrorCode.IO)
            return ReloadReport(errors=(error,))
        paths = flow_files(self.directory)
        by_name: dict[str, Path] = {}
        for path in paths:
            if path.stem in by_name:
                self._files[path] = _FileState(
                    errors=[
                        FlowError(
                            str(path),
                            None,
                            None,
                            f"another file already defines flow '{path.stem}'",
                            ErrorCode.DUPLICATE,
                        )
                    ]
                )
                continue
            by_name[path.stem] = path
            self._refresh(path)
        for gone in set(self._files) - set(paths):
            del self._files[gone]

        proposed: dict[str, Flow] = {}
        candidates: set[str] = set()
        for name, path in by_name.items():
            latest, current = self._files[path].flow, self._flows.get(name)
            if latest is not None and latest is not current:
                candidates.add(name)
                proposed[name] = latest
            elif current is not None:
                proposed[name] = current
        # A changed flow whose goto does not resolve against the new set waits (its old version, if any, stays);
        # it is tried again on every reload.
        refused: list[FlowError] = []
        broken = {name for name, path in by_name.items() if self._files[path].errors and name not in proposed}
        while bad := {n: errs for n, errs in check_references(proposed, broken).items() if n in candidates}:
            for name, errs in bad.items():
                refused.extend(errs)
                candidates.discard(name)
                if name in self._flows:
                    proposed[name] = self._flows[name]
                else:
                    del proposed[name]
        dangling = [e for errs in check_references(proposed, broken).values() for e in errs]
        self._ref_errors = refused + dangling
        loaded = tuple(sorted(candidates))
        removed = tuple(sorted(set(self._flows) - set(proposed)))
        self._flows = proposed
        report = ReloadReport(loaded, removed, tuple(self.errors))
        if report.changed:
            log.info("flows reloaded: loaded %s, removed %s", list(loaded), list(removed))
        return report

    def _refresh(self, path: Path) -> None:
        """Re-validate ``path`` if its size or mtime changed and its content hash too."""
        state = self._files.setdefault(path, _FileState())
        try:
            stat = path.stat()
        except OSError:
            return
        signature = (stat.st_mtime_ns, stat.st_size)
        if state.signature == signature:
            return
        state.signature = signature
        try:
            text = read_flow_text(path)
        except FlowErrors as exc:
            state.digest, state.errors = "", exc.errors
            return
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if state.digest == digest:
            return
        state.digest = digest
        try:
            flow = parse_flow(text, path)
        except FlowErrors as exc:
            state.errors = exc.errors
            return
        problems = self._check(flow) if self._check is not None else []
        if problems:
            state.errors = sorted(problems, key=lambda e: e.line or 0)
        else:
            state.flow, state.errors = flow, []
