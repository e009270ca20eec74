"""Vosk models: a small catalogue of official ones, an installer, and name/path resolution.

Installed models live in ``DATA_DIR/models/NAME`` (one directory each, as
the official zip unpacks). :func:`install` downloads an archive with the
standard library (``urllib``), resuming an interrupted download with an
HTTP ``Range`` request (up to ``attempts`` times per call; a later call
resumes too, from ``DATA_DIR/models/.downloads/NAME.zip.part``), verifies
it, and unpacks it atomically: into a temporary directory next to the
destination, then one ``rename``. A model directory that exists is
therefore always complete.

Verification, strongest available first:

* ``sha256`` / ``md5`` given by the caller or in the catalogue entry;
* otherwise ``size`` and ``md5`` from the official list
  (``model-list.json`` at alphacephei.com, which is what the ``vosk``
  package itself reads) when it can be fetched;
* always: the byte count the server announced (``Content-Length`` /
  ``Content-Range``) and the zip's own CRCs (``ZipFile.testzip``).

The built-in catalogue carries no checksums (none could be fetched from
here): for official models the list above supplies them when online.

Every failure is a :class:`~media.asr.errors.ModelInstallError` naming the
URL and the reason (offline, HTTP status, interrupted, size or checksum
mismatch, not a Vosk model).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from media.asr.errors import ModelInstallError, ModelNotFoundError

log = logging.getLogger(__name__)

MODEL_BASE_URL = "https://alphacephei.com/vosk/models/"
CATALOGUE_URL = MODEL_BASE_URL + "model-list.json"
USER_AGENT = "contact-gateway-model-installer/1"
CHUNK_BYTES = 256 * 1024

#: ``progress(done_bytes, total_bytes_or_None)``
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class CatalogueEntry:
    """An official Vosk model we know by name. ``approx_mb`` is for display only."""

    name: str
    language: str
    approx_mb: int
    notes: str = ""
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None

    @property
    def url(self) -> str:
        return f"{MODEL_BASE_URL}{self.name}.zip"


#: A few official models with a dynamic or lookahead graph (grammar lists work with them).
CATALOGUE: dict[str, CatalogueEntry] = {
    e.name: e
    for e in (
        CatalogueEntry("vosk-model-small-en-us-0.15", "en", 40, "small US English, dynamic graph"),
        CatalogueEntry("vosk-model-en-us-0.22-lgraph", "en", 128, "US English, lookahead graph"),
        CatalogueEntry("vosk-model-small-ko-0.22", "ko", 82, "small Korean, dynamic graph"),
        CatalogueEntry("vosk-model-small-fr-0.22", "fr", 41, "small French"),
        CatalogueEntry("vosk-model-small-de-0.15", "de", 45, "small German"),
        CatalogueEntry("vosk-model-small-es-0.42", "es", 39, "small Spanish"),
    )
}


def looks_like_vosk_model(path: Path) -> bool:
    """A directory with ``am/final.mdl`` and ``conf/`` (what every official model has)."""
    return (path / "am" / "final.mdl").is_file() and (path / "conf").is_dir()


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    size_bytes: int


def models_dir(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / "models"


def list_installed(data_dir: str | os.PathLike[str]) -> list[InstalledModel]:
    """Every complete model under ``DATA_DIR/models``, by name."""
    root = models_dir(data_dir)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.iterdir()):
        if path.is_dir() and not path.name.startswith(".") and looks_like_vosk_model(path):
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            out.append(InstalledModel(path.name, path, size))
    return out


def resolve(name_or_path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None) -> Path:
    """A model directory from a path, or from the name of an installed model."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir():
        if not looks_like_vosk_model(candidate):
            raise ModelNotFoundError(
                f"{str(candidate)!r} is a directory but not a Vosk model (expected am/final.mdl and conf/)"
            )
        return candidate.resolve()
    if data_dir is not None:
        installed = models_dir(data_dir) / str(name_or_path)
        if looks_like_vosk_model(installed):
            return installed.resolve()
    hint = (
        f"; install it with `models install {name_or_path}`"
        if str(name_or_path) in CATALOGUE
        else f"; known models: {', '.join(CATALOGUE)}"
    )
    raise ModelNotFoundError(
        f"no Vosk model {str(name_or_path)!r} (neither a directory nor installed in "
        f"{models_dir(data_dir) if data_dir is not None else 'the data directory'}){hint}"
    )


