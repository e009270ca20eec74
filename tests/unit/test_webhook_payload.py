"""A webhook's body from a logged event: nobody is null in ``data`` as at the top level."""

from __future__ import annotations

import json

from gateway.ops.webhooks import WebhookEvent, payload
from gateway.store.event_log_store import LoggedEvent


def test_a_conversation_closed_without_an_agent_names_nobody_as_null() -> None:
    event = LoggedEvent("1-0", "c_1", "7", "closed", {"agent_id": "", "disposition": "abandoned"}, 0, "billing", "")
    body = json.loads(payload(event, WebhookEvent.CONVERSATION_CLOSED))
    assert (body["agent_id"], body["data"]) == (None, {"agent_id": None, "disposition": "abandoned"})
    served = LoggedEvent("2-0", "c_1", "8", "closed", {"agent_id": "ann", "disposition": "resolved"}, 0, "", "ann")
    assert json.loads(payload(served, WebhookEvent.CONVERSATION_CLOSED))["data"]["agent_id"] == "ann"
