"""The words of a text as the search index keeps them (``P:word:W``, gateway/store/keys.py): pure, no Redis.

A word is a run of letters and digits (Unicode ``\\w``: ``don't`` is ``don`` and ``t``), NFKC-normalised and
casefolded, 2 to 32 characters long; shorter ones (``a``, ``I``) and longer ones (a pasted token) are not indexed.
A message, note or transcript line gives at most :data:`MAX_WORDS_PER_EVENT` distinct words (its first ones), and a
conversation at most :data:`MAX_WORDS_PER_CONVERSATION` (the first ones it used): a search finds whole words, not
parts of words nor phrases, and may miss a word first used after a conversation's cap.
"""

from __future__ import annotations

import re
import unicodedata

MIN_WORD = 2
MAX_WORD = 32
MAX_WORDS_PER_EVENT = 64
MAX_WORDS_PER_CONVERSATION = 2000

_WORD = re.compile(r"[^\W_]+")


def words(text: object, limit: int = MAX_WORDS_PER_EVENT) -> list[str]:
    """The distinct indexable words of ``text`` in order of first use (at most ``limit``); [] for a non-string."""
    if not isinstance(text, str):
        return []
    out: dict[str, None] = {}
    for match in _WORD.finditer(unicodedata.normalize("NFKC", text).casefold()):
        word = match.group()
        if MIN_WORD <= len(word) <= MAX_WORD:
            out.setdefault(word, None)
            if len(out) >= limit:
                break
    return list(out)
