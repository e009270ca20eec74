"""The customer's call slots: how many calls one customer, and one address, may hold at once on every node.

A slot is taken (:meth:`CallSlots.reserve`) when a customer's call is about to start, before any media, and
given back (:meth:`CallSlots.release`) when the call ends or never starts; beyond their share a caller is
refused with :class:`CallLimit` ("you are already on a call with us"), while other customers still get lines.
The slots live in Redis (:class:`~gateway.contact.limits.Limits`), shared by every node; this keeps, per call
of this node, the address its slot was taken for until the call is registered.
"""

from __future__ import annotations

import logging

from gateway.contact.limits import CallLimited, Limits
from gateway.errors import GatewayError
from gateway.metrics import Metrics
from gateway.protocol.codes import ErrorCode
from gateway.store.store import StoreError

log = logging.getLogger(__name__)


class LinesBusy(GatewayError):
    code = ErrorCode.LINES_BUSY
    http_status = 503


class CallLimit(LinesBusy):
    """This customer (or their address) already holds all the calls it may; other customers still get lines."""

    code = ErrorCode.CALL_LIMIT


class CallSlots:
    """Call slots of this node's callers (``limits`` None: no limits, every call gets one)."""

    def __init__(self, limits: Limits | None, metrics: Metrics) -> None:
        self.limits = limits
        self.metrics = metrics
        self._addresses: dict[str, str] = {}  # call id -> the caller's address, from reserve() to release()

    def address(self, call_id: str) -> str:
        """The address the call's slot was taken for ('' without one)."""
        return self._addresses.get(call_id, "")

    async def reserve(self, call_id: str, customer_id: str, address: str) -> None:
        """Take one of the customer's (and their address's) call slots, shared by every node; CallLimit if they
        hold all they may. :meth:`release` (the call's end does it) gives it back."""
        if self.limits is None:
            return
        self._addresses[call_id] = address
        try:
            await self.limits.acquire_call(call_id, customer_id, address)
        except CallLimited as exc:
            self._addresses.pop(call_id, None)
            self.metrics.call_refused(ErrorCode.CALL_LIMIT)
            if exc.which == "customer":
                raise CallLimit(
                    "You are already on a call with us. Please finish that call before starting another one."
                ) from None
            raise CallLimit(
                f"There are already {self.limits.config.calls_per_ip} calls from your network. Please "
                "keep chatting with us here, or call again when one of them has ended."
            ) from None

    async def release(self, call_id: str) -> None:
        """Give the call's slot back (a no-op when it holds none, or gave it back already)."""
        self._addresses.pop(call_id, None)
        if self.limits is None:
            return
        try:
            await self.limits.release_call(call_id)
        except StoreError as exc:
            log.warning("call slot of %s not released (it expires by itself): %s", call_id, exc)
