"""Browser-facing defences of the handoff service, against the running process: CSRF tokens, Origin checks on
requests and WebSockets, security headers, cookie flags, session expiry and the production secret rule."""

from __future__ import annotations

import asyncio
import json
import re
from html.parser import HTMLParser

import httpx
import pytest
import websockets

from handoff.specialists.security import SAFE_METHODS
from tests.handoff.access_support import app_routes, cookie_session, queued_chat, refused_socket, signed_in
from tests.handoff.conftest import HandoffProcess, Widget, customer_token

EVIL = "https://evil.example"
PAGES = ["/", "/console"]
DANA_LOGIN = {"username": "dana", "password": "dana-demo-pass"}


def access(case: str, expected: str):
    return pytest.mark.trust_case(area="access", case=case, expected=expected)


def unsafe_console_routes() -> list[tuple[str, str]]:
    """Every state-changing console/training route of the app (read from FastAPI, so new ones are
    included)."""
    return [(method, path.replace("{conversation_id}", "no-such-chat")) for method, path in app_routes()
            if method not in SAFE_METHODS | {"WS", "MOUNT"} and path.startswith("/api/console/")]


# -- CSRF ----------------------------------------------------------------------------------------------

@access("Console change with the session cookie but no CSRF token (every POST/PUT/DELETE route)",
        "403 csrf_failed, nothing changed")
async def test_every_state_changing_console_route_refuses_a_cookie_without_the_csrf_token(handoff):
    routes = unsafe_console_routes()
    assert len(routes) >= 10 and ("POST", "/api/console/conversations/no-such-chat/settle") in routes
    client, csrf = await cookie_session(handoff, "sam")
    try:
        for method, path in routes:
            if path == "/api/console/login":
                continue  # no session yet: its CSRF defence is the Origin check (next tests)
            for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": csrf[:-1]}):
                answer = await client.request(method, path, json={}, headers=headers)
                assert answer.status_code == 403, (method, path, headers, answer.text)
                assert answer.json()["error"]["code"] == "csrf_failed"
                assert "Reload the page" in answer.json()["error"]["message"]
        # The refused logout did not end the session; with the token it does.
        assert (await client.get("/api/console/me")).status_code == 200
        assert (await client.post("/api/console/logout", headers={"X-CSRF-Token": csrf})).status_code == 200
        assert (await client.get("/api/console/me")).status_code == 401
    finally:
        await client.aclose()


@access("Console change with the session cookie and the page's CSRF token", "accepted (200)")
async def test_a_cookie_session_with_its_csrf_token_can_work(handoff):
    widget = await queued_chat(handoff)
    client, csrf = await cookie_session(handoff, "dana")
    try:
        me = (await client.get("/api/console/me")).json()
        assert me["username"] == "dana" and me["csrf_token"] == csrf  # what the console page reads on reload
        path = f"/api/console/conversations/{widget.conversation_id}/claim"
        assert (await client.post(path)).status_code == 403
        claimed = await client.post(path, headers={"X-CSRF-Token": csrf})
        assert claimed.status_code == 200 and claimed.json()["assigned_to"] == "dana"
        # Another session's token is not this session's token.
        other, other_csrf = await cookie_session(handoff, "sam")
        await other.aclose()
        assert other_csrf != csrf
        refused = await client.post(f"/api/console/conversations/{widget.conversation_id}/release",
                                    headers={"X-CSRF-Token": other_csrf})
        assert refused.status_code == 403
    finally:
        await client.aclose()
    await widget.close()


@access("Console change with the session as a bearer header (not a browser's automatic credential)",
        "no CSRF token needed")
async def test_a_bearer_session_needs_no_csrf_token(handoff):
    widget = await queued_chat(handoff)
    dana = await signed_in(handoff, "dana")
    assert (await dana.post(f"/api/console/conversations/{widget.conversation_id}/claim")).status_code == 200
    await dana.close()
    await widget.close()


# -- Origin / Referer on requests -------------------------------------------------------------------------

@access("Sign-in or console change posted by a page on another site (Origin or Referer)",
        "403 cross_site_request, no session")
