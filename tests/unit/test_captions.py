"""Call captions: each prompt's text when it starts playing (not when it is queued), and what the IVR understood."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from textwrap import dedent

from gateway.flows.captions import Captions, understood
from gateway.protocol.states import CaptionKind
from gateway.tasks import Tasks
from ivr.actions import Action, Play, Step, StepKind
from ivr.events import Digits, PromptFinished, Speech
from ivr.interpreter import Interpreter
from ivr.loader import parse_flow
from media.player import PlaybackOutcome
from tests.unit.flowkit import NOW, flow_of

FLOW = flow_of("""\
    start: menu
    nodes:
      menu:
        type: menu
        prompt: "For billing press 1. To leave your account number press 2."
        choices:
          - {key: 1, label: Billing, words: [billing], next: bye}
          - {key: 2, label: Account, next: account}
        fallback: bye
      account:
        type: gather
        var: account
        prompt: "Enter your account number, then the hash key."
        min_digits: 4
        max_digits: 8
        terminator: "#"
        inter_digit_timeout: 3s
        fallback: bye
        next: bye
      bye: {type: hangup, prompt: "Bye."}
""")


def captions_of(actions: list[Action]) -> list[tuple[CaptionKind, str]]:
    return [c for a in actions if isinstance(a, Step) and (c := understood(a)) is not None]


def test_the_keys_and_the_words_the_interpreter_took_are_captioned() -> None:
    interp = Interpreter(FLOW, {})
    interp.start(NOW)
    interp.handle(PromptFinished("p1"), NOW)
    assert captions_of(interp.handle(Digits("2"), NOW)) == [(CaptionKind.KEYS, "2")]
    interp.handle(PromptFinished("p2"), NOW)
    assert captions_of(interp.handle(Digits("42"), NOW)) == []  # the gather goes on: no answer yet
    assert captions_of(interp.handle(Digits("71#"), NOW)) == [(CaptionKind.KEYS, "4271#")]

    spoken = Interpreter(FLOW, {})
    spoken.start(NOW)
    assert captions_of(spoken.handle(Speech("billing", 0.91), NOW)) == [(CaptionKind.SAID, "billing")]
    not_understood = Interpreter(FLOW, {})
    not_understood.start(NOW)
    steps = not_understood.handle(Speech("", 0.2, heard="billing", reason="low_confidence"), NOW)
    assert any(isinstance(s, Step) and s.kind is StepKind.INPUT for s in steps)
    assert captions_of(steps) == []  # the no-match prompt that follows is the caption
    assert understood(Step(StepKind.INPUT, "n", "digits 12 (inter-digit timeout)")) == (CaptionKind.KEYS, "12")
    assert understood(Step(StepKind.INPUT, "n", 'speech "it\'s me" (0.80)')) == (CaptionKind.SAID, "it's me")
    assert understood(Step(StepKind.PROMPT, "n", "digits 1")) is None


def test_a_recording_is_captioned_with_its_words(tmp_path: Path) -> None:
    (tmp_path / "hello.ogg").write_bytes(b"OggS")
    flow = parse_flow(
        dedent("""\
        start: hello
        nodes:
          hello:
            type: say
            prompt:
              - {play: hello.ogg, say: "Welcome to Acme, {{ name }}."}
              - {play: hello.ogg}
            next: bye
          bye: {type: hangup, prompt: "Bye."}
    """),
        tmp_path / "rec.yaml",
    )
    plays = [a for a in Interpreter(flow, {"name": "Ann"}).start(NOW) if isinstance(a, Play)]
    assert [p.text for p in plays] == ["Welcome to Acme, Ann.", ""]


async def test_each_prompt_is_captioned_when_it_starts_playing_and_a_cut_one_never() -> None:
    sent: list[tuple[CaptionKind, str]] = []

    async def send(kind: CaptionKind, text: str) -> None:
        sent.append((kind, text))

    async def settled() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    loop = asyncio.get_running_loop()
    tasks = Tasks("captions-test", logging.getLogger(__name__))
    captions = Captions(send, tasks)
    try:
        greeting, blank, menu, unheard = (loop.create_future() for _ in range(4))
        captions.prompt_queued("Welcome.", greeting)  # nothing playing: it starts now
        captions.prompt_queued("  ", blank)  # no words: no caption, but it is in the line
        await settled()
        assert sent == [(CaptionKind.PROMPT, "Welcome.")]
        captions.prompt_queued("For billing press 1.", menu)  # queued behind the two others
        await settled()
        assert sent == [(CaptionKind.PROMPT, "Welcome.")]
        greeting.set_result(PlaybackOutcome.FINISHED)
        await settled()
        assert sent == [(CaptionKind.PROMPT, "Welcome.")]  # the silent recording plays now
        blank.set_result(PlaybackOutcome.FINISHED)
        await settled()
        assert sent[-1] == (CaptionKind.PROMPT, "For billing press 1.")

        captions.heard(Step(StepKind.INPUT, "menu", "digits 1"))
        captions.prompt_queued("Connecting you.", unheard)
        menu.set_result(PlaybackOutcome.STOPPED)  # barge-in cut the menu and everything queued after it
        unheard.set_result(PlaybackOutcome.STOPPED)
        await settled()
        assert sent == [
            (CaptionKind.PROMPT, "Welcome."),
            (CaptionKind.PROMPT, "For billing press 1."),
            (CaptionKind.KEYS, "1"),
        ]
    finally:
        await tasks.close()
