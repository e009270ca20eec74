"""The data directory holds private data: keep it readable by the gateway's user only.

Everything the gateway keeps on disk is private: the embedded Redis' AOF (every
conversation), ``secret.key`` (the token signing secret: whoever reads it signs
supervisor tokens), the agents file (password hashes), call recordings and the
TTS cache (prompts may say a customer's name). The directory is made 0700 and
what the gateway writes into it 0600 (directories 0700). A data directory left
by an older version with wider bits is tightened at start, and logged.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from .errors import ConfigError

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
#: Subdirectories holding public data only (downloaded speech models: large trees, nothing private).
PUBLIC_SUBDIRS = frozenset({"models"})


def private_mkdir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700 directories; an existing one is tightened to 0700."""
    missing = []
    walk = path
    while not walk.exists():
        missing.append(walk)
        if walk.parent == walk:
            break
        walk = walk.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass  # another process made it at the same moment; tightened below
    _tighten(path, PRIVATE_DIR)


def _tighten(path: Path, mode: int) -> bool:
    """chmod ``path`` to ``mode`` if it grants more; True if it was changed."""
    current = stat.S_IMODE(path.lstat().st_mode)
    if current & ~mode == 0:
        return False
    os.chmod(path, current & mode)
    return True


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data directory 0700, or tighten one (and what is in it) that others could read.

    Raises :class:`ConfigError` when the directory cannot be made private (not ours, read-only).
    """
    existed = data_dir.exists()
    try:
        before = stat.S_IMODE(data_dir.stat().st_mode) if existed else None
        private_mkdir(data_dir)
    except OSError as exc:
        raise ConfigError(f"{data_dir}: cannot make the data directory private (mode 0700): "
                          f"{exc.strerror or exc}", field="data_dir") from None
    if before is not None and before & 0o077:
        log.warning("data directory %s was mode %04o (other users could read conversations and the signing "
                    "secret); now 0700", data_dir, before)
    if existed:
        tightened = _tighten_tree(data_dir)
        if tightened:
            log.warning("made %d files and directories in %s private (0600 / 0700), e.g. %s", len(tightened),
                        data_dir, ", ".join(str(p.relative_to(data_dir)) for p in tightened[:5]))


def _tighten_tree(data_dir: Path) -> list[Path]:
    changed: list[Path] = []
    for root, dirs, files in os.walk(data_dir):
        here = Path(root)
        if here == data_dir:
            dirs[:] = [d for d in dirs if d not in PUBLIC_SUBDIRS]
        for name in dirs + files:
            path = here / name
            try:
                info = path.lstat()
                if stat.S_ISDIR(info.st_mode):
                    wanted = PRIVATE_DIR
                elif stat.S_ISREG(info.st_mode):
                    wanted = PRIVATE_FILE
                else:
                    continue  # symlinks, the Redis socket (Redis sets its mode)
                if _tighten(path, wanted):
                    changed.append(path)
            except OSError as exc:  # a file that is not ours or vanished meanwhile: say so, go on
                log.warning("could not make %s private: %s", path, exc.strerror or exc)
    return changed


def warn_if_readable(path: Path) -> None:
    """Log a warning when a private file outside the data directory is readable by other users."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        log.warning("%s is mode %04o: other users can read it (chmod 600 %s)", path, mode, path)
