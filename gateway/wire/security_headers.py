"""Security headers on every response (an ``on_response_prepare`` hook, so errors and static files get them too).

- Everywhere: ``X-Content-Type-Options: nosniff``; text types say ``charset=utf-8``.
- HTML pages: a Content-Security-Policy. The agent desk (and any other page) runs only script files
  from this origin (no inline script, no inline style, no ``eval``) and may not be framed. The demo
  shop (``/``) may not be framed either and runs no inline script; it keeps inline styles (its own
  ``<style>`` and the widget's, which the widget injects into its shadow root).
  ``Referrer-Policy``: the desk sends none, the demo page only its origin to other sites.
- ``/api/...``: ``Cache-Control: no-store`` unless the handler chose one (tokens, calls, recordings).
- ``Server: contact-gateway``: aiohttp's default named the Python and aiohttp versions, a map of which known flaws
  to try (a security tester's finding).
"""

from __future__ import annotations

from aiohttp import web

_COMMON = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

#: The agent desk and every HTML page but the demo shop.
DESK_CSP = _COMMON + "; style-src 'self'"
#: The demo shop: inline styles allowed (the page's own and the widget's injected <style>).
DEMO_CSP = _COMMON + "; style-src 'self' 'unsafe-inline'"

DEMO_PAGE = "/"
SERVER = "contact-gateway"
_TEXT_TYPES = ("text/", "application/javascript", "application/json")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Server"] = SERVER
    headers.setdefault("X-Content-Type-Options", "nosniff")
    content_type = headers.get("Content-Type", "")
    if content_type.startswith(_TEXT_TYPES) and "charset=" not in content_type:
        headers["Content-Type"] = content_type + "; charset=utf-8"
    if content_type.startswith("text/html"):
        demo = request.path == DEMO_PAGE
        headers.setdefault("Content-Security-Policy", DEMO_CSP if demo else DESK_CSP)
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers without CSP level 2
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin" if demo else "no-referrer")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")


def install(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
