"""Whether the installed aiortc / aioice is the code a module of ours copies or relies on.

media/direct_send.py and media/direct_receive.py reach into aiortc's and aioice's private workings; each lists the
functions it relies on with a hash of their source as written against. On another version a module falls back to
aiortc's own path instead of running against code it was not written for.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any


def digest(func: Any) -> str:
    """sha256 (first 16 hex digits) of ``func``'s source."""
    return hashlib.sha256(inspect.getsource(func).encode()).hexdigest()[:16]


def unsupported(funcs: Iterable[Any], known: Mapping[str, set[str]], module: str) -> str | None:
    """Why ``module`` cannot run on the installed code (the first function whose source is not one of ``known``'s
    digests for its qualified name, or cannot be read), or None."""
    for func in funcs:
        try:
            found = digest(func)
        except (OSError, TypeError):  # installed without its sources: nothing to check against
            return f"the source of {func.__module__}.{func.__qualname__} cannot be read"
        if found not in known.get(func.__qualname__, set()):
            return f"{func.__module__}.{func.__qualname__} is not the code {module} was written against"
    return None
