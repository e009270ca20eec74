"""The metrics' label rules (gateway/metrics.py): names pass, ids and the long tail become ``other``."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from gateway.metrics import OTHER, Bounded, Metrics, looks_like_id


@pytest.mark.parametrize(
    "value",
    [
        "c_3f9a0b1c2d3e4f50",
        "cb_0123456789abcdef",
        "u_deadbeef01234567",
        "a_0123456789abcdef01234567",
        "s_Xk3vQ9mZ2pL7rT5wY8nB4cD6",
    ],
)
def test_generated_ids_look_like_ids_and_are_never_a_label(value: str) -> None:
    assert looks_like_id(value)
    assert Bounded()(value) == OTHER


@pytest.mark.parametrize(
    "value", ["billing", "caller_hangup", "no_answer", "http_5xx", "queue-7", "node-1234-abc123", "support_closed"]
)
def test_names_are_kept(value: str) -> None:
    assert not looks_like_id(value)
    assert Bounded()(value) == value


def test_odd_values_and_the_long_tail_become_other() -> None:
    bounded = Bounded(limit=3)
    assert [bounded(v) for v in ("a", "b", "c", "d", "a")] == ["a", "b", "c", OTHER, "a"]
    assert [bounded(v) for v in ("", "x y", "é", "1abc", "x" * 60)] == [OTHER] * 5


def test_each_ended_call_gets_its_equal_share_of_the_cpu() -> None:
    m = Metrics("n")
    first = m.cpu_mark()
    m.share_cpu(0.4, live_calls=2, elapsed=1.0)  # two calls: 0.2 s each
    second = m.cpu_mark()
    m.share_cpu(0.3, live_calls=3, elapsed=1.0)  # a third joined: 0.1 s each
    m.call_ended("caller_hangup", 2.0, first)  # 0.3 s over 2 s
    m.call_ended("agent_hangup", 1.0, second)  # 0.1 s over 1 s
    m.call_ended("ice_timeout", 0.5, second)  # too short to say anything about a call's cost
    assert m.registry.get_sample_value("contact_gateway_call_cpu_seconds_per_second_sum") == pytest.approx(0.25)
    text = generate_latest(m.registry).decode()
    assert "contact_gateway_call_seconds_total 5.0" in text
    assert 'contact_gateway_calls_ended_total{reason="ice_timeout"} 1.0' in text
    assert "contact_gateway_call_cpu_seconds_per_second_count 2.0" in text


def test_a_message_finds_its_labelled_counter_once_and_keeps_the_label_rules() -> None:
    """Every chat message is counted: the labelled counter of an (author, channel) is looked up once (its
    ``labels`` call checks and locks each time), each message still counted under its labels, an id-like value
    still ``other``."""
    metrics = Metrics()
    looked_up: list[tuple[str, ...]] = []
    labels = metrics.messages.labels

    def counting(*values: str) -> object:
        looked_up.append(values)
        return labels(*values)

    metrics.messages.labels = counting  # type: ignore[method-assign]
    for _ in range(100):
        metrics.message("customer")
        metrics.message("agent")
    metrics.message("c_3f9a0b1c2d3e4f50", "voice")
    assert looked_up == [("customer", "chat"), ("agent", "chat"), (OTHER, "voice")]
    text = generate_latest(metrics.registry).decode()
    assert 'contact_gateway_messages_total{author="customer",channel="chat"} 100.0' in text
    assert 'contact_gateway_messages_total{author="agent",channel="chat"} 100.0' in text
    assert f'contact_gateway_messages_total{{author="{OTHER}",channel="voice"}} 1.0' in text
