"""The loader's readers of question nodes: ``menu``, ``callback`` and ``gather``, their choices and retries.

:class:`QuestionReaders` is the part of :class:`ivr.loader._FileLoader` that
builds the nodes which ask the caller something; the flow-wide question
defaults (``timeout``, ``retries``, ...) come from the file's ``defaults``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import schema
from .errors import ErrorCode, SpecError
from .hours import parse_timezone
from .model import (
    CONFIRM_BELOW,
    SPEECH_FALLBACK_AFTER,
    CallbackNode,
    Channel,
    Choice,
    Confirm,
    DigitsSpec,
    GatherNode,
    InputSpec,
    MenuNode,
    Node,
    Prompt,
    SpeechFallback,
)
from .reader import FileReports, NodeReader, suggest
from .source import LineDict, LineList
from .template import Template

DTMF_KEYS = "0123456789*#"
SKILL_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}(:([1-9]|10))?$")
_WHEN_RE = re.compile(r"^(asap|([01][0-9]|2[0-3]):[0-5][0-9])$")
_YAML_COMMENT_HINT = " (in YAML an unquoted # starts a comment: write '#')"


class QuestionDefaults:
    """Flow-wide defaults for questions, read from the ``defaults`` mapping."""

    timeout = 5.0
    inter_digit_timeout = 3.0
    chat_timeout: float | None = None
    retries = 2
    min_confidence = 0.5
    no_input_prompts: tuple[Prompt, ...] = ()
    no_match_prompts: tuple[Prompt, ...] = ()
    speech_fallback = SpeechFallback()


#: ``speech_fallback: keys`` / ``none``, or a mapping with these keys.
SPEECH_FALLBACK_WORDS = ("keys", "none")
SPEECH_FALLBACK_KEYS = ("to", "after", "prompt")


class QuestionReaders(FileReports):
    """Builds the question nodes of one file (``read_<type>`` methods, called by the loader)."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.defaults = QuestionDefaults()

    def read_input(self, r: NodeReader, *, var_required: bool) -> InputSpec:
        d = self.defaults
        var = r.var("var") if var_required or "var" in r.raw else None
        skip = r.boolean("skip_if_known", False)
        if skip and var is None:
            self.error(r.line("skip_if_known"), r.name, "skip_if_known needs 'var' (the variable to look for)")
        if "known_prompt" in r.raw and not skip:
            self.error(r.line("known_prompt"), r.name, "known_prompt is only said with skip_if_known: true")
        retries = r.integer("retries", d.retries, 0, 10)
        fallback = self.read_speech_fallback(r, d.speech_fallback)
        if "speech_fallback" in r.raw and fallback.after > retries:
            r.fail(
                "speech_fallback",
                f"speech_fallback after {fallback.after} failed spoken answers, but retries is {retries}: the "
                f"question would never switch to keys (lower 'after' or raise 'retries')",
            )
        return InputSpec(
            var=var,
            fallback=r.target("fallback"),
            timeout=r.duration("timeout", d.timeout),
            chat_timeout=r.duration("chat_timeout", d.chat_timeout),
            retries=retries,
            no_input_prompts=r.prompts("no_input_prompt") or d.no_input_prompts,
            no_match_prompts=r.prompts("no_match_prompt") or d.no_match_prompts,
            speech=r.strings("speech"),
            min_confidence=r.number("min_confidence", d.min_confidence, 0.0, 1.0),
            skip_if_known=skip,
            known_prompts=r.prompts("known_prompt"),
            reprompts=self.read_reprompts(r, "reprompts", "no_match_prompt", retries),
            no_input_reprompts=self.read_reprompts(r, "no_input_prompts", "no_input_prompt", retries),
            speech_fallback=fallback,
        )

    def read_reprompts(self, r: NodeReader, key: str, single: str, retries: int) -> tuple[tuple[Prompt, ...], ...]:
        """A list of prompts for the 1st, 2nd, ... retry (each entry a prompt or a list of prompts)."""
        if key not in r.raw:
            return ()
        raw = r.raw[key]
        after = "a no-match" if key == "reprompts" else "silence"
        if not isinstance(raw, LineList) or not raw:
            r.fail(
                key,
                f"'{key}' must be a list: what to say instead of the question after the 1st {after}, "
                f'after the 2nd, ... (e.g. ["Sorry, I didn\'t get that. Press 1 for billing."])',
                ErrorCode.SHAPE,
            )
            return ()
        if single in r.raw:
            r.fail(
                key,
                f"'{key}' and '{single}' both say what follows {after}: keep '{key}' (one entry per retry, "
                f"said instead of the question) and drop '{single}'",
                ErrorCode.DUPLICATE,
            )
        if len(raw) > retries:
            r.fail(
                key,
                f"'{key}' has {len(raw)} entries but retries is {retries}: the last "
                f"{'one is' if len(raw) - retries == 1 else f'{len(raw) - retries} are'} never said",
            )
        entries: list[tuple[Prompt, ...]] = []
        for index, item in enumerate(raw):
            line = raw.line_of(index)
            items = list(enumerate(item)) if isinstance(item, LineList) else [(None, item)]
            prompts = []
            for sub, one in items:
                at = item.line_of(sub) if isinstance(item, LineList) and sub is not None else line
                prompt = r.prompt_item(one, at)
                if prompt is not None:
                    prompts.append(prompt)
            if not items:
                self.error(line, r.name, f"'{key}' entry {index + 1} is an empty list: say something")
            entries.append(tuple(prompts))
        return tuple(entries)

    def read_speech_fallback(self, r: NodeReader, default: SpeechFallback) -> SpeechFallback:
        """``speech_fallback``: ``keys`` (after 2 failed spoken answers), ``none``, or ``{after, prompt, to}``."""
        if "speech_fallback" not in r.raw:
            return default
        raw = r.raw["speech_fallback"]
        if isinstance(raw, str) and raw.strip().lower() in SPEECH_FALLBACK_WORDS:
            return SpeechFallback() if raw.strip().lower() == "keys" else SpeechFallback(after=0)
        if not isinstance(raw, LineDict):
            r.fail(
                "speech_fallback",
                f"speech_fallback must be 'keys', 'none' or a mapping like {{after: 2, prompt: \"Please use your "
                f'keypad. ..."}}, not {raw!r}{suggest(str(raw).lower(), SPEECH_FALLBACK_WORDS)}',
            )
            return default
        self.check_keys(raw, SPEECH_FALLBACK_KEYS, (), r.name, "speech_fallback")
        f = NodeReader(self, r.name, raw)
        to = f.text("to")
        if to is not None and to != "keys":
            f.fail("to", f"speech_fallback can only go 'to: keys', not {to!r}{suggest(to, ('keys',))}")
        return SpeechFallback(after=f.integer("after", SPEECH_FALLBACK_AFTER, 1, 10), prompts=f.prompts("prompt"))

    def read_gather(self, r: NodeReader, base: dict[str, Any]) -> Node:
        prompts = r.prompts("prompt", required=True)
        spec = self.read_input(r, var_required=True)
        min_digits = r.integer("min_digits", 1, 1, 64)
        max_digits = r.integer("max_digits", 20, 1, 64)
        if min_digits > max_digits:
            self.error(
                r.line("min_digits"), r.name, f"min_digits ({min_digits}) is more than max_digits ({max_digits})"
            )
        terminator = "#"
        if "terminator" in r.raw:
            value = r.raw["terminator"]
            if value is None:
                self.error(r.line("terminator"), r.name, "terminator is empty" + _YAML_COMMENT_HINT)
            elif (
                not isinstance(value, (str, int))
                or isinstance(value, bool)
                or (str(value) and str(value) not in DTMF_KEYS)
                or len(str(value)) > 1
            ):
                self.error(
                    r.line("terminator"), r.name, f"terminator {value!r} must be one key of {DTMF_KEYS} or '' for none"
                )
            else:
                terminator = str(value)
        digits = DigitsSpec(
            min_digits, max_digits, terminator, r.duration("inter_digit_timeout", self.defaults.inter_digit_timeout)
        )
        confirm = Confirm(r.choice("confirm", Confirm.NEVER.value, tuple(c.value for c in Confirm)))
        if "confirm_prompt" in r.raw and confirm is Confirm.NEVER:
            self.error(r.line("confirm_prompt"), r.name, "confirm_prompt is only said with confirm: speech or always")
        return GatherNode(
            **base,
            prompts=prompts,
            input=spec,
            digits=digits,
            next=r.target("next"),
            confirm=confirm,
            confirm_prompts=r.prompts("confirm_prompt"),
        )

    def read_menu(self, r: NodeReader, base: dict[str, Any]) -> Node:
        prompts = r.prompts("prompt", required=True)
        spec = self.read_input(r, var_required=False)
        confirm = Confirm(r.choice("confirm", Confirm.NEVER.value, (Confirm.NEVER.value, Confirm.SPEECH.value)))
        for key in ("confirm_below", "confirm_prompt"):
            if key in r.raw and confirm is Confirm.NEVER:
                self.error(r.line(key), r.name, f"{key} only applies with confirm: speech")
        return MenuNode(
            **base,
            prompts=prompts,
            input=spec,
            choices=self.read_choices(r),
            confirm=confirm,
            confirm_below=r.number("confirm_below", CONFIRM_BELOW, 0.0, 1.0),
            confirm_prompts=r.prompts("confirm_prompt"),
        )

    def read_callback(self, r: NodeReader, base: dict[str, Any]) -> Node:
        prompts = r.prompts("prompt", required=True)
        spec = self.read_input(r, var_required=False)
        booked = r.target("next")
        slots: list[tuple[str, str]] = []
        choices = self.read_choices(r, booked=booked, slots=slots)
        if "choices" in r.raw and choices and not slots:
            r.fail(
                "choices",
                "a callback node needs a choice with 'when' (asap or HH:MM) that books the callback",
                ErrorCode.SHAPE,
            )
        queue = r.template("queue") or Template.parse("")
        if "queue" in r.raw and not queue.source.strip():
            self.error(r.line("queue"), r.name, "queue name is empty")
        timezone = "UTC"
        if "timezone" in r.raw:
            try:
                timezone = parse_timezone(r.raw["timezone"], r.line("timezone"))
            except SpecError as exc:
                self.spec_error(exc, r.line("timezone"), r.name)
        return CallbackNode(
            **base,
            prompts=prompts,
            input=spec,
            choices=choices,
            queue=queue,
            next=booked,
            slots=tuple(slots),
            timezone=timezone,
            phone_var=r.var("phone_var"),
            priority=r.integer("priority", 0, -1000, 1000),
            skills=self.read_skills(r),
            attempts=r.integer("attempts", 3, 1, 10),
            retry_after=r.duration("retry_after", 600.0),
            expire_after=r.duration("expire_after", 86400.0),
            explicit=frozenset(k for k in ("attempts", "retry_after", "expire_after") if k in r.raw),
            queue_line=r.line("queue"),
        )

    def read_skills(self, r: NodeReader) -> tuple[str, ...]:
        skills = r.strings("skills")
        for skill in skills:
            if not SKILL_RE.fullmatch(skill):
                r.fail("skills", f"skill {skill!r} must be 'name' or 'name:level' (level 1-10), e.g. billing:3")
        return skills

    def read_choices(
        self, r: NodeReader, *, booked: str | None = None, slots: list[tuple[str, str]] | None = None
    ) -> tuple[Choice, ...]:
        """A menu's choices; for a callback node (``slots`` given) a choice with ``when`` books a callback and
        goes to ``booked``, and its (key, when) is added to ``slots``."""
        raw = r.raw.get("choices")
        if "choices" not in r.raw:
            return ()
        if not isinstance(raw, LineList) or not raw:
            self.error(r.line("choices"), r.name, "a menu needs a non-empty list of choices", ErrorCode.SHAPE)
            return ()
        choices: list[Choice] = []
        keys: dict[str, int] = {}
        words: dict[str, tuple[str, int]] = {}
        for index, item in enumerate(raw):
            line = raw.line_of(index)
            if not isinstance(item, LineDict):
                self.error(
                    line,
                    r.name,
                    "a choice is a mapping like {key: '1', label: Billing, next: billing}",
                    ErrorCode.SHAPE,
                )
                continue
            c = NodeReader(self, r.name, item)
            when: str | None = None
            if slots is None:
                self.check_keys(item, schema.CHOICE_PROPERTIES, schema.CHOICE_REQUIRED, r.name, "a choice")
            else:
                self.check_keys(
                    item,
                    schema.CALLBACK_CHOICE_PROPERTIES,
                    schema.CALLBACK_CHOICE_REQUIRED,
                    r.name,
                    "a callback choice",
                )
                when = c.text("when")
                if when is not None and not _WHEN_RE.match(when.strip()):
                    c.fail("when", f"when {when!r} must be 'asap' or a time of day 'HH:MM' (quote it in YAML)")
                    when = None
                if ("when" in item) == ("next" in item):
                    self.error(
                        line,
                        r.name,
                        "a callback choice takes either 'when' (book a callback) or 'next' (go on without one)",
                        ErrorCode.SHAPE,
                    )
            key = item.get("key")
            key_text = "" if key is None or isinstance(key, bool) else str(key)
            if "key" in item and (len(key_text) != 1 or key_text not in DTMF_KEYS):
                hint = _YAML_COMMENT_HINT if key is None else ""
                self.error(item.line_of("key"), r.name, f"choice key {key!r} must be one of {DTMF_KEYS}{hint}")
            elif key_text in keys:
                self.error(
                    item.line_of("key"),
                    r.name,
                    f"duplicate choice key '{key_text}' (also on line {keys[key_text]})",
                    ErrorCode.DUPLICATE,
                )
            keys.setdefault(key_text, item.line_of("key"))
            value = c.text("value") or key_text
            label = c.text("label") or value
            choice_words = tuple(w.strip().lower() for w in c.strings("words"))
            for word in choice_words + (label.lower(),):
                if word in words and words[word][0] != key_text:
                    self.error(
                        line,
                        r.name,
                        f"'{word}' would pick both choice '{words[word][0]}' (line "
                        f"{words[word][1]}) and choice '{key_text}'",
                        ErrorCode.DUPLICATE,
                    )
                words.setdefault(word, (key_text, line))
            only = c.text("only")
            if only is not None and only not in (Channel.VOICE, Channel.CHAT):
                self.error(item.line_of("only"), r.name, f"only {only!r} must be voice or chat")
                only = None
            if when is not None and slots is not None:
                slots.append((key_text, when.strip()))
            target = (booked or "") if when is not None else c.target("next")
            choices.append(Choice(key_text, label, value, choice_words, target, line, Channel(only) if only else None))
        return tuple(choices)
