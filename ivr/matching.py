"""Understanding an answer: which menu choice a key, button, typed text or utterance picks,
and which digits a typed or spoken number holds.

Text matching, in order: the key itself (``"1"``, or a spoken ``"one"``), the
label or value (case-insensitive), then the choice's ``words`` found as whole
words anywhere in the answer ("I have a question about my **bill**"). When
words of several choices appear, nothing is picked: a no-match is better
than a wrong queue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .actions import ListenChoice
from .model import Choice

NUMBER_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "star": "*",
    "hash": "#",
    "pound": "#",
}
#: "double five" is 55, "triple oh" 000 (typed or spoken).
REPEAT_WORDS = {"double": 2, "triple": 3}
_WORD_RE = re.compile(r"[\w*#']+")
_SEPARATORS_RE = re.compile(r"[\s\-.,/()]+")


def spoken_phrases(choices: Sequence[Choice], hints: Sequence[str] = (), *, labels: bool = True) -> tuple[str, ...]:
    """What a caller may say in a menu: each choice's words, its label (unless it is just the key), then the
    node's speech hints; in that order, lower case, without duplicates. The recognizer's grammar is made of these.
    """
    out: dict[str, None] = {}
    for choice in choices:
        named = (choice.label,) if labels and choice.label != choice.key else ()
        for phrase in choice.words + named:
            out.setdefault(phrase.strip().lower(), None)
    for phrase in hints:
        out.setdefault(phrase.strip().lower(), None)
    out.pop("", None)
    return tuple(out)


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text``, punctuation dropped."""
    return _WORD_RE.findall(text.lower())


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    return n > 0 and any(list(haystack[i : i + n]) == list(needle) for i in range(len(haystack) - n + 1))


def match_key(choices: Sequence[Choice], keys: str) -> Choice | None:
    """The choice whose key is the first of ``keys`` (a menu decides on the first key)."""
    return next((c for c in choices if keys and c.key == keys[0]), None)


def match_text(choices: Sequence[Choice], text: str) -> Choice | None:
    """The choice a typed text, button value or utterance picks, or None (no match or ambiguous)."""
    said = text.strip().lower()
    if not said:
        return None
    said_words = words_of(said)
    for choice in choices:
        if said in (choice.key, choice.label.lower(), choice.value.lower()):
            return choice
    if len(said_words) == 1 and said_words[0] in NUMBER_WORDS:
        found = match_key(choices, NUMBER_WORDS[said_words[0]])
        if found is not None:
            return found
    hits = [
        c for c in choices if any(_contains(said_words, words_of(w)) for w in c.words + (c.label, c.value) if w.strip())
    ]
    return hits[0] if len(hits) == 1 else None


def opening_pick(choices: Sequence[ListenChoice], text: str) -> str | None:
    """The key of the one menu choice whose words or label a customer's opening chat message names ("I have a
    question about my bill" -> billing's), asked before the menu was shown; None when it names none or several, or
    is a bare key or number (a first message "1" or "hi" answers no question yet)."""
    said = words_of(text.strip().lower())
    if not said or (len(said) == 1 and (said[0] in NUMBER_WORDS or any(said[0] == c.key for c in choices))):
        return None
    named = [(c, (*c.words, c.label) if c.label != c.key else c.words) for c in choices]
    hits = [c for c, phrases in named if any(_contains(said, words_of(w)) for w in phrases if w.strip())]
    return hits[0].key if len(hits) == 1 else None


def match_known(choices: Sequence[Choice], value: str) -> Choice | None:
    """The choice a known context value names (its value, label, key or one of its words)."""
    wanted = value.strip().lower()
    for choice in choices:
        if wanted in (choice.value.lower(), choice.label.lower(), choice.key) or wanted in choice.words:
            return choice
    return None


def digits_of(text: str, *, terminator: str = "") -> str | None:
    """The keys in a typed or spoken number: ``"12 34#"`` -> ``"1234"``, ``"one two"`` -> ``"12"``,
    ``"double five oh one"`` -> ``"5501"``.

    None when the text holds anything else than digits, number words, "double" / "triple" before a
    digit, and separators.
    """
    compact = _SEPARATORS_RE.sub(" ", text.strip().lower()).strip()
    if terminator and compact.endswith(terminator):
        compact = compact[:-1].strip()
    out: list[str] = []
    times = 1
    for token in compact.split():
        if token in REPEAT_WORDS and times == 1:
            times = REPEAT_WORDS[token]
            continue
        if token.isdigit() and token.isascii():
            digit = token
        elif token in NUMBER_WORDS and NUMBER_WORDS[token] not in "#":
            digit = NUMBER_WORDS[token]
        elif set(token) <= set("0123456789*") and times == 1:
            digit = token
        else:
            return None
        if times > 1 and len(digit) != 1:
            return None  # "double 55": not a way to say a number
        out.append(digit * times)
        times = 1
    return "".join(out) if out and times == 1 else None