def fetch_catalogue(url: str = CATALOGUE_URL, timeout: float = 10.0) -> dict[str, dict[str, object]]:
    """The official model list by name (``size`` in bytes, ``md5``, ``url``, ...); raises ModelInstallError."""
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers={"User-Agent": USER_AGENT}), timeout=timeout
        ) as resp:
            entries = json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ModelInstallError(f"cannot read the model list {url}: {_reason(exc)}") from exc
    if not isinstance(entries, list):
        raise ModelInstallError(f"the model list {url} is not a JSON list")
    return {str(e["name"]): e for e in entries if isinstance(e, dict) and "name" in e}


def install(
    name: str,
    data_dir: str | os.PathLike[str],
    *,
    url: str | None = None,
    size: int | None = None,
    sha256: str | None = None,
    md5: str | None = None,
    catalogue_url: str | None = CATALOGUE_URL,
    progress: Progress | None = None,
    timeout: float = 30.0,
    attempts: int = 3,
) -> Path:
    """Download, verify and unpack model ``name`` into ``DATA_DIR/models/NAME``; returns that directory.

    ``url`` overrides the official address (a mirror, or a test server);
    without it ``name`` must be in :data:`CATALOGUE`. ``catalogue_url``
    None skips the official list. Already installed: returns at once.
    """
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ModelInstallError(f"bad model name {name!r}", code="asr_bad_model_name")
    entry = CATALOGUE.get(name)
    if url is None:
        if entry is None:
            raise ModelInstallError(
                f"unknown model {name!r}: pass its URL, or use one of {', '.join(CATALOGUE)}", code="asr_unknown_model"
            )
        url = entry.url
    root = models_dir(data_dir)
    dest = root / name
    if looks_like_vosk_model(dest):
        return dest.resolve()
    if dest.exists():
        raise ModelInstallError(
            f"{dest} exists but is not a complete Vosk model: remove it and install again", code="asr_model_dir_in_way"
        )
    if entry is not None:
        size, sha256, md5 = size or entry.size, sha256 or entry.sha256, md5 or entry.md5
    if catalogue_url and size is None and sha256 is None and md5 is None:
        try:
            official = fetch_catalogue(catalogue_url, timeout).get(name)
        except ModelInstallError as exc:
            log.warning("%s; verifying %s by its announced size and the zip CRCs only", exc.message, name)
            official = None
        if official:
            size = int(str(official["size"])) if official.get("size") else None
            md5 = str(official["md5"]) if official.get("md5") else None
    part = root / ".downloads" / f"{name}.zip.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    _download_with_retries(url, part, size, progress, timeout, attempts)
    _verify(url, part, size, sha256, md5)
    _unpack(url, part, dest)
    part.unlink()
    log.info("installed Vosk model %s from %s into %s", name, url, dest)
    return dest.resolve()


# ----- download ------------------------------------------------------------------------------------


