"""The simulator and `flows validate / simulate / schema`, driven by lists of lines."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from ivr import cli
from ivr.events import Digits, Disconnected, NoInput, Speech, Text, WebhookResult
from ivr.hours import parse_schedule
from ivr.loader import load_dir
from ivr.model import Channel
from ivr.simulator import InputError, parse_line, simulate

SHIPPED = Path(__file__).parents[2] / "ivr" / "flows"
WEDNESDAY_10AM_NY = datetime.fromisoformat("2026-03-04T10:00-05:00")
MENU_PROMPT = (
    "IVR says: For billing, press 1 or say billing. For technical support, press 2 or say support. "
    "For sales, press 3 or say sales. To hear this again, press 9."
)
MENU_LISTEN = (
    "   (listening: keys 1 2 3 9 or words like billing, bill, invoice, payment, refund, support, technical, help)"
)


def run(lines: list[str], now: datetime = WEDNESDAY_10AM_NY, **kwargs: object) -> tuple[str, str | None]:
    flows, errors = load_dir(SHIPPED)
    assert errors == []
    out = io.StringIO()
    done = simulate(flows["default"], lines, out, flows=flows, now=now, **kwargs)  # type: ignore[arg-type]
    return out.getvalue(), done.reason if done else None


@pytest.mark.parametrize("when", ["2026-03-08T03:00-05:00", "2026-12-25T23:30-05:00", "2026-07-04T12:00-04:00"])
def test_the_demo_line_answers_whenever_someone_tries_it(when: str) -> None:
    """It said "we're closed" outside New York office hours: a newcomer trying the demo at night heard nothing else."""
    transcript, _ = run(["/quit"], now=datetime.fromisoformat(when))
    assert "   . hours: open" in transcript and "closed" not in transcript.lower()


def test_voice_session_through_the_default_flow() -> None:
    transcript, reason = run(
        [
            "",
            "7",
            "/timeout",
            "/speech 0.9 I need help with my internet",
            "4711#",
            '/webhook 200 {"vars": {"tier": "gold", "name": "Ann"}}',
            "never read",
        ]
    )
    version = load_dir(SHIPPED)[0]["default"].version
    assert reason == "queued"
    assert transcript.splitlines() == [
        f"flow default (version {version}) on voice; /help for commands",
        "-- default#greeting (say)",
        "IVR says: Hello there, thank you for contacting Acme.",
        "-- default#check_hours (hours)",
        "   . hours: open (Wed 2026-03-04 10:00 America/New_York) -> chime",
        "-- default#chime (play)",
        "IVR plays: chime.wav",
        "-- default#main_menu (menu)",
        MENU_PROMPT,
        MENU_LISTEN,
        "> 7",
        "   . input: digits 7",
        "   . no_match: no choice matches (attempt 1 of 3)",
        "IVR says: Sorry, I didn't get that. You can say billing, support or sales, or press 1, 2 or 3.",
        MENU_LISTEN,
        "> /timeout",
        "   . no_input: no input (attempt 2 of 3)",
        "IVR says: Sorry, I didn't hear anything. You can say billing, support or sales, or press 1, 2 or 3.",
        MENU_LISTEN,
        "> /speech 0.9 I need help with my internet",
        "   . input: speech 'I need help with my internet' (0.90)",
        "   . choice: 2 (Technical support) -> ask_account",
        "   . set: intent=support",
        "-- default#ask_account (gather)",
        "IVR says: Please say your account number, or enter it followed by the hash key.",
        "   (listening: 4 to 8 digits, end with #; timeout 8s)",
        "> 4711#",
        "   . input: digits 4711#",
        "   . set: account=4711",
        "-- default#lookup (webhook)",
        "   . webhook: POST https://crm.example.com/ivr/lookup",
        (
            '   (webhook POST https://crm.example.com/ivr/lookup, timeout 3s, vars {"intent": "support", '
            '"account": "4711"}: answer with /webhook 200 {...} or /webhook timeout)'
        ),
        '> /webhook 200 {"vars": {"tier": "gold", "name": "Ann"}}',
        "   . webhook: ok: status 200 -> route",
        "   . set: tier=gold",
        "   . set: name=Ann",
        "-- default#route (branch)",
        "   . branch: tier in [gold, platinum] -> priority_support_queue",
        "-- default#priority_support_queue (queue)",
        "IVR says: Thank you for being a gold customer. Connecting you to our support team.",
        "   . queue: support",
        "   (queued to 'support', priority 10)",
        "== done: queued",
    ]


def test_chat_session_with_commands() -> None:
    transcript, reason = run(
        ["/help", "/bogus", "/vars", "/speech x y", "Sales", "/quit"], channel="chat", context={"name": "Ann"}
    )
    assert reason == "queued"
    assert transcript.splitlines()[1:] == [
        "-- default#greeting (say)",
        "BOT: Hello Ann, thank you for contacting Acme.",
        "-- default#check_hours (hours)",
        "   . hours: open (Wed 2026-03-04 10:00 America/New_York) -> chime",
        "-- default#chime (play)",
        "-- default#main_menu (menu)",
        "BOT: What can I help you with today?",
        "   buttons: [Billing] [Technical support] [Sales]",
        "> /help",
        "keys: 1  #123#  4711#       words: billing please       /speech 0.4 billing",
        '/timeout   /webhook 200 {"vars": {...}, "next": "node"}   /webhook 500   /webhook timeout',
        "/queue 0 4 300   (agents available, waiting, expected wait in seconds or ?)",
        "/hangup   /vars   /help   /quit",
        "> /bogus",
        "   ! unknown command /bogus (try /help)",
        "> /vars",
        '   {"name": "Ann"}',
        "> /speech x y",
        "   ! usage: /speech 0.4 some words",
        "> Sales",
        "   . input: text 'Sales'",
        "   . choice: 3 (Sales) -> sales_queue",
        "   . set: intent=sales",
        "-- default#sales_queue (queue)",
        "BOT: Connecting you to our sales team.",
        "   . queue: sales",
        "   (queued to 'sales', priority 0)",
        "== done: queued",
    ]


def test_input_ending_early_is_reported() -> None:
    transcript, reason = run(["1", "12", "/quit", "3#"])
    assert reason is None
    assert transcript.splitlines()[-4:] == [
        "   (listening: 4 to 8 digits, end with #; timeout 8s)",
        "> 12",
        "> /quit",
        "== input ended while waiting for input at default#ask_account",
    ]


@pytest.mark.parametrize(
    ("line", "channel", "event"),
    [
        ("  ", Channel.VOICE, None),
        ("#123#", Channel.VOICE, Digits("#123#")),
        ("#123#", Channel.CHAT, Text("#123#")),
        ("billing please", Channel.VOICE, Speech("billing please", 1.0)),
        ("billing please", Channel.CHAT, Text("billing please")),
        ("/speech 0.25 sales", Channel.VOICE, Speech("sales", 0.25)),
        ("/timeout", Channel.VOICE, NoInput()),
        ("/hangup", Channel.CHAT, Disconnected()),
        ("/webhook 200", Channel.VOICE, WebhookResult(200)),
        ('/webhook 201 {"next": "x"}', Channel.VOICE, WebhookResult(201, {"next": "x"})),
        ("/webhook 200 {oops", Channel.VOICE, WebhookResult(200, error="invalid JSON")),
        ("/webhook timeout", Channel.VOICE, WebhookResult(error="timeout")),
        ("/webhook error connection refused", Channel.VOICE, WebhookResult(error="connection refused")),
        ("/quit", Channel.VOICE, "quit"),
    ],
)
def test_parse_line(line: str, channel: Channel, event: object) -> None:
    assert parse_line(line, channel) == event


def test_parse_line_errors() -> None:
    with pytest.raises(InputError, match="usage: /webhook"):
        parse_line("/webhook soon", Channel.VOICE)


# -- cli -------------------------------------------------------------------------------------------------------


def test_validate_the_shipped_flows(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(SHIPPED)]) == 0
    assert capsys.readouterr().out == "2 flow(s) ok\n"


def test_validate_reports_errors_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("start: a\nnodes:\n  a: {type: goto, flow: bad}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("start: a\nnodes:\n  a: {type: say, prompt: hi, next: b}\n  b: {type: hangup, reasn: x}\n")
    assert cli.main(["validate", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{bad}:4: node 'b': unknown key 'reasn' in a hangup node (did you mean 'reason'?)",
        f"{good}:3: node 'a': flow 'bad' has errors and is not loaded",
    ]
    assert captured.err == "0 flow(s) ok; 2 error(s) in 2 file(s)\n"
    # one file: its own errors only
    assert cli.main(["validate", str(good)]) == 2
    assert capsys.readouterr().out.splitlines() == [f"{good}:3: node 'a': flow 'bad' has errors and is not loaded"]
    assert cli.main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert capsys.readouterr().out == f"{tmp_path / 'missing.yaml'}: no such file or directory\n"


def test_simulate_from_piped_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("3\n"))
    status = cli.main(
        ["simulate", "default", "--channel", "chat", "--var", "name=Bo", "--now", "2026-03-04T10:00-05:00"]
    )
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[2] == "BOT: Hello Bo, thank you for contacting Acme."
    assert out[-4:] == [
        "BOT: Connecting you to our sales team.",
        "   . queue: sales",
        "   (queued to 'sales', priority 0)",
        "== done: queued",
    ]


def test_simulate_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["simulate", "nope"]) == 2
    assert capsys.readouterr().err == f"{SHIPPED / 'nope.yaml'}: no such flow file\n"
    assert cli.main(["simulate", "default", "--var", "novalue"]) == 2
    assert capsys.readouterr().err == "--var 'novalue': use NAME=VALUE\n"
    assert cli.main(["simulate", "default", "--now", "tuesday"]) == 2
    assert "use ISO 8601" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("start: a\nnodes:\n  a: {type: sya}\n")
    assert cli.main(["simulate", str(broken)]) == 2
    assert capsys.readouterr().err == f"{broken}:3: node 'a': unknown node type 'sya' (did you mean 'say'?)\n"
    assert cli.main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_schema_command_prints_the_published_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((SHIPPED.parent / "flow.schema.json").read_text())


def test_a_queues_hours_are_read_from_what_it_is_given_and_said_unknown_without(tmp_path: Path) -> None:
    """`flows simulate` took every queue as open, saying it "has no opening hours", where a call took the closed
    branch (a newcomer's finding): it is given the store's hours (``--data-dir``) or says it does not know them."""
    (tmp_path / "sales.yaml").write_text(
        "start: when\nnodes:\n  when:\n    type: hours\n    queue: sales\n    open: opened\n    closed: shut\n"
        '  opened:\n    type: hangup\n    prompt: "We are open."\n'
        '  shut:\n    type: hangup\n    prompt: "We are closed."\n'
    )
    flows, errors = load_dir(tmp_path)
    assert errors == []
    weekends = parse_schedule("UTC", {"sat-sun": "09:00-17:00"}, None, lines={})
    out = io.StringIO()
    simulate(flows["sales"], [], out, flows=flows, now=WEDNESDAY_10AM_NY, queue_hours={"sales": weekends})
    assert "hours: closed" in out.getvalue() and "We are closed." in out.getvalue()
    out = io.StringIO()
    simulate(flows["sales"], [], out, flows=flows, now=WEDNESDAY_10AM_NY)
    assert "queue sales's opening hours are not known here: taken as open" in out.getvalue()
    assert "We are open." in out.getvalue()
