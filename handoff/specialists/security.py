"""Browser-facing defences of the service: security headers on every response, cross-site request refusal
(Origin/Referer) on every state-changing request, the console's CSRF token, and the WebSocket Origin check.

CSRF: a console session authenticated by its cookie must also send `X-CSRF-Token`, an HMAC of the session
token that only the console page learns (from `/api/console/login` or `/api/console/me`), so a page on
another site cannot forge it. A request that carries its session as `Authorization: Bearer` needs no CSRF
token: a browser never adds that header by itself, so a cross-site page cannot make one.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from fastapi import FastAPI, Request, WebSocket

from handoff.config import Settings
from handoff.conversations.frames import error_frame
from handoff.errors import error_response
from handoff.specialists.auth import SESSION_COOKIE
from handoff.specialists.origins import browser_origin, origin_allowed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CONSOLE_API = "/api/console/"
LOGIN_PATH = "/api/console/login"  # no session yet: the Origin check is its CSRF defence
WS_ORIGIN_REFUSED = 4403
_SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def csrf_token_for(session_token: str, secret: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def _has_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def allowed_origins_for(path: str, settings: Settings) -> tuple[str, ...]:
    """The console (API and socket) trusts only its own configured origins; the widget side the website's."""
    if path.startswith(CONSOLE_API) or path == "/ws/console":
        return settings.console_origin_list
    return settings.widget_origin_list


def refuse_unsafe_request(request: Request, settings: Settings):
    """An error response for a cross-site or CSRF-less state-changing request, else None."""
    origin = browser_origin(request.headers)
    if not origin_allowed(origin, host_header=request.headers.get("host", ""),
                          extra=allowed_origins_for(request.url.path, settings)):
        return error_response(403, "cross_site_request",
                              f"Requests from {(origin or '')[:100]} are not allowed here. "
                              "Open the page from this site.")
    session_cookie = request.cookies.get(SESSION_COOKIE)
    if (request.url.path.startswith(CONSOLE_API) and request.url.path != LOGIN_PATH and session_cookie
            and not _has_bearer(request)):
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(),
                                   csrf_token_for(session_cookie, settings.session_secret).encode()):
            return error_response(403, "csrf_failed", "This page's security token is missing or out of date. "
                                                      "Reload the page and try again.")
    return None


# A NUL character is valid JSON ("\u0000") and URL ("%00"), but PostgreSQL refuses it in text: refused first.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def refuse_nul_characters(request: Request):
    """A clear 422 for a NUL character anywhere in the path, query or JSON body; else None."""
    query = request.scope.get("query_string", b"").lower()
    found = "\x00" in request.scope.get("path", "") or b"%00" in query or b"\x00" in query
    if not found and request.method not in SAFE_METHODS:
        body = await request.body()
        found = b"\x00" in body or bool(_JSON_NUL.search(body))
    if found:
        return error_response(422, "invalid_request", "Text may not contain NUL (\\u0000) characters.")
    return None


def security_headers(response, *, host: str, path: str, development: bool) -> None:
    ws_sources = f" ws://{host} wss://{host}" if _SAFE_HOST.match(host) else ""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{ws_sources}; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    if not development:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"


def install_http_security(app: FastAPI) -> None:
    @app.middleware("http")
    async def _guard(request: Request, call_next):
        settings: Settings = request.app.state.settings
        refusal = refuse_unsafe_request(request, settings) if request.method not in SAFE_METHODS else None
        refusal = refusal or await refuse_nul_characters(request)
        response = refusal or await call_next(request)
        security_headers(response, host=request.headers.get("host", ""), path=request.url.path,
                         development=settings.is_development)
        return response


async def refuse_cross_site_socket(websocket: WebSocket, settings: Settings) -> bool:
    """Close a WebSocket opened by a page of another site (code 4403, the reason says why); True if closed."""
    origin = websocket.headers.get("origin")
    if origin_allowed(origin, host_header=websocket.headers.get("host", ""),
                      extra=allowed_origins_for(websocket.url.path, settings)):
        return False
    await websocket.accept()
    await websocket.send_json(error_frame(code="origin_not_allowed",
                                          message="This page is not allowed to open this connection."))
    await websocket.close(code=WS_ORIGIN_REFUSED, reason="origin not allowed")
    return True
