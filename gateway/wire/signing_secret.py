"""Where the token signing secret comes from (never from Redis' plain values).

- ``--secret`` / ``CG_SECRET``: that one; ``"new,old"`` while rotating (the first signs, all verify).
- Otherwise ``DATA_DIR/secret.key`` (0600), generated on the first start. It is created complete
  and atomically (a private temporary file, then ``link``: fails if the name exists), so two nodes
  sharing a data directory that start together end up with the same secret.
- With an external Redis and no ``--secret`` the key file still works for one node, but nodes on
  other machines would each make their own and reject each other's tokens. So each node stores a
  *fingerprint* of its signing secret in Redis (an HMAC of a fixed text: it does not reveal the
  secret) and a node using a key file whose secret does not match refuses to start, saying to give
  every node the same ``--secret``.

Versions before this one kept a generated secret in Redis (``P:secret``), readable by anyone who can
read Redis or the embedded Redis' AOF. It is migrated, deliberately: with no ``--secret`` and no key
file yet, that value becomes ``secret.key`` (customers' and agents' tokens stay valid). The embedded
Redis then forgets it (deleted, AOF rewritten); a shared external Redis keeps it until every node has
moved (other nodes of the old version still read it), and the log says to delete it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from gateway.data_dir import PRIVATE_FILE
from gateway.errors import ConfigError
from gateway.store.store import Store

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"
_FINGERPRINT_TEXT = b"contact-gateway signing secret fingerprint v1"


def configured_secrets(configured: str) -> list[bytes]:
    """``"new,old"`` -> ``[b"new", b"old"]`` (the first signs)."""
    return [part.strip().encode() for part in configured.split(",") if part.strip()]


def fingerprint(secret: bytes) -> str:
    return hmac.new(secret, _FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:32]


def read_or_create_key_file(path: Path, initial: bytes | None = None) -> bytes:
    """The secret in ``path``; created 0600 with ``initial`` (or 32 random bytes, hex) when missing."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    value = initial if initial is not None else secrets.token_hex(32).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(value + b"\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # atomic and exclusive: the loser of a race reads the winner's secret
            log.info("created the token signing secret %s (mode 0600)", path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> bytes:
    value = path.read_bytes().strip()
    if len(value) < 16:
        raise ConfigError(
            f"{path}: the signing secret must be at least 16 characters "
            f"(delete the file to generate a new one: every token signed so far stops working)",
            field="secret",
        )
    return value


async def signing_secrets(store: Store, configured: str | None, data_dir: Path, *, embedded: bool) -> list[bytes]:
    """The secrets tokens are verified with, the signing one first."""
    old_key = store.keys.secret
    old = await store.legacy_secret()
    if configured:
        chosen = configured_secrets(configured)
        if old is not None:
            await _forget_old(store, embedded, reason="a secret is configured")
    else:
        key_file = data_dir / KEY_FILE
        migrating = old if old is not None and len(old) >= 16 and not key_file.exists() else None
        chosen = [read_or_create_key_file(key_file, initial=migrating)]
        if migrating is not None:
            log.warning(
                "moved the token signing secret from Redis (%s) to %s; existing tokens stay valid", old_key, key_file
            )
        if old is not None:
            await _forget_old(store, embedded, reason=f"it now lives in {key_file}")
    await _check_fingerprint(store, chosen, from_key_file=not configured, embedded=embedded)
    return chosen


async def _forget_old(store: Store, embedded: bool, *, reason: str) -> None:
    old_key = store.keys.secret
    if embedded:
        await store.delete_legacy_secret(rewrite_aof=True)  # the AOF still holds the SET until it is rewritten
        log.info("deleted the old token signing secret from the embedded Redis (%s) and rewrote its AOF", reason)
    else:
        log.warning(
            "the shared Redis still holds an old token signing secret in plain text (key %s; %s): "
            "once no node of an older version uses this Redis, delete it (redis-cli DEL %s)",
            old_key,
            reason,
            old_key,
        )


async def _check_fingerprint(store: Store, chosen: list[bytes], *, from_key_file: bool, embedded: bool) -> None:
    key = store.keys.secret_fingerprint
    stored = await store.secret_fingerprint()
    mine = {fingerprint(s) for s in chosen}
    if stored is not None and stored not in mine:
        if from_key_file and not embedded:
            raise ConfigError(
                "another node using this Redis signs tokens with a different secret (each node generated its "
                "own in its data directory): give every node the same --secret / CG_SECRET (e.g. the content "
                "of one node's DATA_DIR/secret.key). If this node's secret changed on purpose, delete the "
                f"Redis key {key} and start again.",
                field="secret",
            )
        log.warning(
            "tokens signed before with another secret are no longer accepted (the secret changed, or "
            "nodes sharing this Redis have different --secret values)"
        )
    await store.set_secret_fingerprint(fingerprint(chosen[0]))
