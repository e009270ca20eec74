"""Dispositions: the codes agents close conversations with ("resolved", "follow-up", ...), a list an admin keeps.

An agent's close names one (the ``close`` frame's ``disposition``, the after-call bar's **Close**); the reports
count closes by it (dimension ``disposition``). The list is one of the center's code lists
(gateway/contact/code_lists.py: Redis ``P:center`` ``dispositions``, versioned); a store where no admin wrote one
has the node's ``--dispositions``, each labelled from its code ("follow-up": "Follow up").

The gateway closes conversations with dispositions of its own (:data:`GATEWAY_DISPOSITIONS`: the customer left or
ended the chat, the agent left a call's conversation, an erasure): no code of the list may take one of those names,
and an agent cannot close with one. A code taken off the list stays on the conversations closed with it, and in
past reports.
"""

from __future__ import annotations

from gateway.contact.code_lists import CenterCodes, Code, CodeKind, label_of, parse_codes
from gateway.errors import BadRequest, ConfigError
from gateway.store.store import Store

#: What the gateway closes conversations with itself (gateway/contact/conversations.py abandon, chat_end, handover,
#: gateway/ops/erasure.py).
GATEWAY_DISPOSITIONS = frozenset(
    {"abandoned", "customer_ended", "agent_left", "erased", "test_queued", "test_ended"}  # (test_*: admins' test runs)
)

DISPOSITIONS = CodeKind(
    field="dispositions",
    key="dispositions",
    noun="a disposition",
    reserved=GATEWAY_DISPOSITIONS,
    reserved_why="is a disposition the gateway closes conversations with itself",
)


class Dispositions(CenterCodes):
    def __init__(self, store: Store, defaults: tuple[str, ...]) -> None:
        """``defaults``: the node's ``--dispositions``, the list until an admin writes one; ConfigError when it breaks
        a list's rules (an agent could then close with a code the gateway keeps for itself)."""
        codes = tuple(Code(c, label_of(c)) for c in defaults)
        try:
            parse_codes(DISPOSITIONS, {DISPOSITIONS.key: [c.to_json() for c in codes]})
        except BadRequest as exc:
            raise ConfigError(f"--dispositions: {exc.message}", field="dispositions") from None
        super().__init__(DISPOSITIONS, store, codes)