async def test_cross_site_origin_or_referer_is_refused_even_with_a_valid_token(handoff):
    login = DANA_LOGIN
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        for headers in ({"Origin": EVIL}, {"Referer": EVIL + "/phish"}, {"Origin": "null"},
                        {"Origin": handoff.url.replace("127.0.0.1", "localhost")}):
            answer = await client.post("/api/console/login", json=login, headers=headers)
            assert answer.status_code == 403, headers
            assert answer.json()["error"]["code"] == "cross_site_request"
            assert "not allowed" in answer.json()["error"]["message"]
            assert "handoff_session" not in answer.headers.get("set-cookie", "")
        same_site = await client.post("/api/console/login", json=login, headers={"Origin": handoff.url})
        assert same_site.status_code == 200
        csrf = same_site.json()["csrf_token"]
        forged = await client.post("/api/console/logout", headers={"Origin": EVIL, "X-CSRF-Token": csrf})
        assert forged.status_code == 403
        assert (await client.get("/api/console/me")).status_code == 200
        demo = await client.post("/demo/token", json={"customer_id": 1}, headers={"Origin": EVIL})
        assert demo.status_code == 403


@access("Console hosted under another configured name (HANDOFF_CONSOLE_ORIGINS)", "that origin accepted")
async def test_configured_console_origin_is_accepted(make_handoff):
    handoff = make_handoff(extra_env={"HANDOFF_CONSOLE_ORIGINS": "https://console.acme.example"})
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        login = DANA_LOGIN
        ok = await client.post("/api/console/login", json=login, headers={"Origin": "https://console.acme.example"})
        assert ok.status_code == 200
        refused = await client.post("/api/console/login", json=login, headers={"Origin": "https://www.acme.example"})
        assert refused.status_code == 403


# -- WebSocket Origin ---------------------------------------------------------------------------------------

@access("WebSocket (/ws/chat, /ws/console) opened by a page on another site",
        "closed 4403 'origin not allowed' before any data")
async def test_cross_site_websockets_are_closed_with_4403(handoff):
    dana = await signed_in(handoff, "dana")
    for url in (f"{handoff.ws_url}/ws/chat?token={customer_token(1, 'Alice')}",
                f"{handoff.ws_url}/ws/console?token={dana.token}"):
        frames, code, reason = await refused_socket(url, origin=EVIL)
        assert (code, reason) == (4403, "origin not allowed"), url
        assert frames == [{"type": "error", "code": "origin_not_allowed",
                           "message": "This page is not allowed to open this connection."}]
    # The service's own pages may connect.
    widget = Widget(handoff.ws_url, customer_token(1, "Alice"))
    widget.socket = await websockets.connect(widget.url, origin=handoff.url)
    await widget.socket.send(json.dumps({"type": "hello", "conversation_id": None, "last_seq": 0}))
    assert (await widget.wait_for(lambda f: f["type"] == "welcome"))["customer"] == {"first_name": "Alice"}
    await widget.close()
    dana.socket = await websockets.connect(
        f"{handoff.ws_url}/ws/console?token={dana.token}", origin=handoff.url
    )
    assert (await dana.wait_for(lambda f: f["type"] == "hello"))["user"]["username"] == "dana"
    await dana.close()


@access("Widget embedded on the company website (HANDOFF_WIDGET_ORIGINS)",
        "that origin may open /ws/chat, not /ws/console")
async def test_configured_widget_origin_opens_the_chat_but_not_the_console(make_handoff):
    website = "https://www.acme.example"
    handoff = make_handoff(extra_env={"HANDOFF_WIDGET_ORIGINS": website})
    widget = Widget(handoff.ws_url)
    widget.socket = await websockets.connect(widget.url, origin=website)
    await widget.socket.send(json.dumps({"type": "hello", "conversation_id": None, "last_seq": 0}))
    await widget.wait_for(lambda f: f["type"] == "welcome")
    await widget.close()
    dana = await signed_in(handoff, "dana")
    _frames, code, _reason = await refused_socket(
        f"{handoff.ws_url}/ws/console?token={dana.token}", origin=website
    )
    assert code == 4403
    await dana.close()


# -- headers and pages -----------------------------------------------------------------------------------

class ScriptAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.inline_bodies: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.handlers += [f"{tag} {name}" for name in attributes if name.lower().startswith("on")]
        self.handlers += [f"{tag} {name}" for name, value in attributes.items()
                          if value and value.strip().lower().startswith("javascript:")]
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_bodies.append(data.strip()[:80])


