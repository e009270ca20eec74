"""The data directory holds private data: keep it readable by the gateway's user only.

Everything the gateway keeps on disk is private: the embedded Redis' AOF (every
conversation), ``secret.key`` (the token signing secret: whoever reads it signs
supervisor tokens), the agents file (password hashes), call recordings, attachments and the
TTS cache (prompts may say a customer's name). The directory is made 0700 and
what the gateway writes into it 0600 (directories 0700). A data directory left
by an older version with wider bits is tightened at start, and logged.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
from pathlib import Path
from typing import IO

from gateway.errors import ConfigError

log = logging.getLogger(__name__)

SERVE_LOCK = "serve.lock"  # held by the ``serve`` that runs the data directory's embedded Redis
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
#: Subdirectories holding public data only (downloaded speech models: large trees, nothing private).
PUBLIC_SUBDIRS = frozenset({"models"})
#: What the gateway and its embedded Redis keep in the data directory.
GATEWAY_ENTRIES = frozenset(
    {
        "appendonlydir",
        "redis.log",
        "redis.sock",
        "redis-auth.conf",
        "secret.key",
        "agents.toml",
        "agents.toml.tmp",
        "recordings",
        "attachments",
        "tts-cache",
        SERVE_LOCK,
        *PUBLIC_SUBDIRS,
    }
)


def private_mkdir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700 directories; existing ones are left as they are."""
    missing = []
    walk = path
    while not walk.exists():
        missing.append(walk)
        if walk.parent == walk:
            break
        walk = walk.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)  # the umask can only take bits away
        except FileExistsError:
            pass  # another process made it at the same moment


def _tighten(path: Path, mode: int) -> bool:
    """chmod ``path`` to ``mode`` if it grants more; True if it was changed."""
    current = stat.S_IMODE(path.lstat().st_mode)
    if current & ~mode == 0:
        return False
    os.chmod(path, current & mode)
    return True


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data directory 0700, or tighten one (and the gateway's files in it) that others could read.

    Only what the gateway itself keeps there is touched (:data:`GATEWAY_ENTRIES`); a directory holding
    other files too (``--data-dir`` pointed at a home or a shared directory by mistake) keeps its mode,
    with a warning, so that nothing else on the machine breaks. Raises :class:`ConfigError` when a new
    directory cannot be created private.
    """
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"--data-dir {data_dir} is a file, not a directory", field="data_dir")
    if not data_dir.exists():
        try:
            private_mkdir(data_dir)
        except OSError as exc:
            raise ConfigError(
                f"{data_dir}: cannot create the data directory (mode 0700): {exc.strerror or exc}", field="data_dir"
            ) from None
        return
    before = stat.S_IMODE(data_dir.stat().st_mode)
    if before & 0o077:
        foreign = sorted(p.name for p in data_dir.iterdir() if not is_gateway_entry(p.name))
        if foreign:
            log.warning(
                "data directory %s is mode %04o and holds files that are not the gateway's (%s): its mode "
                "is left as it is; give the gateway a directory of its own, or chmod 700 %s",
                data_dir,
                before,
                ", ".join(foreign[:5]),
                data_dir,
            )
        else:
            try:
                _tighten(data_dir, PRIVATE_DIR)
            except OSError as exc:
                raise ConfigError(
                    f"{data_dir}: cannot make the data directory private (mode 0700): {exc.strerror or exc}",
                    field="data_dir",
                ) from None
            log.warning(
                "data directory %s was mode %04o (other users could read conversations and the signing "
                "secret); now 0700",
                data_dir,
                before,
            )
    tightened = _tighten_entries(data_dir)
    if tightened:
        log.warning(
            "made %d files and directories in %s private (0600 / 0700), e.g. %s",
            len(tightened),
            data_dir,
            ", ".join(str(p.relative_to(data_dir)) for p in tightened[:5]),
        )


def is_gateway_entry(name: str) -> bool:
    return name in GATEWAY_ENTRIES or name.startswith(("temp-", ".secret.key.")) or name.endswith((".aof", ".rdb"))


def _tighten_entries(data_dir: Path) -> list[Path]:
    """chmod the gateway's own entries (its directories recursively) to 0600 / 0700; the changed ones."""
    changed: list[Path] = []
    for top in sorted(data_dir.iterdir()):
        if not is_gateway_entry(top.name) or top.name in PUBLIC_SUBDIRS:
            continue
        paths = [top]
        if top.is_dir() and not top.is_symlink():
            for root, dirs, files in os.walk(top):
                paths += [Path(root) / name for name in dirs + files]
        for path in paths:
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
            except OSError as exc:  # not ours, or vanished meanwhile: say so, go on
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


def hold_serve_lock(data_dir: Path) -> IO[bytes]:
    """The data directory's serve lock, held until the returned file is closed (this process's end): a second
    ``serve`` on the same data directory would share the first one's embedded Redis and, with workers, its port too
    (SO_REUSEPORT), and break when the first stops. ConfigError naming the holder's pid if another process holds it."""
    lock = open(data_dir / SERVE_LOCK, "a+b")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().decode(errors="replace").strip() or "?"
        lock.close()
        raise ConfigError(
            f"another gateway (pid {holder}) is serving from {data_dir}: stop it first, or give this one a data "
            "directory of its own (or a shared --redis-url: then run them on different ports)",
            field="data_dir",
        ) from None
    os.chmod(lock.fileno(), PRIVATE_FILE)
    lock.truncate(0)
    lock.write(str(os.getpid()).encode())
    lock.flush()
    return lock
