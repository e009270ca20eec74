"""One error hierarchy for the gateway.

Every error carries a stable machine ``code``, a human ``message`` and, where
one input field was at fault, the name of that ``field``. Each surface turns
it into its own shape in exactly one place: the WebSocket handlers into an
``error`` frame, the HTTP handlers into problem JSON, the CLI into exit 2.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from gateway.protocol.codes import ErrorCode


class GatewayError(Exception):
    code: ErrorCode = ErrorCode.ERROR
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, code: ErrorCode | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


class BadRequest(GatewayError):
    """The input itself is malformed: bad JSON, wrong type, missing field."""

    code = ErrorCode.BAD_REQUEST


class FrameTooLarge(BadRequest):
    code = ErrorCode.FRAME_TOO_LARGE


class Unauthorized(GatewayError):
    """No valid credentials: a forged, expired or missing token, a bad password."""

    code = ErrorCode.UNAUTHORIZED
    http_status = 401


class Forbidden(GatewayError):
    """Valid credentials that do not grant this: another customer's conversation."""

    code = ErrorCode.FORBIDDEN
    http_status = 403


class NotFound(GatewayError):
    code = ErrorCode.NOT_FOUND
    http_status = 404


class Conflict(GatewayError):
    """The request is well formed but the state does not allow it now."""

    code = ErrorCode.CONFLICT
    http_status = 409


class TooManyRequests(GatewayError):
    """Over a limit; ``retry_after`` (whole seconds, when known) says when to try again."""

    code = ErrorCode.RATE_LIMITED
    http_status = 429

    def __init__(
        self, message: str, *, field: str | None = None, code: ErrorCode | None = None, retry_after: int | None = None
    ):
        super().__init__(message, field=field, code=code)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


class InternalError(GatewayError):
    """An unexpected failure (a bug) while handling one request or frame. The client gets a generic message and
    a ``request_id``; the log has the traceback under the same id (logged once, where it was caught)."""

    code = ErrorCode.INTERNAL
    http_status = 500

    def __init__(self, request_id: str):
        super().__init__(f"something went wrong on our side; quote request id {request_id} if you report it")
        self.request_id = request_id

    @classmethod
    def logged(
        cls, exc: BaseException, logger: logging.Logger, where: str, extra: Mapping[str, str] | None = None
    ) -> InternalError:
        """Log ``exc`` once, with its traceback and a new request id, and return the error to answer with."""
        request_id = secrets.token_hex(6)
        logger.error(
            "unexpected %s in %s (request_id %s)",
            type(exc).__name__,
            where,
            request_id,
            exc_info=exc,
            extra={**(extra or {}), "request_id": request_id},
        )
        return cls(request_id)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "request_id": self.request_id}


class StoreUnavailable(GatewayError):
    """Redis did not answer (down, restarting, loading its data): nothing was done, the same request may be sent
    again after ``retry_after`` seconds. Not a bug: logged as a warning, without a traceback."""

    code = ErrorCode.STORE_UNAVAILABLE
    http_status = 503

    def __init__(
        self, message: str = "the gateway's store is unavailable for a moment; try again", *, retry_after: int = 1
    ):
        super().__init__(message)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class ConfigError(GatewayError):
    """A configuration file or setting is wrong; names the file and the entry."""

    code = ErrorCode.CONFIG_ERROR
