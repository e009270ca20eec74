"""Loading and validating flow files: every error names file:line: node."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from ivr.errors import ErrorCode, FlowError, FlowErrors
from ivr.loader import load_dir, load_flow, parse_flow
from ivr.model import BranchNode, Channel, GatherNode, HoursNode, MenuNode, NodeKind, PlayNode, SayNode
from ivr.reader import parse_duration
from ivr.template import Template

SHIPPED = Path(__file__).parents[2] / "ivr" / "flows"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(FlowErrors) as info:
        load_flow(path)
    return [str(e) for e in info.value.errors]


BROKEN = """\
    start: hello
    defaults:
      timeout: 5 sec
    nodes:
      hello:
        type: say
        prompt: "Hi {{ name | defualt('x') }}"
        next: menu
      menu:
        type: menu
        prompt: "Pick"
        choices:
          - {key: 1, next: billing}
          - {key: 1, next: hello}
          - key: "12"
            next: hello
        fallback: nowhere
        retires: 3
      billing:
        type: queue
        queue: billing
      orphan:
        type: say
        next: hello
      check:
        type: branch
        cases:
          - when: {var: account, matches: "[0-9"}
            next: hello
        else: hello
      hours:
        type: hours
        timezone: Mars/Olympus
        schedule: {mon-fri: "09:00-17:00"}
        open: hello
        closed: hello
      hook:
        type: webhook
        url: ftp://example.com/x
        next: hello
        on_error: hello
      ask:
        type: gather
        prompt: x
        var: acct
        terminator: #
        next: hello
        fallback: hello
        timeout: 0s
      typo:
        type: meun
    """


def test_every_error_of_a_file_with_its_line_and_node(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    f = str(path)
    assert errors_of(path) == [
        f"{f}:3: 'timeout': bad duration '5 sec': use a positive number of seconds or '500ms', '5s', '2m', '1h'",
        (
            f"{f}:7: node 'hello': unknown filter 'defualt' in '{{{{ name | defualt('x') }}}}' at column 4 "
            f"(did you mean 'default'?)"
        ),
        f"{f}:14: node 'menu': duplicate choice key '1' (also on line 13)",
        f"{f}:15: node 'menu': choice key '12' must be one of 0123456789*#",
        f"{f}:17: node 'menu': 'fallback' goes to unknown node 'nowhere'",
        f"{f}:18: node 'menu': unknown key 'retires' in a menu node (did you mean 'retries'?)",
        (
            f"{f}:22: node 'orphan': unreachable: no transition from 'hello' leads here (remove it, or mark it "
            f"'entry: true' if other flows jump to it)"
        ),
        f"{f}:23: node 'orphan': missing 'prompt' in a say node",
        (
            f"{f}:25: node 'check': unreachable: no transition from 'hello' leads here (remove it, or mark it "
            f"'entry: true' if other flows jump to it)"
        ),
        f"{f}:28: node 'check': bad regular expression '[0-9': unterminated character set at position 0",
        (
            f"{f}:33: node 'hours': unknown timezone 'Mars/Olympus' (use an IANA name such as Europe/Paris or "
            f"America/New_York)"
        ),
        (
            f"{f}:37: node 'hook': unreachable: no transition from 'hello' leads here (remove it, or mark it "
            f"'entry: true' if other flows jump to it)"
        ),
        f"{f}:39: node 'hook': webhook url 'ftp://example.com/x' must be an http:// or https:// URL",
        (
            f"{f}:42: node 'ask': unreachable: no transition from 'hello' leads here (remove it, or mark it "
            f"'entry: true' if other flows jump to it)"
        ),
        f"{f}:46: node 'ask': terminator is empty (in YAML an unquoted # starts a comment: write '#')",
        (
            f"{f}:49: node 'ask': 'timeout': bad duration '0s': use a positive number of seconds or '500ms', '5s', "
            f"'2m', '1h'"
        ),
        f"{f}:51: node 'typo': unknown node type 'meun' (did you mean 'menu'?)",
    ]


def test_error_codes_and_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    with pytest.raises(FlowErrors) as info:
        load_flow(path)
    first = info.value.errors[0]
    assert first == FlowError(str(path), 3, None, first.message, ErrorCode.BAD_DURATION)
    codes = [e.code for e in info.value.errors]
    assert codes == [
        ErrorCode.BAD_DURATION,
        ErrorCode.BAD_TEMPLATE,
        ErrorCode.DUPLICATE,
        ErrorCode.BAD_VALUE,
        ErrorCode.UNKNOWN_TARGET,
        ErrorCode.UNKNOWN_KEY,
        ErrorCode.UNREACHABLE,
        ErrorCode.MISSING_KEY,
        ErrorCode.UNREACHABLE,
        ErrorCode.BAD_CONDITION,
        ErrorCode.BAD_HOURS,
        ErrorCode.UNREACHABLE,
        ErrorCode.BAD_URL,
        ErrorCode.UNREACHABLE,
        ErrorCode.BAD_VALUE,
        ErrorCode.BAD_DURATION,
        ErrorCode.UNKNOWN_KIND,
    ]
    assert str(info.value).splitlines()[0] == str(first)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML syntax: the line of the mistake, which for an unclosed bracket or quote is where it opened
        (
            "start: a\nnodes:\n  a: {type: say, prompt: [x, next: b}\n",
            "3: YAML syntax error: the '[' on line 3 is not closed where it should be (expected ',' or ']', but got '}')",
        ),
        (  # PyYAML blames line 6, where the quote opened on line 4 finally closes
            'start: a\nnodes:\n  a:\n    type: say\n    prompt: "Hello\n    next: b\n  b: {type: hangup, prompt: "Bye."}\n',
            "5: YAML syntax error: the quoted text that starts on line 5 is not closed on that line: it runs on to "
            "line 7, where the parser gave up (expected <block end>, but found '<scalar>')",
        ),
        (
            "start: a\nnodes:\n  a:\n    type: say\n    prompt: 'Hello\n    next: b\n",
            "5: YAML syntax error: the quoted text that starts on line 5 is never closed (no matching quote before the "
            "end of the file)",
        ),
        (
            "start: a\nnodes:\n  a:\n    type: say\n   prompt: hi\n",
            "5: YAML syntax error: line 5 is not indented like the lines above it (the block that starts on line 3); "
            "indent with spaces, the same number for keys of the same level",
        ),
        ("start: a\nnodes:\n\ta: {type: hangup}\n", "3: YAML syntax error: a tab character: indent with spaces"),
        (  # a control character pasted into a prompt: refused before parsing, with its line and column
            'start: a\nnodes:\n  a: {type: say, prompt: "Hi\u0091", next: b}\n  b: {type: hangup}\n',
            "3: YAML syntax error: character U+0091 in column 29 is not allowed in YAML (a control or unprintable "
            "character): remove it (it often comes with text pasted from another program)",
        ),
        (  # the same in a file whose lines end with CR alone: its line and column as PyYAML counts them
            'start: a\rnodes:\r  a: {type: say, prompt: "Hi\u0091", next: b}\r  b: {type: hangup}\r',
            "3: YAML syntax error: character U+0091 in column 29 is not allowed in YAML (a control or unprintable "
            "character): remove it (it often comes with text pasted from another program)",
        ),
        # an unknown node type with nothing close lists the valid ones
        (
            "start: a\nnodes:\n  a: {type: banana}\n",
            "3: node 'a': unknown node type 'banana' (one of say, play, gather, menu, set, branch, hours, webhook, queue, "
            "goto, return, hangup, callback, queue_status)",
        ),
        # not a mapping at all
        ("- just\n- a list\n", "1: a flow file is a mapping with 'start' and 'nodes'"),
        # the start names nothing
        ("start: hi\nnodes:\n  hello: {type: hangup}\n", "1: start names unknown node 'hi'"),
        # a misspelled target is suggested, and its intended node is not also reported unreachable
        (
            "start: a\nnodes:\n  a:\n    type: say\n    prompt: hi\n    next: goodbey\n  goodbye: {type: hangup}\n",
            "6: node 'a': 'next' goes to unknown node 'goodbey' (did you mean 'goodbye'?)",
        ),
        # a skill with an impossible level
        (
            'start: q\nnodes:\n  q: {type: queue, queue: x, skills: [billing, "spanish:11"]}\n',
            "3: node 'q': skill 'spanish:11' must be 'name' or 'name:level' (level 1-10), e.g. billing:3",
        ),
        # a speech engine nobody has heard of
        (
            "start: a\ndefaults:\n  speech_engine: pocketsfinx\nnodes:\n  a: {type: hangup}\n",
            "3: speech_engine must be one of vosk, pocketsphinx, none, not 'pocketsfinx' (did you mean 'pocketsphinx'?)",
        ),
        # a strictness that does not exist
        (
            "start: a\ndefaults:\n  speech_strictness: stricter\nnodes:\n  a: {type: hangup}\n",
            "3: speech_strictness must be one of normal, strict, not 'stricter' (did you mean 'strict'?)",
        ),
        # duplicate node names, which YAML alone would silently merge
        (
            "start: a\nnodes:\n  a: {type: hangup}\n  a: {type: hangup}\n",
            "4: duplicate key 'a' (first on line 3; YAML would silently keep the last one)",
        ),
        # missing type
        (
            "start: a\nnodes:\n  a: {prompt: hi}\n",
            (
                "3: node 'a': missing 'type' (one of say, play, gather, menu, set, branch, hours, webhook, queue, goto, return, "
                "hangup, callback, queue_status)"
            ),
        ),
        # a menu without choices, and with an empty prompt
        (
            "start: m\nnodes:\n  m:\n    type: menu\n    prompt:\n    fallback: m\n",
            ("4: node 'm': missing 'choices' in a menu node\n5: node 'm': 'prompt' is empty: say something"),
        ),
        # a word that would pick two choices
        (
            (
                "start: m\nnodes:\n  m:\n    type: menu\n    prompt: p\n    fallback: m\n    choices:\n"
                "      - {key: 1, words: [help], next: m}\n      - {key: 2, words: [help], next: m}\n"
            ),
            "9: node 'm': 'help' would pick both choice '1' (line 8) and choice '2'",
        ),
        # bad time range in a schedule: the line of the day
        (
            (
                'start: h\nnodes:\n  h:\n    type: hours\n    timezone: UTC\n    schedule:\n      mon: "09:00-17:00"\n'
                '      tue: "17:00-09:00"\n    open: x\n    closed: x\n  x: {type: hangup}\n'
            ),
            "8: node 'h': range '17:00-09:00' ends before it starts (split overnight hours across two days)",
        ),
        (
            (
                'start: h\nnodes:\n  h:\n    type: hours\n    timezone: UTC\n    schedule: {mon-fry: "09:00-17:00"}\n'
                '    holidays: ["2026-02-30"]\n    open: x\n    closed: x\n  x: {type: hangup}\n'
            ),
            (
                "6: node 'h': bad days 'mon-fry': use mon, tue, wed, thu, fri, sat, sun, a range like mon-fri, or a list like "
                "sat,sun"
            ),
        ),
        (
            (
                'start: h\nnodes:\n  h:\n    type: hours\n    timezone: UTC\n    schedule: {mon-fri: "09:00-17:00"}\n'
                '    holidays:\n      - "12-25"\n      - "2026-02-30"\n    open: x\n    closed: x\n  x: {type: hangup}\n'
            ),
            "9: node 'h': bad holiday '2026-02-30': use YYYY-MM-DD, or MM-DD for every year",
        ),
        # conditions: the line of the faulty part, even nested
        (
            (
                "start: b\nnodes:\n  b:\n    type: branch\n    cases:\n      - when:\n          any:\n"
                "            - {var: a, equals: x}\n            - {var: b, gt: lots}\n        next: x\n    else: x\n"
                "  x: {type: hangup}\n"
            ),
            "9: node 'b': 'gt' takes a number",
        ),
        (
            (
                "start: b\nnodes:\n  b:\n    type: branch\n    cases:\n      - when: {var: a, equals: x, in: [y]}\n"
                "        next: x\n    else: x\n  x: {type: hangup}\n"
            ),
            (
                "6: node 'b': a condition tests one thing; found 2 of equals, not_equals, in, not_in, matches, exists, gt, "
                "gte, lt, lte"
            ),
        ),
        # template syntax
        (
            'start: a\nnodes:\n  a:\n    type: say\n    prompt: "Hi {{ name"\n    next: a\n',
            "5: node 'a': unclosed '{{' at column 4 in template 'Hi {{ name'",
        ),
        (
            'start: a\nnodes:\n  a:\n    type: set\n    vars:\n      ok: "{{ Name }}"\n      Bad: 1\n    next: a\n',
            (
                "6: node 'a': expected a variable name (lower_case letters, digits, _ or .) in '{{ Name }}' at column 1\n"
                "7: node 'a': bad variable name 'Bad' (use lower_case letters, digits, _ or .)"
            ),
        ),
        # gather limits and skip_if_known without var
        (
            (
                "start: g\nnodes:\n  g:\n    type: gather\n    prompt: p\n    var: x\n    min_digits: 9\n    max_digits: 4\n"
                "    next: g\n    fallback: g\n"
            ),
            "7: node 'g': min_digits (9) is more than max_digits (4)",
        ),
        (
            (
                "start: m\nnodes:\n  m:\n    type: menu\n    prompt: p\n    skip_if_known: true\n    fallback: m\n"
                "    choices: [{key: 1, next: m}]\n"
            ),
            "6: node 'm': skip_if_known needs 'var' (the variable to look for)",
        ),
        # audio
        (
            "start: p\nnodes:\n  p: {type: play, file: missing.wav, next: p}\n",
            "3: node 'p': audio file not found: missing.wav (looked for {dir}/missing.wav)",
        ),
        (
            "start: p\nnodes:\n  p: {type: play, file: ../outside.wav, next: p}\n",
            "3: node 'p': audio file '../outside.wav' must be inside the flow's directory",
        ),
        (
            "start: p\nnodes:\n  p:\n    type: say\n    prompt: [{play: x.flac}]\n    next: p\n",
            "5: node 'p': audio file 'x.flac' must be a .wav, .mp3 or .ogg file",
        ),
        # a node name in another script: Hebrew letters are letters, but not the Latin ones a node name takes
        (
            "start: a\nnodes:\n  a: {type: goto, flow: x}\n  תפריט: {type: hangup}\n",
            "4: node 'תפריט': node names use Latin letters (A-Z, a-z), digits, _ and -, and start with a "
            "Latin letter or _",
        ),
        # goto syntax
        (
            "start: g\nnodes:\n  g: {type: goto, flow: 'a#b#c'}\n",
            "3: node 'g': flow 'a#b#c' must be 'name' or 'name#node'",
        ),
    ],
)
def test_broken_flow(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "f.yaml", text)
    wanted = [f"{path}:{line}" for line in expected.replace("{dir}", str(tmp_path)).splitlines()]
    assert errors_of(path) == wanted


def test_entry_nodes_are_reachable_roots(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "f.yaml",
        """\
        start: a
        nodes:
          a: {type: hangup}
          b: {type: say, entry: true, prompt: hi, next: c}
          c: {type: hangup}
        """,
    )
    assert load_flow(path).entries == ("a", "b")


def test_yaml_scalars_are_read_like_yaml_1_2(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "f.yaml",
        """\
        start: a
        nodes:
          a:
            type: set
            vars: {answer: no, time: 10:00, day: 2026-12-25, octal: 010, flag: true}
            next: b
          b: {type: hangup}
        """,
    )
    node = load_flow(path).nodes["a"]
    assert [(name, t.source) for name, t in node.values] == [  # type: ignore[attr-defined]
        ("answer", "no"),
        ("time", "10:00"),
        ("day", "2026-12-25"),
        ("octal", "10"),
        ("flag", "true"),
    ]


def test_a_valid_flow_builds_the_model(tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "beep.wav").write_bytes(b"RIFF")
    path = write(
        tmp_path,
        "support.yaml",
        """\
        description: test
        start: hi
        defaults: {voice: en-gb, timeout: 500ms, retries: 1, no_match_prompt: "Pardon?"}
        nodes:
          hi:
            type: say
            prompt: ["Hello {{ name | default('you') }}", {play: sounds/beep.wav, barge_in: false}]
            next: ask
          ask:
            type: gather
            prompt: {say: "Your number?", chat: "Type your number"}
            var: account
            min_digits: 4
            max_digits: 8
            terminator: ""
            inter_digit_timeout: 2
            timeout: 1m
            next: menu
            fallback: menu
          menu:
            type: menu
            prompt: p
            var: intent
            choices:
              - {key: "*", label: Star, words: [Star Key], next: beep}
              - {key: 0, only: chat, next: route}
            fallback: beep
          beep: {type: play, file: sounds/beep.wav, chat: "(beep)", next: route}
          route:
            type: branch
            cases: [{when: {var: intent, exists: true}, next: hours}]
            else: hours
          hours:
            type: hours
            timezone: Europe/Paris
            schedule: {mon-fri: "09:00-12:00, 14:00-18:00", "sat,sun": "10:00-24:00"}
            open: bye
            closed: bye
          bye: {type: hangup}
        """,
    )
    flow = load_flow(path)
    assert (flow.name, flow.start, len(flow.version), flow.description) == ("support", "hi", 12, "test")
    assert flow.defaults.voice == "en-gb"
    hi = flow.nodes["hi"]
    assert isinstance(hi, SayNode)
    assert [(p.say.source if p.say else None, p.play, p.barge_in) for p in hi.prompts] == [
        ("Hello {{ name | default('you') }}", None, True),
        (None, str(tmp_path / "sounds" / "beep.wav"), False),
    ]
    ask = flow.nodes["ask"]
    assert isinstance(ask, GatherNode)
    assert (
        ask.digits.min_digits,
        ask.digits.max_digits,
        ask.digits.terminator,
        ask.digits.inter_digit_timeout,
        ask.input.timeout,
        ask.input.retries,
        ask.input.var,
    ) == (4, 8, "", 2.0, 60.0, 1, "account")
    assert [p.say for p in ask.input.no_match_prompts] == [Template.parse("Pardon?")]
    menu = flow.nodes["menu"]
    assert isinstance(menu, MenuNode)
    assert [(c.key, c.label, c.value, c.words, c.only) for c in menu.choices] == [
        ("*", "Star", "*", ("star key",), None),
        ("0", "0", "0", (), Channel.CHAT),
    ]
    assert menu.input.timeout == 0.5
    assert isinstance(flow.nodes["beep"], PlayNode)
    assert isinstance(flow.nodes["route"], BranchNode)
    hours = flow.nodes["hours"]
    assert isinstance(hours, HoursNode)
    assert hours.schedule.week[0] == ((540, 720), (840, 1080))
    assert hours.schedule.week[6] == ((600, 1440),)
    assert [n.kind for n in flow.nodes.values()] == [
        NodeKind.SAY,
        NodeKind.GATHER,
        NodeKind.MENU,
        NodeKind.PLAY,
        NodeKind.BRANCH,
        NodeKind.HOURS,
        NodeKind.HANGUP,
    ]


def test_version_is_a_hash_of_the_content(tmp_path: Path) -> None:
    text = "start: a\nnodes:\n  a: {type: hangup}\n"
    one = parse_flow(text, tmp_path / "a.yaml")
    assert parse_flow(text, tmp_path / "a.yaml").version == one.version
    assert parse_flow(text + "# changed\n", tmp_path / "a.yaml").version != one.version


@pytest.mark.parametrize(
    ("value", "seconds"), [(5, 5.0), (2.5, 2.5), ("5s", 5.0), ("500ms", 0.5), ("2m", 120.0), ("1.5 s", 1.5), ("3", 3.0)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["5 sec", "0s", -1, 0, True, "", "1d", None, [5], "inf"])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(value)


def test_load_dir_checks_goto_between_flows(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.yaml",
        """\
        start: a
        nodes:
          a: {type: goto, flow: "sub#mid", next: b}
          b: {type: goto, flow: sbu}
        """,
    )
    write(
        tmp_path,
        "sub.yaml",
        """\
        start: s
        nodes:
          s: {type: say, prompt: hi, next: mid}
          mid: {type: say, prompt: there, next: r}
          r: {type: return}
        """,
    )
    write(
        tmp_path,
        "other.yaml",
        """\
        start: o
        nodes:
          o: {type: goto, flow: main}
        """,
    )
    flows, errors = load_dir(tmp_path)
    main = tmp_path / "main.yaml"
    assert [str(e) for e in errors] == [
        (
            f"{main}:3: node 'a': node 'mid' of flow 'sub' is not an entry: mark it 'entry: true' there, or go to the "
            f"flow's start"
        ),
        f"{main}:4: node 'b': goes to unknown flow 'sbu' (did you mean 'sub'?)",
        f"{tmp_path / 'other.yaml'}:3: node 'o': flow 'main' has errors and is not loaded",
    ]
    assert sorted(flows) == ["sub"]


def test_load_dir_goto_to_an_entry_node(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.yaml",
        """\
        start: a
        nodes:
          a: {type: goto, flow: "sub#inner", next: b}
          b: {type: hangup}
        """,
    )
    write(
        tmp_path,
        "sub.yaml",
        """\
        start: s
        nodes:
          s: {type: say, prompt: hi, next: r}
          r: {type: return}
          inner: {type: say, prompt: hi, next: r, entry: true}
          missing: {type: goto, flow: "main#nowhere", entry: true}
        """,
    )
    flows, errors = load_dir(tmp_path)
    assert [str(e) for e in errors] == [
        f"{tmp_path / 'main.yaml'}:3: node 'a': flow 'sub' has errors and is not loaded",
        f"{tmp_path / 'sub.yaml'}:6: node 'missing': goes to unknown node 'nowhere' of flow 'main'",
    ]
    assert flows == {}
    write(
        tmp_path,
        "sub.yaml",
        """\
        start: s
        nodes:
          s: {type: say, prompt: hi, next: r}
          r: {type: return}
          inner: {type: say, prompt: hi, next: r, entry: true}
        """,
    )
    flows, errors = load_dir(tmp_path)
    assert (sorted(flows), errors) == (["main", "sub"], [])


def test_shipped_flows_load_without_errors() -> None:
    flows, errors = load_dir(SHIPPED)
    assert errors == []
    assert sorted(flows) == ["after_hours", "default"]
    kinds = {node.kind for flow in flows.values() for node in flow.nodes.values()}
    assert kinds == set(NodeKind)