def assert_security_headers(response: httpx.Response) -> None:
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"]
    assert "unsafe-inline" not in csp["default-src"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


@access("Pages framed, sniffed or running injected inline script",
        "strict CSP (script-src 'self', no unsafe-inline), X-Frame-Options DENY, nosniff, Referrer-Policy")
async def test_every_page_and_answer_carries_the_security_headers_and_pages_have_no_inline_script(handoff):
    dana = await signed_in(handoff, "dana")
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        for page in PAGES:
            answer = await client.get(page)
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
            assert_security_headers(answer)
            audit = ScriptAudit()
            audit.feed(answer.text)
            assert audit.scripts and all(s.get("src", "").startswith("/static/") for s in audit.scripts), page
            assert audit.inline_bodies == [] and audit.handlers == [], page
        others = [
            await client.get("/health"), await client.get("/static/console.js"), await client.get("/nope"),
            await client.get("/api/console/me"), await client.post("/api/console/login", json={}),
            await client.post("/api/console/login", json={}, headers={"Origin": EVIL}),
            await dana.http.get("/api/console/queue"),
        ]
        for answer in others:
            assert_security_headers(answer)
        assert [a.status_code for a in others] == [200, 200, 404, 401, 422, 403, 200]
        assert others[-1].headers["cache-control"] == "no-store"  # customer data never cached
        # Swagger UI needs inline script and a CDN: not served. The OpenAPI document is.
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/redoc")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200
    await dana.close()


def cookie_attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")]
    return {p.split("=", 1)[0].lower(): [*p.split("=", 1), ""][1] for p in parts[1:]}


@access(
    "Session cookie readable by script or sent cross-site",
    "HttpOnly; SameSite=Strict; Path=/; not Secure in development",
)
async def test_session_cookie_flags_in_development(handoff):
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        answer = await client.post("/api/console/login", json=DANA_LOGIN)
    assert answer.headers["set-cookie"].startswith("handoff_session=")
    attributes = cookie_attributes(answer.headers["set-cookie"])
    assert "httponly" in attributes and attributes["samesite"] == "strict" and attributes["path"] == "/"
    assert attributes["max-age"] == str(12 * 3600)
    assert "secure" not in attributes  # plain http on a developer's machine
    assert "strict-transport-security" not in answer.headers


PRODUCTION_SECRETS = {
    "APP_ENV": "production", "HANDOFF_API_TOKEN": "prod-handoff-token-1234567890",
    "CUSTOMER_JWT_SECRET": "prod-customer-jwt-secret-1234567890",
    "RASA_AUTH_TOKEN": "prod-rasa-token-1234567890", "BACKEND_API_TOKEN": "prod-backend-token-1234567890",
    "HANDOFF_SESSION_SECRET": "prod-session-secret-1234567890",
    "RASA_CHANNEL_TOKEN": "prod-rasa-channel-token-1234567890",
    "IDENTITY_ASSERTION_SECRET": "prod-identity-assertion-secret-1234567890",
    "EMAIL_INBOUND_SECRET": "prod-email-inbound-secret-1234567890",
    "EMAIL_REPLY_SECRET": "prod-email-reply-secret-1234567890",
}


@pytest.fixture
def production_handoff(stand_in, tmp_path):
    """Migrated and seeded as development (seed-demo refuses production), then started with
    APP_ENV=production."""
    handoff = HandoffProcess(
        database_url=f"sqlite:///{tmp_path / 'prod.db'}", stand_in=stand_in, workdir=tmp_path
    )
    handoff.cli("migrate")
    handoff.cli("seed-demo")
    handoff.env.update(PRODUCTION_SECRETS)
    yield handoff.start()
    handoff.stop()


@access("Session cookie outside development", "Secure added; HSTS header")
async def test_session_cookie_is_secure_outside_development(production_handoff):
    async with httpx.AsyncClient(base_url=production_handoff.url) as client:
        answer = await client.post("/api/console/login", json=DANA_LOGIN)
        assert answer.status_code == 200
        attributes = cookie_attributes(answer.headers["set-cookie"])
        assert "secure" in attributes and "httponly" in attributes and attributes["samesite"] == "strict"
        assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
        # the demo sign-in is development-only
        assert (await client.get("/demo/customers")).status_code == 404


@access("Handoff started outside development with development secrets",
        "refuses to start, naming every default secret")
def test_handoff_refuses_to_start_with_development_secrets(stand_in, tmp_path):
    handoff = HandoffProcess(
        database_url=f"sqlite:///{tmp_path / 'h.db'}", stand_in=stand_in, workdir=tmp_path
    )
    secret_names = ("HANDOFF_API_TOKEN", "CUSTOMER_JWT_SECRET", "RASA_AUTH_TOKEN", "BACKEND_API_TOKEN",
                    "HANDOFF_SESSION_SECRET", "RASA_CHANNEL_TOKEN", "IDENTITY_ASSERTION_SECRET")
    handoff.env = {k: v for k, v in handoff.env.items() if k not in secret_names}
    handoff.env["APP_ENV"] = "production"
    log = tmp_path / f"handoff-{handoff.port}.log"
    with pytest.raises(RuntimeError, match="handoff exited"):
        handoff.start()
    message = log.read_text()
    assert "APP_ENV is not development but these secrets" in message and "development defaults" in message
    for name in ("api_token", "customer_jwt_secret", "rasa_auth_token", "backend_api_token", "session_secret",
                 "rasa_channel_token", "identity_assertion_secret", "email_inbound_secret",
                 "email_reply_secret"):
        assert name in message
    # One default left is enough to refuse.
    handoff.env.update({**PRODUCTION_SECRETS, "HANDOFF_SESSION_SECRET": "dev-handoff-session-secret"})
    log.write_text("")
    with pytest.raises(RuntimeError, match="handoff exited"):
        handoff.start()
    named = re.search(r"development defaults(?: or placeholders)?: ([a-z_, ]+?) \[", log.read_text())
    assert named and named.group(1) == "session_secret"


def test_a_malformed_allowed_origin_is_refused_at_start():
    from handoff.config import Settings

    with pytest.raises(ValueError, match=r"HANDOFF_WIDGET_ORIGINS: 'www\.acme\.example' is not an origin"):
        Settings(HANDOFF_WIDGET_ORIGINS="https://ok.example, www.acme.example")
    assert Settings(HANDOFF_CONSOLE_ORIGINS="HTTPS://Console.Example:443/").console_origin_list == (
        "https://console.example",)


# -- session expiry ----------------------------------------------------------------------------------------

@access("Staff session left idle longer than HANDOFF_SESSION_IDLE_MINUTES",
        "401 on the API; the open console socket closed 4401 at its next ping")
async def test_an_idle_session_expires_but_activity_keeps_it_alive(make_handoff):
    handoff = make_handoff(extra_env={"HANDOFF_SESSION_IDLE_MINUTES": "0.1"})  # 6 seconds
    dana = await signed_in(handoff, "dana")
    await dana.open_socket()
    for _ in range(8):  # 8 seconds of activity, longer than the idle limit
        assert (await dana.http.get("/api/console/me")).status_code == 200
        await asyncio.sleep(1)
    await asyncio.sleep(7)
    expired = await dana.http.get("/api/console/me")
    assert expired.status_code == 401 and expired.json()["error"]["message"] == "Please log in."
    await dana.socket.send(json.dumps({"type": "ping"}))
    error = await dana.wait_for(lambda f: f["type"] == "error")
    assert error["code"] == "unauthorized"
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await dana.socket.recv()
    assert closed.value.rcvd.code == 4401
    await dana.close()


@access("Staff session older than HANDOFF_SESSION_HOURS although in use", "401; cookie Max-Age matches")
async def test_a_busy_session_still_ends_at_its_absolute_lifetime(make_handoff):
    handoff = make_handoff(extra_env={"HANDOFF_SESSION_HOURS": str(6 / 3600)})  # 6 seconds
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        login = await client.post("/api/console/login", json=DANA_LOGIN)
        assert cookie_attributes(login.headers["set-cookie"])["max-age"] == "6"
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        answers = []
        for _ in range(30):
            answers.append((await client.get("/api/console/me", headers=headers)).status_code)
            if answers[-1] != 200:
                break
            await asyncio.sleep(1)
    assert answers[0] == 200 and answers[-1] == 401, answers
    assert set(answers) == {200, 401} and answers.index(401) == len(answers) - 1
