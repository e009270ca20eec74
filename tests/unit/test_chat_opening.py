"""A chat's first message may answer the flow's first menu (gateway/flows/chat_bot.py, ivr/matching.py)."""

from __future__ import annotations

from pathlib import Path

from gateway.flows.chat_bot import asks_first
from ivr.actions import ListenChoice
from ivr.loader import parse_flow
from ivr.matching import opening_pick

CHOICES = (
    ListenChoice("1", "Billing", ("bill", "invoice", "payment")),
    ListenChoice("2", "Support", ("help", "broken")),
)


def test_an_opening_message_names_one_choice_or_none() -> None:
    assert opening_pick(CHOICES, "Hello, I have a question about my invoice") == "1"
    assert opening_pick(CHOICES, "my SUPPORT ticket") == "2"
    assert opening_pick(CHOICES, "hi") is None
    assert opening_pick(CHOICES, "1") is None  # a bare key answers no question yet
    assert opening_pick(CHOICES, "two") is None
    assert opening_pick(CHOICES, "my invoice is broken") is None  # two choices' words: the menu is asked


def test_only_a_flow_that_asks_before_it_queues_or_ends_may_hold_its_first_messages(tmp_path: Path) -> None:
    asking = parse_flow(
        "start: hi\nnodes:\n  hi: {type: say, prompt: Hello, next: menu}\n"
        "  menu: {type: menu, prompt: 'What about?', choices: [{key: 1, label: Billing, next: q}], fallback: q}\n"
        "  q: {type: queue, queue: billing}\n",
        tmp_path / "asking.yaml",
    )
    queueing = parse_flow(
        "start: hi\nnodes:\n  hi: {type: say, prompt: Hello, next: q}\n  q: {type: queue, queue: billing}\n",
        tmp_path / "queueing.yaml",
    )
    assert asks_first(asking) is True
    assert asks_first(queueing) is False
