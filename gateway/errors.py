"""One error hierarchy for the gateway.

Every error carries a stable machine ``code``, a human ``message`` and, where
one input field was at fault, the name of that ``field``. Each surface turns
it into its own shape in exactly one place: the WebSocket handlers into an
``error`` frame, the HTTP handlers into problem JSON, the CLI into exit 2.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
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

    code = "bad_request"


class FrameTooLarge(BadRequest):
    code = "frame_too_large"


class Unauthorized(GatewayError):
    """No valid credentials: a forged, expired or missing token, a bad password."""

    code = "unauthorized"
    http_status = 401


class Forbidden(GatewayError):
    """Valid credentials that do not grant this: another customer's conversation."""

    code = "forbidden"
    http_status = 403


class NotFound(GatewayError):
    code = "not_found"
    http_status = 404


class Conflict(GatewayError):
    """The request is well formed but the state does not allow it now."""

    code = "conflict"
    http_status = 409


class TooManyRequests(GatewayError):
    code = "rate_limited"
    http_status = 429


class ConfigError(GatewayError):
    """A configuration file or setting is wrong; names the file and the entry."""

    code = "config_error"
