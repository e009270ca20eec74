"""Server frames: what the gateway sends on the customer and agent sockets."""

from __future__ import annotations

from enum import StrEnum


class ServerFrame(StrEnum):
    WELCOME = "welcome"
    EVENT = "event"
    ACK = "ack"
    TYPING = "typing"
    QUEUE = "queue"
    ERROR = "error"
    HISTORY = "history"
    AGENT = "agent"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    CALL_ANSWER = "call_answer"
    CALL_STATUS = "call_status"
