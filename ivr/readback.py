"""Read-back of a gathered answer: "I heard 4 2 7 1. Is that right?", then yes or no.

A ``gather`` with ``confirm`` (:class:`~ivr.model.Confirm`) repeats the
answer and takes it only on the caller's yes. This module holds what the
interpreter needs for that and nothing of its state: when an answer is read
back, the default question, the yes / no answers per language, and which
of them an input picks.
"""

from __future__ import annotations

import re
from typing import Literal

from .actions import ListenChoice
from .events import Digits, Speech, Text
from .matching import match_key, match_text, spoken_phrases
from .model import Choice, Confirm, GatherNode, MenuNode, Prompt
from .template import Template

#: The read-back question of a gather with ``confirm`` when its node has no ``confirm_prompt``.
DEFAULT_PROMPT = Prompt(
    say=Template.parse("I heard {{ answer | spell }}. Is that right? Say yes or press 1. Say no or press 2."),
    chat=Template.parse("Is {{ answer }} right?"),
)

#: The question of a menu with ``confirm: speech`` when its node has no ``confirm_prompt``.
DEFAULT_MENU_PROMPT = Prompt(
    say=Template.parse("Did you say {{ answer }}? Say yes or press 1. Say no or press 2."),
    chat=Template.parse("Did you mean {{ answer }}?"),
)

#: What a caller says to a read-back question, per base language: (label, words) for yes, then for no.
#: Unknown languages get English.
CONFIRM_WORDS: dict[str, tuple[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...]]]] = {
    "en": (("Yes", ("yes", "yeah", "correct", "right")), ("No", ("no", "wrong"))),
    "ko": (("네", ("네",)), ("아니요", ("아니요",))),
}


def reads_back(node: GatherNode, *, spoken: bool) -> bool:
    """Whether ``node`` reads this answer back (``spoken``: it came by speech)."""
    return node.confirm is Confirm.ALWAYS or (node.confirm is Confirm.SPEECH and spoken)


def prompts(node: GatherNode | MenuNode) -> tuple[Prompt, ...]:
    return node.confirm_prompts or (DEFAULT_MENU_PROMPT if isinstance(node, MenuNode) else DEFAULT_PROMPT,)


def asks_back(node: MenuNode, speech: Speech) -> bool:
    """Whether ``node`` asks back this spoken answer: one the recognizer was unsure of (taken only at its confirmed
    operating point, under its usual threshold), or one under the node's ``confirm_below`` or its own
    ``min_confidence`` (an answer a menu without asking back would refuse is never taken at once)."""
    bar = max(node.confirm_below, node.input.min_confidence)
    return node.confirm is Confirm.SPEECH and (speech.unsure or speech.confidence < bar)


def confirm_choices(language: str | None) -> tuple[Choice, Choice]:
    """The yes (key 1, value "yes") and no (key 2, value "no") answers to a read-back question."""
    base = re.split(r"[-_]", (language or "en").strip().lower(), maxsplit=1)[0]
    (yes_label, yes_words), (no_label, no_words) = CONFIRM_WORDS.get(base, CONFIRM_WORDS["en"])
    return Choice("1", yes_label, "yes", yes_words, ""), Choice("2", no_label, "no", no_words, "")


def listen_choices(language: str | None) -> tuple[tuple[ListenChoice, ...], tuple[str, ...]]:
    """The yes / no choices as a channel shows them, and the phrases a caller may say."""
    answers = confirm_choices(language)
    return tuple(ListenChoice(c.key, c.label, c.words) for c in answers), spoken_phrases(answers)


def answer(event: Digits | Text | Speech, language: str | None) -> Literal["yes", "no"] | None:
    """What an input says to the read-back question (None: neither yes nor no)."""
    answers = confirm_choices(language)
    choice = match_key(answers, event.digits) if isinstance(event, Digits) else match_text(answers, event.text)
    if choice is None:
        return None
    return "yes" if choice.value == "yes" else "no"
