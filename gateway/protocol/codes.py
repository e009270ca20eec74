"""Every error ``code`` the gateway sends: in WebSocket ``error`` frames, HTTP problem JSON, and as the ``reason``
of a refused call (``lines_busy``, ``call_limit``). ``docs/protocol.md`` lists each one ("Error codes");
``tests/unit/test_protocol_docs.py`` holds the two together."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # malformed input
    BAD_REQUEST = "bad_request"
    BAD_JSON = "bad_json"
    FRAME_TOO_LARGE = "frame_too_large"
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"
    UNKNOWN_TYPE = "unknown_type"
    HELLO_REQUIRED = "hello_required"
    # SDP offers (media/sdp_offer.py names them too)
    BAD_SDP = "bad_sdp"
    NO_AUDIO = "no_audio"
    # credentials
    UNAUTHORIZED = "unauthorized"
    TOKEN_EXPIRED = "token_expired"
    CUSTOMER_TOKEN_INVALID = "customer_token_invalid"
    SESSION_REVOKED = "session_revoked"
    FORBIDDEN = "forbidden"
    # state
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    WEAK_PASSWORD = "weak_password"  # under the minimum length, or in the bundled list of breached passwords
    PASSWORD_CHANGE_REQUIRED = "password_change_required"  # a one-time password: change it before logging in
    AGENT_DISABLED = "agent_disabled"  # an admin disabled the agent: the right password logs nobody in
    FLOW_MISSING = "flow_missing"
    ALREADY_ANSWERED = "already_answered"
    NOT_RINGING = "not_ringing"
    NOT_CONNECTED = "not_connected"
    CALL_IN_PROGRESS = "call_in_progress"  # closing a conversation whose call rings for or is connected to you
    ALREADY_MONITORING = "already_monitoring"
    NOT_MONITORING = "not_monitoring"
    NOT_YOUR_CALL = "not_your_call"  # call_ice for a call that neither rings for the agent nor is theirs to join
    NOT_CONSULTING = "not_consulting"
    CONSULT_BUSY = "consult_busy"
    TRANSFER_REFUSED = "transfer_refused"
    CALLBACK_CLOSED = "callback_closed"
    TIMELINE_FULL = "timeline_full"
    ALREADY_RATED = "already_rated"  # a conversation is rated once: a second rating is refused
    QUEUE_IN_USE = "queue_in_use"  # a queue a flow (or another queue) still names cannot be deleted: 409
    RTC_PORTS_EXHAUSTED = "rtc_ports_exhausted"  # media/aiortc_patches.py: no UDP port left for a call leg
    BAD_FLOW = "bad_flow"  # a flow version that does not load, or may not be published (``errors`` lists why)
    STALE_VERSION = "stale_version"  # a flow or queue saved over a newer version (a flow's: ``current``, ``diff``)
    FLOW_NOT_PUBLISHED = "flow_not_published"  # a flow chosen to answer calls or chats has no published version
    # limits
    RATE_LIMITED = "rate_limited"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    LINES_BUSY = "lines_busy"
    CALL_LIMIT = "call_limit"
    # the gateway's own failure
    INTERNAL = "internal"
    STORE_UNAVAILABLE = "store_unavailable"  # Redis is down or loading: nothing was stored; try again shortly
    ERROR = "error"  # a GatewayError that names no better code (none is raised today)
    CONFIG_ERROR = "config_error"  # the CLI's exit 2; never on the wire
    DESTINATION_NOT_ALLOWED = "destination_not_allowed"  # a flow webhook's URL refused; logged, never on the wire

    @classmethod
    def of(cls, value: object) -> ErrorCode:
        """A code another node sent (a bus reply): the member, or ERROR for anything this node does not know."""
        if isinstance(value, str) and value in cls._value2member_map_:
            return cls(value)
        return cls.ERROR


# Codes of errors that never leave the process: the CLI's exit 2 and a refused webhook destination (logged).
NEVER_SENT = frozenset({ErrorCode.CONFIG_ERROR, ErrorCode.DESTINATION_NOT_ALLOWED})