class _Interrupted(Exception):
    """The transfer stopped early; the partial file is kept for a resume."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _download_with_retries(
    url: str, part: Path, size: int | None, progress: Progress | None, timeout: float, attempts: int
) -> None:
    for attempt in range(1, max(attempts, 1) + 1):
        try:
            _download(url, part, size, progress, timeout)
            return
        except _Interrupted as exc:
            if attempt >= attempts:
                raise ModelInstallError(
                    f"download of {url} was interrupted ({exc}); {part.stat().st_size} bytes "
                    "are kept: run the install again to resume",
                    code="asr_model_download_interrupted",
                ) from exc
            log.warning("download of %s interrupted (%s), resuming (attempt %d of %d)", url, exc, attempt + 1, attempts)
            time.sleep(min(0.2 * attempt, 2.0))


def _download(url: str, part: Path, size: int | None, progress: Progress | None, timeout: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    if size is not None and have == size:
        return
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the part is complete (checked later)
            return
        raise ModelInstallError(f"cannot download {url}: {_reason(exc)}", code="asr_model_download_failed") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ModelInstallError(
            f"cannot download {url}: {_reason(exc)} (is this machine offline?)", code="asr_model_download_failed"
        ) from exc
    with resp:
        total: int | None
        if resp.status == 206 and have:
            start, total = _content_range(resp.headers.get("Content-Range", ""))
            if start != have:
                raise ModelInstallError(
                    f"cannot resume {url}: asked for byte {have}, the server sent from {start}",
                    code="asr_model_download_failed",
                )
            mode = "ab"
        else:
            have = 0  # the server ignored the Range header: start over
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            mode = "wb"
        if size is not None and total is not None and total != size:
            raise ModelInstallError(f"{url} is {total} bytes, expected {size}", code="asr_model_size_mismatch")
        done = have
        if progress is not None:
            progress(done, total)
        with open(part, mode) as out:
            while True:
                try:
                    block = resp.read(CHUNK_BYTES)
                except (http.client.IncompleteRead, OSError) as exc:
                    raise _Interrupted(f"{done} of {total or '?'} bytes: {_reason(exc)}") from exc
                if not block:
                    break
                out.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
    if total is not None and done < total:
        raise _Interrupted(f"{done} of {total} bytes")


def _content_range(value: str) -> tuple[int, int | None]:
    """``bytes 100-199/200`` -> (100, 200)."""
    try:
        _, _, rest = value.partition(" ")
        span, _, total = rest.partition("/")
        start = int(span.split("-")[0])
        return start, (int(total) if total.isdigit() else None)
    except ValueError as exc:
        raise ModelInstallError(f"bad Content-Range header {value!r}", code="asr_model_download_failed") from exc


# ----- verify and unpack ---------------------------------------------------------------------------


def _verify(url: str, part: Path, size: int | None, sha256: str | None, md5: str | None) -> None:
    actual = part.stat().st_size
    if size is not None and actual != size:
        part.unlink()
        raise ModelInstallError(f"{url}: downloaded {actual} bytes, expected {size}", code="asr_model_size_mismatch")
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected:
            digest = hashlib.new(algorithm)
            with open(part, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest().lower() != expected.lower():
                part.unlink()
                raise ModelInstallError(
                    f"{url}: {algorithm} is {digest.hexdigest()}, expected {expected.lower()}; "
                    "the download was deleted",
                    code="asr_model_checksum_mismatch",
                )


def _unpack(url: str, archive: Path, dest: Path) -> None:
    try:
        _extract(url, archive, dest)
    except ModelInstallError:
        archive.unlink(missing_ok=True)  # a bad archive must not be "resumed" next time
        raise


def _extract(url: str, archive: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise ModelInstallError(
                    f"{url}: member {bad!r} of the archive is corrupt", code="asr_model_archive_corrupt"
                )
            for info in zf.infolist():
                p = PurePosixPath(info.filename)
                if p.is_absolute() or ".." in p.parts:
                    raise ModelInstallError(
                        f"{url}: unsafe path {info.filename!r} in the archive", code="asr_model_archive_corrupt"
                    )
            tmp = Path(tempfile.mkdtemp(prefix=f".unpack-{dest.name}-", dir=dest.parent))
            try:
                zf.extractall(tmp)
                tops = [p for p in tmp.iterdir() if not p.name.startswith("__MACOSX")]
                root = tops[0] if len(tops) == 1 and tops[0].is_dir() else tmp
                if not looks_like_vosk_model(root):
                    raise ModelInstallError(
                        f"{url}: the archive holds no Vosk model (no am/final.mdl and conf/)",
                        code="asr_model_archive_corrupt",
                    )
                os.replace(root, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(
            f"{url}: not a zip archive ({exc}); the download was deleted", code="asr_model_archive_corrupt"
        ) from exc


# ----- progress display ----------------------------------------------------------------------------


class ProgressBar:
    """A one-line text progress bar for the CLI: ``[#####-----]  52%  21.0/40.3 MB``."""

    def __init__(self, stream: IO[str] | None = None, width: int = 30, min_interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.min_interval = min_interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - self._last < self.min_interval:
            return
        self._last = now
        mb = done / 1e6
        if total:
            filled = int(self.width * min(done / total, 1.0))
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"\r[{bar}] {100 * done // total:3d}%  {mb:.1f}/{total / 1e6:.1f} MB"
        else:
            line = f"\r{mb:.1f} MB"
        self.stream.write(line + ("\n" if finished else ""))
        self.stream.flush()
