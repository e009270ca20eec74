"""What a question says when it asks again: escalating re-prompts, and the switch to keys.

A ``menu`` or ``gather`` that got no answer it could use asks again, up to
``retries`` times. What it says then, in order of preference:

1. the node's ``reprompts`` (after a no-match) or ``no_input_prompts`` (after
   silence): the 1st entry on the 1st retry of that kind, the 2nd on the 2nd,
   the last one again after that. Each entry is said *instead of* the question.
2. otherwise the ``no_match_prompt`` / ``no_input_prompt`` (node or flow
   defaults), else a generated apology ("Sorry, I didn't get that."), then the
   question again; from the 2nd retry on, a voice menu replaces the question
   by the list of its keys ("For Billing, press 1. For Support, press 2."):
   the caller who did not get it twice is told exactly what to do.

After ``speech_fallback.after`` spoken answers failed (default 2), a voice
question takes keys only: speech recognition is off for it and the caller
hears the ``speech_fallback`` prompt, else a generated one ("Let's use the
keypad instead." and the keys of a menu). Generated texts are English: a flow
in another language gets only what it wrote, and the question again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .actions import StepKind
from .model import Choice, Flow, GatherNode, MenuNode, Prompt
from .template import Template

#: Base languages the generated texts are written in.
GENERATED_LANGUAGES = ("en",)

#: The generated apology of the 1st and of later retries, per kind of failure.
APOLOGIES = {
    StepKind.NO_MATCH: ("Sorry, I didn't get that.", "Sorry, I still didn't get that."),
    StepKind.NO_INPUT: ("Sorry, I didn't hear anything.", "Sorry, I still didn't hear anything."),
}
KEYPAD = "Let's use the keypad instead."
KEY_NAMES = {"*": "star", "#": "pound"}


def generates(flow: Flow) -> bool:
    """Whether the flow speaks a language the generated texts are written in (no language: English)."""
    language = flow.defaults.language or flow.defaults.speech_language or "en"
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0] in GENERATED_LANGUAGES


def _said(text: str) -> Prompt:
    return Prompt(say=Template.parse(text))


def key_listing(choices: Sequence[Choice]) -> str:
    """ "For Billing, press 1. For Support, press 2." for the choices with a label ('' when none has one)."""
    return " ".join(
        f"For {c.label}, press {KEY_NAMES.get(c.key, c.key)}." for c in choices if c.label and c.label != c.key
    )


def retry_prompts(
    node: MenuNode | GatherNode,
    kind: StepKind,
    count: int,
    choices: Sequence[Choice],
    *,
    voice: bool,
    generated: bool,
) -> tuple[Prompt, ...]:
    """What to say on the ``count``-th (1-based) retry after a failure of ``kind`` (no-match or no-input)."""
    spec = node.input
    written = spec.reprompts if kind is StepKind.NO_MATCH else spec.no_input_reprompts
    if written:
        return written[min(count, len(written)) - 1]
    apology = spec.no_match_prompts if kind is StepKind.NO_MATCH else spec.no_input_prompts
    if not apology and generated:
        apology = (_said(APOLOGIES[kind][min(count, 2) - 1]),)
    listing = key_listing(choices) if voice and generated and count >= 2 and isinstance(node, MenuNode) else ""
    return apology + ((_said(listing),) if listing else node.prompts)


def keys_prompts(node: MenuNode | GatherNode, choices: Sequence[Choice], *, generated: bool) -> tuple[Prompt, ...]:
    """What a voice question says once it takes keys only."""
    if node.input.speech_fallback.prompts:
        return node.input.speech_fallback.prompts
    if not generated:
        return node.prompts
    listing = key_listing(choices) if isinstance(node, MenuNode) else ""
    if listing:
        return (_said(f"{KEYPAD} {listing}"),)
    return (_said(KEYPAD),) + node.prompts
