"""Menus and gathers: asking, listening, matching the answer, read-back, retries and the fallback.

:class:`Questions` is the part of the interpreter that handles a question node
(``menu``, ``callback``, ``gather``) from the moment it is entered until an
answer is taken or the retries are used up.
"""

from __future__ import annotations

from . import readback, reprompts
from .actions import (
    Listen,
    ListenChoice,
    ListenMode,
    RequestCallback,
    StepKind,
    StopPrompts,
)
from .events import (
    Digits,
    Speech,
    Text,
)
from .hours import next_time
from .machine import Machine, Waiting
from .matching import digits_of, match_key, match_known, match_text, spoken_phrases
from .model import (
    ASAP,
    CallbackNode,
    Channel,
    Choice,
    Confirm,
    GatherNode,
    MenuNode,
    Prompt,
)

DTMF_KEYS = frozenset("0123456789*#ABCD")


def describe_input(event: Digits | Text | Speech) -> str:
    if isinstance(event, Digits):
        return f"digits {event.digits}"
    if isinstance(event, Text):
        return f"text {event.text!r}"
    if not event.text:
        why = f": {event.reason.replace('_', ' ')}" if event.reason else ""
        guess = f" (best guess {event.heard!r} at {event.confidence:.2f})" if event.heard else ""
        return f"speech not understood{why}{guess}"
    return f"speech {event.text!r} ({event.confidence:.2f}{', unsure' if event.unsure else ''})"


