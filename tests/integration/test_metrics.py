"""``/metrics`` on a real node: a chat and a real aiortc call through the IVR move the counters by what happened.

Every scrape is parsed with ``prometheus_client``'s own parser. Gauges read from Redis are cached for a second
on the node, so a check of them waits (with a generous bound) for the scrape that shows them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import Settings
from gateway.flows.webhooks import call_webhook, webhook_session
from gateway.metrics import Metrics, looks_like_id
from gateway.protocol.states import CallStatus
from ivr.actions import CallWebhook
from media.audio import Audio
from media.tts import Synthesizer
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.servers import Node, free_port, start_node
from tests.support.softphone import Softphone

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(node: Node, headers: dict[str, str] | None = None) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(node.url + "/metrics", headers=headers) as r:
        assert r.status == 200, await r.text()
        assert r.headers["Content-Type"].startswith("text/plain")
        return parse(await r.text())


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series not exposed (yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def until(node: Node, check: Callable[[Samples], bool], what: str, seconds: float = 20) -> Samples:
    """Scrape until ``check`` holds (the shared gauges are re-read from Redis at most once a second)."""
    samples = await scrape(node)
    try:
        async with asyncio.timeout(seconds):
            while not check(samples):
                await asyncio.sleep(0.2)
                samples = await scrape(node)
    except TimeoutError:
        shown = {k: v for k, v in samples.items() if k[0].startswith("contact_gateway_")}
        pytest.fail(f"{what}: not seen in {seconds} s; last scrape: {shown}")
    return samples


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], object]:
    synth = Synthesizer(cache_dir=tmp_path_factory.mktemp("tts"))

    async def say(text: str) -> Audio:
        return await synth.synthesize(text, voice="en-us", rate_wpm=150)

    return say


async def test_a_chat_and_a_call_through_the_ivr_move_the_counters(clients: Clients, node: Node, speak) -> None:  # type: ignore[no-untyped-def]
    before = await scrape(node)
    assert value(before, "contact_gateway_node_info", node=node.services.settings.node_id, version="0.1.0") == 1
    assert value(before, "process_cpu_seconds_total") > 0  # the process collector is on the node's registry
    assert value(before, "contact_gateway_recording_dropped_seconds_total") == 0  # scraped before any recording

    # a chat: the customer writes while no agent is there (it waits in the default queue), then alice comes
    chat = clients.customer()
    await chat.hello()
    ack = await chat.say("Hi, where is my order?")
    waiting = await until(
        node,
        lambda s: (
            value(s, "contact_gateway_queue_waiting", queue="default") == 1
            and value(s, "contact_gateway_sockets_open", kind="customer") == 1
        ),
        "the chat waiting in the default queue",
    )
    assert value(waiting, "contact_gateway_queue_oldest_wait_seconds", queue="default") >= 0
    alice = clients.agent("alice")
    await alice.hello()
    conv = await alice.assigned()
    assert conv["id"] == ack["conversation_id"]
    await alice.say(conv["id"], "Let me check.")
    await chat.event("message", lambda e: e["author"] == "agent")
    await node.services.callbacks.request(conv["id"], queue="default", due=None, label="call me", attempts=1)
    chatted = await until(
        node,
        lambda s: (
            value(s, "contact_gateway_queue_waiting", queue="default") == 0
            and value(s, "contact_gateway_sockets_open", kind="agent") == 1
        ),
        "the chat assigned",
    )
    assert moved(before, chatted, "contact_gateway_messages_total", author="customer", channel="chat") == 1
    assert moved(before, chatted, "contact_gateway_messages_total", author="agent", channel="chat") == 1
    assert moved(before, chatted, "contact_gateway_routing_assignments_total", queue="default") == 1
    assert moved(before, chatted, "contact_gateway_callbacks_booked_total") == 1

    # a call: the IVR greets, the caller says "billing", it queues for billing and alice answers
    customer = clients.customer()
    await customer.hello()
    caller = Caller(customer)
    phone = Softphone(alice)
    try:
        await caller.dial()
        await caller.status(CallStatus.IVR)
        in_ivr = await scrape(node)
        assert value(in_ivr, "contact_gateway_calls_active") == 1
        assert value(in_ivr, "contact_gateway_ivr_sessions_active") == 1
        assert moved(before, in_ivr, "contact_gateway_calls_offered_total") == 1
        await caller.heard_prompt()  # the greeting
        await caller.heard_prompt(after=caller.recorded_seconds())  # the whole menu
        await caller.say(await speak("billing"))
        ring = await phone.ringing()
        await phone.answer(ring["call_id"])
        await caller.status(CallStatus.CONNECTED)
        bridged = await scrape(node)
        assert value(bridged, "contact_gateway_calls_bridged") == 1
        assert value(bridged, "contact_gateway_ivr_sessions_active") == 0
        assert value(bridged, "contact_gateway_agent_legs", kind="agent") == 1
        assert moved(before, bridged, "contact_gateway_routing_assignments_total", queue="billing") == 1
        assert moved(before, bridged, "contact_gateway_speech_decodes_total", outcome="recognized") == 1
        assert moved(before, bridged, "contact_gateway_speech_decode_seconds_count") == 1
        assert value(bridged, "contact_gateway_prompt_frames_sent_total") > 50  # the greeting and the menu
        # the bridge relays Opus packets untouched (--bridge-relay), most from the receive path at once
        relaying = await until(
            node,
            lambda s: value(s, "contact_gateway_bridge_relayed_at_once_total") >= 25,
            "half a second of packets relayed at once",
        )
        assert value(relaying, "contact_gateway_bridge_relayed_packets_total") >= 25
        assert ("contact_gateway_bridge_relay_dropped_total", ()) in relaying  # exposed (0 unless a leg fell behind)
        await asyncio.sleep(1.0)  # a call of a second at least has a CPU figure
        await caller.hangup()
        await caller.status(CallStatus.ENDED)
    finally:
        await phone.close()
        await caller.close()
    after = await until(node, lambda s: value(s, "contact_gateway_calls_active") == 0, "the call gone")
    assert moved(before, after, "contact_gateway_calls_ended_total", reason="caller_hangup") == 1
    assert moved(before, after, "contact_gateway_call_duration_seconds_count") == 1
    assert moved(before, after, "contact_gateway_call_cpu_seconds_per_second_count") == 1
    assert 0 < moved(before, after, "contact_gateway_call_cpu_seconds_per_second_sum") < 4  # CPU s per call s
    assert moved(before, after, "contact_gateway_call_seconds_total") > 1
    assert value(after, "contact_gateway_agent_legs", kind="agent") == 0
    assert value(after, "contact_gateway_event_loop_lag_seconds_count") > 0
    assert sum(value(after, "contact_gateway_callbacks", state=s) for s in ("scheduled", "queued", "delivering")) == 1
    for name in ("outbox_due", "gave_up_total", "dropped_total"):  # exposed (at 0: no subscription, nothing waits)
        assert after[(f"contact_gateway_event_webhook_{name}", ())] == 0
    assert after[("contact_gateway_event_webhook_deliveries_total", (("outcome", "gave_up"),))] == 0

    # no label holds an id: not the ids of this test's customers, conversations, call and agents, nor any id-like
    ids = {chat.customer_id, customer.customer_id, conv["id"], caller.conversation_id, caller.call_id, "alice"}
    labelled = {
        (name, label, v)
        for (name, labels), _ in after.items()
        for label, v in labels
        if name != "contact_gateway_node_info"
    }
    assert not [x for x in labelled if x[2] in ids or looks_like_id(x[2])], labelled

    # the dashboard is built on these names: each one it queries is in a real scrape
    names = {name for name, _ in after}
    used = set(re.findall(r"\b(?:contact_gateway|process|python)_[a-z0-9_]+", DASHBOARD.read_text(encoding="utf-8")))
    assert used and used <= names, sorted(used - names)


async def test_metrics_answer_loopback_only_without_a_token(node: Node) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(node.url + "/metrics") as r:
            assert r.status == 200
        # a local reverse proxy forwarding someone else: not loopback
        async with http.get(node.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}) as r:
            assert (r.status, (await r.json())["code"]) == (403, "forbidden")
        # a proxy that sets only X-Real-IP (or Via) forwards someone else too (an operator's finding: it was open)
        for header in ({"X-Real-IP": "203.0.113.9"}, {"Via": "1.1 nginx"}, {"X-Forwarded-Proto": "https"}):
            async with http.get(node.url + "/metrics", headers=header) as r:
                assert (r.status, (await r.json())["code"]) == (403, "forbidden"), header


async def test_with_a_token_metrics_need_it(settings: Settings) -> None:
    token = "scrape-token-0123456789"
    node = await start_node(replace(settings, metrics_token=token))
    try:
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": token}):
                async with http.get(node.url + "/metrics", headers=headers) as r:
                    assert (r.status, (await r.json())["code"]) == (401, "unauthorized"), headers
        samples = await scrape(node, {"Authorization": f"Bearer {token}"})
        assert value(samples, "contact_gateway_calls_active") == 0
    finally:
        await bounded(node.stop(), "stopping the gateway node")


async def test_webhook_latency_and_errors_are_counted_by_kind() -> None:
    """Against a real local HTTP server: an answer, a 500, a timeout, and an address the allow-list refuses."""

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"name": "Ann"})

    async def fails(request: web.Request) -> web.Response:
        return web.json_response({"error": "down"}, status=500)

    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/ok", ok)
    app.router.add_post("/fails", fails)
    app.router.add_post("/slow", slow)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    metrics = Metrics("test")
    try:
        async with webhook_session(allow=("127.0.0.1",)) as http:
            for path, timeout in (("ok", 2.0), ("fails", 2.0), ("slow", 0.3)):
                action = CallWebhook(url=f"http://127.0.0.1:{port}/{path}", method="POST", payload={}, timeout=timeout)
                await call_webhook(http, action, metrics)
        async with webhook_session() as http:  # loopback not allowed: refused before connecting
            action = CallWebhook(url=f"http://127.0.0.1:{port}/ok", method="POST", payload={}, timeout=2.0)
            await call_webhook(http, action, metrics)
    finally:
        release.set()
        await runner.cleanup()

    samples = parse(generate_latest(metrics.registry).decode())
    assert value(samples, "contact_gateway_webhook_duration_seconds_count") == 4
    errors = {
        k: value(samples, "contact_gateway_webhook_errors_total", kind=k) for k in ("http_5xx", "timeout", "refused")
    }
    assert errors == {"http_5xx": 1, "timeout": 1, "refused": 1}


def test_the_dashboard_is_valid_json_with_panels() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert board["title"] and board["panels"]
    assert all(t["expr"] for p in board["panels"] for t in p.get("targets", []))
