"""Which new passwords are refused: shorter than :data:`MIN_LENGTH`, or one of the most common passwords.

The list is bundled (``common-passwords.txt.gz`` beside this module, 19,640 lowercased passwords from Django's
password validation, BSD licence: ``common-passwords.LICENSE``) and read once, on first use; nothing is fetched.
A password is compared lowercased and without surrounding spaces, so ``Password123`` counts as ``password123``.
The same rule for the admin REST, an agent changing their own password and ``contact-gateway agents``.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from gateway.errors import BadRequest
from gateway.protocol.codes import ErrorCode

MIN_LENGTH = 10
MAX_LENGTH = 256
LIST = Path(__file__).with_name("common-passwords.txt.gz")


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def weakness(password: str, *, agent_id: str = "") -> str | None:
    """Why ``password`` is refused, or None when it will do."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    folded = password.strip().lower()
    if folded in common_passwords():
        return "this password is in a list of common, breached passwords: choose another"
    if agent_id and agent_id.lower() in folded and len(folded) - len(agent_id) < 4:
        return "a password must not be the agent id with a few characters added"
    return None


def check_password(password: object, *, field: str = "password", agent_id: str = "") -> str:
    """The password if it will do; else BadRequest ``weak_password`` naming ``field``."""
    if not isinstance(password, str) or not password:
        raise BadRequest(f"'{field}' is required", field=field, code=ErrorCode.MISSING_FIELD)
    why = weakness(password, agent_id=agent_id)
    if why is not None:
        raise BadRequest(why, field=field, code=ErrorCode.WEAK_PASSWORD)
    return password