class Questions(Machine):
    """Menus, callbacks and gathers (see :class:`ivr.interpreter.Interpreter`)."""

    def _enter_menu(self, node: MenuNode) -> str | None:
        spec = node.input
        known = self._context.get(spec.var) if spec.skip_if_known and spec.var else None
        # A choice leading back to its own menu ("hear this again") is never taken for a known value.
        candidates = [c for c in self._choices(node) if c.next != node.name]
        choice = match_known(candidates, known) if known else None
        if choice is not None:
            self._step(StepKind.SKIP, f"{spec.var}={known} is known: choice {choice.key} ({choice.label})")
            self._play(spec.known_prompts)
            picked = choice
            return self._after_prompts(lambda: self._take_choice(node, picked))
        self._begin_question()
        self._ask(node, node.prompts)
        return None

    def _enter_gather(self, node: GatherNode) -> str | None:
        spec = node.input
        known = self._context.get(spec.var) if spec.skip_if_known and spec.var else None
        if known:
            self._step(StepKind.SKIP, f"{spec.var} is known")
            self._play(spec.known_prompts)
            nxt = node.next
            return self._after_prompts(lambda: nxt)
        self._begin_question()
        self._ask(node, node.prompts)
        return None

    def _begin_question(self) -> None:
        self._failures = self._no_matches = self._no_inputs = self._speech_failures = 0
        self._keys_only = False

    def _ask(self, node: MenuNode | GatherNode, prompts: tuple[Prompt, ...]) -> None:
        """Say ``prompts`` (the question, or what replaces it on a retry) and listen for the answer."""
        self._play(prompts)
        self._digits = ""
        self._confirming = self._confirming_choice = None
        spec = node.input
        listen_id, timeout = self._open_listen(node)
        if isinstance(node, MenuNode):
            offered = self._choices(node)
            choices = tuple(ListenChoice(c.key, c.label, c.words) for c in offered)
            self._out.append(
                Listen(
                    listen_id,
                    ListenMode.MENU,
                    timeout,
                    choices=choices,
                    speech_hints=spoken_phrases(offered, spec.speech),
                    confirm=node.confirm is Confirm.SPEECH,
                    speech=not self._keys_only,
                )
            )
        else:
            d = node.digits
            self._out.append(
                Listen(
                    listen_id,
                    ListenMode.DIGITS,
                    timeout,
                    max_digits=d.max_digits,
                    min_digits=d.min_digits,
                    terminator=d.terminator,
                    inter_digit_timeout=d.inter_digit_timeout,
                    speech_hints=spec.speech,
                    confirm=node.confirm is not Confirm.NEVER,
                    speech=not self._keys_only,
                )
            )
        self._waiting = Waiting.INPUT

    def _open_listen(self, node: MenuNode | GatherNode) -> tuple[str, float | None]:
        """A new listen id, and the node's no-input timeout on this channel."""
        self._listen_seq += 1
        self._listen_id = f"l{self._listen_seq}"
        return self._listen_id, node.input.timeout if self._channel is Channel.VOICE else node.input.chat_timeout

    def _ask_confirmation(self, node: GatherNode | MenuNode, value: str, choice: Choice | None = None) -> None:
        """Read ``value`` back (a menu: ``choice``'s label) and listen for yes / no (keys 1 / 2, buttons, words)."""
        self._confirming = value
        self._confirming_choice = choice
        self._step(StepKind.CONFIRM, f"{value}?")
        self._play(readback.prompts(node))
        listen_id, timeout = self._open_listen(node)
        choices, phrases = readback.listen_choices(self._flow.defaults.recognition_language)
        self._out.append(
            Listen(
                listen_id, ListenMode.MENU, timeout, choices=choices, speech_hints=phrases, speech=not self._keys_only
            )
        )
        self._waiting = Waiting.INPUT

    def _confirm_input(self, node: GatherNode | MenuNode, event: Digits | Text | Speech) -> None:
        value, choice = self._confirming, self._confirming_choice
        assert value is not None
        said = readback.answer(event, self._flow.defaults.recognition_language)
        self._step(StepKind.INPUT, describe_input(event))
        self._close_listen()
        self._confirming = self._confirming_choice = None
        if said is None:
            self._retry(node, StepKind.NO_MATCH, f"no yes or no to {value}", spoken=isinstance(event, Speech))
        elif said == "no":  # a misheard answer is a speech failure (confirm: speech asks back spoken ones only)
            spoken_value = node.confirm is Confirm.SPEECH or isinstance(event, Speech)
            self._step(StepKind.CONFIRM, f"{value} rejected")
            self._retry(node, StepKind.NO_MATCH, f"the caller said {value} is wrong", spoken=spoken_value)
        else:
            self._step(StepKind.CONFIRM, f"{value} confirmed")
            if isinstance(node, MenuNode):
                assert choice is not None
                self._run(self._take_choice(node, choice))
            else:
                self._take_gathered(node, value)

    def _choices(self, node: MenuNode) -> tuple[Choice, ...]:
        return tuple(c for c in node.choices if c.only is None or c.only is self._channel)

    def _take_choice(self, node: MenuNode, choice: Choice) -> str | None:
        """Record the choice and set the menu's variable (not for a choice that repeats the menu)."""
        self._step(StepKind.CHOICE, f"{choice.key} ({choice.label}) -> {choice.next}")
        if (
            node.input.var is not None
            and choice.next != node.name
            and self._context.get(node.input.var) != choice.value
        ):
            self._set({node.input.var: choice.value})
        when = dict(node.slots).get(choice.key) if isinstance(node, CallbackNode) else None
        if isinstance(node, CallbackNode) and when is not None and not self._book_callback(node, choice, when):
            return None
        return choice.next

    def _book_callback(self, node: CallbackNode, choice: Choice, when: str) -> bool:
        queue = self._queue_name(node.queue)
        if queue is None:
            return False
        assert self._now is not None
        due = None if when == ASAP else next_time(self._now, when, node.timezone)
        phone = self._context.get(node.phone_var, "") if node.phone_var else ""
        described = "as soon as possible" if due is None else f"at {due:%Y-%m-%d %H:%M} {node.timezone}"
        self._step(StepKind.CALLBACK, f"{described} in {queue}" + (f", phone {phone}" if phone else ""))
        self._out.append(
            RequestCallback(
                queue,
                due,
                choice.label,
                node.priority,
                node.skills,
                phone,
                node.attempts,
                node.retry_after,
                node.expire_after,
                node.explicit,
            )
        )
        return True

    def _retry(self, node: MenuNode | GatherNode, kind: StepKind, why: str, *, spoken: bool = False) -> None:
        """Ask again after a no-match or no-input (``spoken``: a spoken answer failed), or take the fallback."""
        spec = node.input
        self._failures += 1
        self._step(kind, f"{why} (attempt {self._failures} of {spec.retries + 1})")
        if self._failures > spec.retries:
            self._step(StepKind.FALLBACK, f"-> {spec.fallback}")
            self._run(spec.fallback)
            return
        voice = self._channel is Channel.VOICE
        generated = reprompts.generates(self._flow)
        choices = self._choices(node) if isinstance(node, MenuNode) else ()
        self._speech_failures += spoken
        after = spec.speech_fallback.after
        if voice and self._flow.defaults.speech_enabled and 0 < after <= self._speech_failures:
            if not self._keys_only:
                self._keys_only = True
                self._step(StepKind.KEYS_ONLY, f"after {self._speech_failures} failed spoken answers")
            self._ask(node, reprompts.keys_prompts(node, choices, generated=generated))
            return
        if kind is StepKind.NO_MATCH:
            self._no_matches += 1
        else:
            self._no_inputs += 1
        count = self._no_matches if kind is StepKind.NO_MATCH else self._no_inputs
        self._ask(node, reprompts.retry_prompts(node, kind, count, choices, voice=voice, generated=generated))

    def _on_input(self, event: Digits | Text | Speech) -> None:
        node = self._node
        if self._waiting is not Waiting.INPUT or not isinstance(node, (MenuNode, GatherNode)):
            self._step(StepKind.IGNORED, f"{describe_input(event)} (not listening)")
            return
        if any(not barge_in for barge_in in self._playing.values()):
            self._step(StepKind.IGNORED, f"{describe_input(event)} (a prompt without barge-in is playing)")
            return
        if self._keys_only and isinstance(event, Speech):  # a late result of a window opened before the switch
            self._step(StepKind.IGNORED, f"{describe_input(event)} (keys only now)")
            return
        if isinstance(event, Speech) and self._digits:
            # keys are being pressed: they are the answer. A noise the recognizer took for speech ended its window
            # (at its maximum) as a no-match and the keys pressed so far were lost, "4 2 7 1 #" taken as "71#" (an
            # exploratory test in a noisy room)
            self._step(StepKind.IGNORED, f"{describe_input(event)} (keys are being pressed)")
            return
        if isinstance(event, Digits):
            keys = "".join(k for k in event.digits.upper() if k in DTMF_KEYS)
            if not keys:
                return
            event = Digits(keys)
        self._steps = 0
        if self._playing:
            self._out.append(StopPrompts())
            self._playing.clear()
        # A question that reads its answer back (a gather with confirm, a menu with confirm: speech) takes speech at
        # the recognizer's confirmed operating point: the caller's yes is the gate, not min_confidence.
        gate = 0.0 if node.confirm is not Confirm.NEVER and self._confirming is None else node.input.min_confidence
        if isinstance(event, Speech) and not event.text.strip():
            self._step(StepKind.INPUT, describe_input(event))
            self._close_listen()
            self._confirming = self._confirming_choice = None
            self._retry(node, StepKind.NO_MATCH, "speech not understood", spoken=True)
        elif isinstance(event, Speech) and event.confidence < gate:
            self._step(StepKind.INPUT, describe_input(event))
            self._close_listen()
            self._confirming = self._confirming_choice = None
            self._retry(node, StepKind.NO_MATCH, f"confidence below {gate:.2f}", spoken=True)
        elif self._confirming is not None:
            self._confirm_input(node, event)
        elif isinstance(node, MenuNode):
            self._menu_input(node, event)
        else:
            self._gather_input(node, event)

    def _menu_input(self, node: MenuNode, event: Digits | Text | Speech) -> None:
        choices = self._choices(node)
        choice = match_key(choices, event.digits) if isinstance(event, Digits) else match_text(choices, event.text)
        self._step(StepKind.INPUT, describe_input(event))
        self._close_listen()
        if choice is None:
            self._retry(node, StepKind.NO_MATCH, "no choice matches", spoken=isinstance(event, Speech))
        elif isinstance(event, Speech) and readback.asks_back(node, event):
            self._ask_confirmation(node, choice.label, choice)
        else:
            self._run(self._take_choice(node, choice))  # None: the flow failed booking a callback

    def _gather_input(self, node: GatherNode, event: Digits | Text | Speech) -> None:
        spec = node.digits
        if isinstance(event, Digits):
            for key in event.digits:
                if spec.terminator and key == spec.terminator:
                    self._gather_done(node, self._digits, f"digits {self._digits}{key}", spoken=False)
                    return
                self._digits += key
                if len(self._digits) >= spec.max_digits:
                    self._gather_done(node, self._digits, f"digits {self._digits}", spoken=False)
                    return
            return  # more keys to come; the driver now runs the inter-digit timer
        self._gather_done(
            node,
            digits_of(event.text, terminator=spec.terminator) or "",
            describe_input(event),
            spoken=isinstance(event, Speech),
        )

    def _gather_done(self, node: GatherNode, value: str, heard: str, *, spoken: bool) -> None:
        spec = node.digits
        self._step(StepKind.INPUT, heard)
        self._close_listen()
        self._digits = ""
        if not spec.min_digits <= len(value) <= spec.max_digits:
            got = f"{len(value)} digit{'' if len(value) == 1 else 's'}" if value else "no digits"
            expected = f"{got}, expected {spec.min_digits} to {spec.max_digits}"
            self._retry(node, StepKind.NO_MATCH, expected, spoken=spoken)
            return
        if readback.reads_back(node, spoken=spoken):
            self._ask_confirmation(node, value)
            return
        self._take_gathered(node, value)

    def _take_gathered(self, node: GatherNode, value: str) -> None:
        if node.input.var is not None:
            self._set({node.input.var: value})
        self._run(node.next)

    def _on_no_input(self, listen_id: str | None) -> None:
        node = self._node
        if (
            self._waiting is not Waiting.INPUT
            or not isinstance(node, (MenuNode, GatherNode))
            or (listen_id is not None and listen_id != self._listen_id)
        ):
            return  # a late timer of a window that is already closed
        if self._confirming is not None:
            value, self._confirming, self._confirming_choice = self._confirming, None, None
            self._close_listen()
            self._retry(node, StepKind.NO_INPUT, f"no yes or no to {value}")
            return
        if isinstance(node, GatherNode) and self._digits:
            self._gather_done(node, self._digits, f"digits {self._digits} (inter-digit timeout)", spoken=False)
            return
        self._close_listen()
        self._retry(node, StepKind.NO_INPUT, "no input")
