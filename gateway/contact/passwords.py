"""Password hashing with scrypt (standard library), in a self-describing format.

``scrypt$N$r$p$salt$hash`` with base64 salt and hash, so parameters can be
raised later without breaking stored hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, n: int = _N) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, dklen=32)
    return "$".join(
        ["scrypt", str(n), str(_R), str(_P), base64.b64encode(salt).decode(), base64.b64encode(digest).decode()]
    )


def is_hash(text: str) -> bool:
    parts = text.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(p.isdigit() for p in parts[1:4])


def verify_password(password: str, stored: str) -> bool:
    if not is_hash(stored):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    try:
        expected = base64.b64decode(salt), base64.b64decode(digest)
    except ValueError:
        return False
    actual = hashlib.scrypt(
        password.encode(), salt=expected[0], n=int(n), r=int(r), p=int(p), dklen=len(expected[1]), maxmem=2**26
    )
    return hmac.compare_digest(actual, expected[1])
